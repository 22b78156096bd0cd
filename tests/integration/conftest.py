"""Shared fixtures of the integration tests: one tiny embedded corpus per test run."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DNS_RECIPE = REPO / "recipes" / "DNS"
STOP_STAGE = {"Voicebank": 4, "WHAMR": 3}  # the last stage of each recipe's run.sh (assert_run_recorded)

# The argument parsing of the stand-in interpreters that run.sh is tested with (bash): OUT (the --output_folder's
# name, or the last two parts of --out), SCORES (--out), the --metrics and the systems evaluate.py would score.
STAND_IN_ARGS = """out=; scores=; key=; metrics=(); systems=()
for a in "$@"; do
  if [[ "$a" == --* ]]; then key=$a; continue; fi
  case "$key" in
    --output_folder) mkdir -p "$a"; out=${a##*/} ;;
    --out) scores=$a; out=$(basename "$(dirname "$a")")/${a##*/} ;;
    --metrics) metrics+=("$a") ;;
    --noisy) systems+=(unprocessed) ;;
    --baselines) systems+=("$a") ;;
    --est|--scored) systems+=("${a%%=*}") ;;
  esac
done
"""


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """Path of a tiny embedded corpus, built once per test run."""
    from maese.simulation.corpus import ensure_corpus

    return Path(ensure_corpus(tmp_path_factory.mktemp("corpus") / "embedded_tiny", "tiny"))


def run_recipe(args, cwd=DNS_RECIPE, launcher=None, timeout=600, env=None):
    """Run a recipe script with this interpreter, ``env`` added to the environment; fail the test if it fails."""
    cmd = (launcher or [sys.executable]) + [str(a) for a in args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return proc


def table_rows(results_md):
    """{system: [cell, ...]} of the first markdown table in a maese-score results.md."""
    rows = {}
    for line in Path(results_md).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in ("system", "---"):
            rows[cells[0]] = cells[1:]
    return rows


def cell_mean(cell):
    """The mean of a results.md cell (``mean ± half-width``, or ``mean``); NaN for ``-`` or text."""
    try:
        return float(cell.split(" ± ")[0])
    except ValueError:
        return math.nan


def assert_all_scored(results_md, systems, files, metrics):
    """The table of ``results_md`` has the rows ``systems`` in order, each with all ``files`` scored and a
    finite mean for each of its ``metrics`` columns (a system whose every file failed scoring fails here)."""
    rows = table_rows(results_md)
    assert list(rows) == list(systems), f"{results_md}: rows {list(rows)}, expected {list(systems)}"
    for system, cells in rows.items():
        assert cells[0] == f"{files}/{files}", f"{results_md} {system}: {cells}"
        means = [cell_mean(c) for c in cells[1:]]
        assert len(means) == metrics and all(math.isfinite(m) for m in means), f"{results_md} {system}: {cells}"


def load_recipe_module(recipe, name):
    """``recipes/<recipe>/<name>.py`` imported as ``<recipe>_<name>`` (every recipe has its own ``prepare``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"{recipe}_{name}", REPO / "recipes" / recipe / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_pretraining(save_folder):
    """A pre-training save/ folder holding a tiny (random) MAE checkpoint with a valid loss."""
    from speechbrain.utils.checkpoints import Checkpointer

    from maese.models.mae import SpectrogramMAE

    model = SpectrogramMAE.from_preset("tiny", patch_size=[16, 16])
    Checkpointer(save_folder, recoverables={"model": model}).save_checkpoint(meta={"loss": 1.0})
    return save_folder


def run_pairs_recipe(recipe, corpus, tmp_path, *options):
    """``recipes/<recipe>/run.sh --size tiny`` on ``corpus`` from a fake pre-training, into ``tmp_path/results``.

    Returns
    -------
    (results folder, completed process)
    """
    results = tmp_path / "results"
    args = ["run.sh", "--data_folder", corpus, "--size", "tiny", "--results", results,
            "--cache_folder", tmp_path / "cache", "--prep_folder", tmp_path / "prep",
            "--pretrained_folder", fake_pretraining(tmp_path / "pretrain" / "save"), *options, "--", "--device", "cpu"]
    env = {"PYTHON": sys.executable, "METRICS": "pesq stoi si_sdr"}
    return results, run_recipe(args, cwd=REPO / "recipes" / recipe, launcher=["bash"], env=env)


def assert_run_recorded(results, option):
    """A run.sh run left ``results/run.json`` with one entry: its command as typed (``option`` in it), a commit, the
    versions, the machine and, once done, the time of its stages (maese.runinfo)."""
    entries = json.loads((Path(results) / "run.json").read_text())["entries"]
    assert len(entries) == 1, entries
    entry = entries[0]
    assert entry["argv"][0].endswith("run.sh") and option in entry["argv"], entry
    assert entry["commit"] and entry["torch"] and entry["cpus"] >= 1, entry
    time = entry["time"]
    assert time["stages"] == f"1-{STOP_STAGE[Path(entry['cwd']).name]}" and time["seconds"] >= 0, entry
