"""recipes/DNS/run.sh end to end on the tiny corpus (all 7 stages, a re-run, paired fractions); the options'
plumbing and ablations.sh with a stand-in interpreter that only records its arguments."""

import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from conftest import DNS_RECIPE, STAND_IN_ARGS, assert_all_scored, run_recipe, table_rows

sys.path.insert(0, str(DNS_RECIPE))
from report import system_means  # noqa: E402

SPLITS = ("indomain", "ood")
TASK_INPUT = {"denoise": "noisy", "dereverb": "reverb"}
PEERS = ("rnnoise", "deepfilternet3")
BASELINES = {"denoise": ("spectral_gating", "wiener", *PEERS), "dereverb": ("wpe", *PEERS)}


def run_sh(*args):
    """``bash run.sh --size tiny ARGS`` with this interpreter -> (completed process, seconds)."""
    start = time.monotonic()
    proc = run_recipe(["run.sh", "--size", "tiny", "--python", sys.executable, *args], launcher=["bash"],
                      env={"METRICS": ""})  # tiny's default metrics
    return proc, time.monotonic() - start


def snapshot(root):
    """{relative path: mtime_ns} of every file under ``root``."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def stand_in_real_data(corpus, root):
    """A folder laid out like shared/data (see maese.realdata) from the corpus' clean speech, noise and RIRs."""
    clean = sorted((corpus / "clean").rglob("*.wav"))
    parts = {"ljspeech": clean[:2], "speechbrain/speech": clean[2:3],
             "speechbrain/noise": sorted((corpus / "noise").rglob("*.wav"))[:2],
             "speechbrain/rirs": sorted((corpus / "impulse_responses").rglob("*.wav"))[:1]}
    for folder, files in parts.items():
        assert files, folder
        (root / folder).mkdir(parents=True)
        for f in files:
            shutil.copy(f, root / folder / f.name)
    return root


@pytest.fixture(scope="module")
def pipeline(tiny_corpus, tmp_path_factory):
    """(results folder, corpus, real data, first run's output, seconds) of ``run.sh --size tiny`` on the test run's
    corpus, with a stand-in real-speech folder."""
    base = tmp_path_factory.mktemp("run_sh")
    results, real = base / "results", stand_in_real_data(tiny_corpus, base / "real_data")
    proc, seconds = run_sh("--results", results, "--corpus_folder", tiny_corpus, "--real_data", real)
    return results, tiny_corpus, real, proc.stdout + proc.stderr, seconds


def test_every_stage_writes_its_outputs(pipeline):
    results, corpus, _, output, _ = pipeline
    for stage in range(1, 8):
        assert f"stage {stage}: " in output
    assert "is complete; nothing to do" in output  # stage 1 checked the corpus it was given
    assert list((results / "pretrain" / "save").glob("CKPT*/model.ckpt"))
    assert (results / "prepared" / "pretrain_train.json").is_file()
    assert (results / "prepared" / "paired_clean_0.1.json").is_file()
    for task, noisy in TASK_INPUT.items():
        for system in ("finetune", "scratch"):
            run = results / f"{system}_{task}"
            assert (run / ".done").is_file() and list((run / "save").glob("CKPT*"))
            for split in SPLITS:
                inputs = sorted((corpus / "test_set" / split / task / noisy).glob("*.wav"))
                enhanced = sorted((run / "enhanced" / split / task).glob("*.wav"))
                assert inputs and [p.name for p in enhanced] == [p.name for p in inputs]
                assert [sf.info(p).frames for p in enhanced] == [sf.info(p).frames for p in inputs]
        real = results / "prepared" / "real_set" / task
        for system in ("finetune", "scratch"):  # the real-speech set, enhanced after training
            enhanced = sorted((results / f"{system}_{task}" / "enhanced" / "real" / task).glob("*.wav"))
            assert [p.name for p in enhanced] == [p.name for p in sorted((real / noisy).glob("*.wav"))] != []
        for split in (*SPLITS, "real"):
            assert_all_scored(results / "eval" / f"{split}_{task}" / "results.md",
                              ["unprocessed", *BASELINES[task], "mae", "scratch"], files=3, metrics=4)
    report = (results / "RESULTS.md").read_text()
    assert report.startswith("# DNS recipe, size tiny: results")
    titles = re.findall(r"^### (test_set/\S+)", report, flags=re.MULTILINE)
    assert titles == ["test_set/indomain/denoise", "test_set/indomain/dereverb", "test_set/ood/denoise",
                      "test_set/ood/dereverb"]
    assert re.findall(r"^### (real_set/\S+)", report, flags=re.MULTILINE) == ["real_set/denoise", "real_set/dereverb"]
    assert "3/3" in report and "dnsmos" not in report.lower()  # tiny's default metrics: no DNSMOS
    assert "Data efficiency" not in report  # one paired fraction: no table


def test_a_second_run_does_no_work_and_changes_nothing(pipeline):
    results, corpus, real, _, first = pipeline
    before = snapshot(results)
    proc, second = run_sh("--results", results, "--corpus_folder", corpus, "--real_data", real)
    output = proc.stdout + proc.stderr
    assert snapshot(results) == before
    for folder in ("pretrain", "finetune_denoise", "finetune_dereverb", "scratch_denoise", "scratch_dereverb"):
        assert f"{results / folder} is done" in output
    assert output.count("results.md exists; skipped") == 6 and "is up to date" in output
    assert "Going into epoch" not in output and "Beginning experiment" not in output
    print(f"run.sh --size tiny: first run {first:.0f} s, second run {second:.0f} s")


def test_paired_fractions_reuse_a_pretraining_and_report_a_data_efficiency_table(pipeline):
    results, corpus, _, _, _ = pipeline
    pretrained = results / "pretrain" / "save"
    run_sh("--results", results, "--corpus_folder", corpus, "--tag", "fractions", "--fractions", "0.05 0.1",
           "--pretrained_folder", pretrained, "--tasks", "denoise", "--stage", "2", "--real_data", "none")
    tagged = results / "fractions"
    assert not (tagged / "pretrain").exists()  # stage 2 reused the given pre-training
    assert sorted(p.name for p in tagged.iterdir()) == [
        "RESULTS.md", "classical", "eval", "finetune_denoise_p0.05", "finetune_denoise_p0.1", "run.json",
        "scratch_denoise_p0.05", "scratch_denoise_p0.1"]
    assert sorted(p.name for p in (tagged / "classical").iterdir()) == ["indomain_denoise", "ood_denoise"]  # once
    assert (results / "prepared" / "paired_clean_0.05.json").is_file()  # manifests shared with the untagged run
    for fraction in ("0.05", "0.1"):
        evals = tagged / "eval" / f"p{fraction}"
        assert sorted(p.name for p in evals.iterdir()) == ["indomain_denoise", "ood_denoise"]
        rows = table_rows(evals / "indomain_denoise" / "results.md")
        assert list(rows) == ["unprocessed", *BASELINES["denoise"], "mae", "scratch"]
        assert f"finetune_denoise_p{fraction}/enhanced" in (evals / "ood_denoise" / "results.md").read_text()
    report = (tagged / "RESULTS.md").read_text()
    assert report.startswith("# DNS recipe, size tiny, fractions: results")
    assert f"- pre-training: {pretrained}" in report
    table = report.split("## Data efficiency")[1].split("\n\n")[1].splitlines()
    assert table[0] == ("| paired fraction | indomain_denoise PESQ | indomain_denoise SI-SDR (dB) | "
                        "ood_denoise PESQ | ood_denoise SI-SDR (dB) |")
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")[1:]] for line in table[2:]}
    assert list(rows) == ["0.05", "0.1"]
    for fraction, cells in rows.items():
        split = tagged / "eval" / f"p{fraction}" / "ood_denoise"
        mae, scratch = system_means(split / "mae.csv"), system_means(split / "scratch.csv")
        assert cells[3] == f"{mae['si_sdr']:.2f} / {scratch['si_sdr']:.2f}"
        assert all(math.isfinite(float(v)) for cell in cells for v in cell.split(" / "))
    assert report.index("## Paired fraction 0.05") < report.index("## Paired fraction 0.1")
    assert report.count("### test_set/indomain/denoise") == 2


# ---- options and ablations.sh, with a stand-in interpreter (milliseconds) --------------------------------------

FAKE_PYTHON = """#!/usr/bin/env bash
# Records its arguments (one line, fields separated by \\x1f) and makes the --output_folder it is given; as
# evaluate.py, writes a results.md naming the --metrics and an empty CSV per system into its --out; as download.py,
# prints the --data_folder $FAKE_DATA_FOLDER.
printf '%s\\x1f' "$@" >> "$FAKE_LOG"; echo >> "$FAKE_LOG"
""" + STAND_IN_ARGS + """if [ -n "${FAKE_FAIL:-}" ] && [[ "$*" == *"$FAKE_FAIL"* ]]; then echo "fake failure of $FAKE_FAIL" >&2; exit 3; fi
if [ -n "$out" ]; then  # "start OUT" and "end OUT" lines in $FAKE_LOG.events, in the order they happen
  echo "start $out" >> "$FAKE_LOG.events"
  # FAKE_WAIT="PATTERN=OUT,OUT ...": a call whose arguments hold PATTERN ends only once those calls have ended
  # (it gives up after 60 s, recording "gave-up OUT": the two never ran side by side)
  deadline=$((SECONDS + 60))
  for wait in ${FAKE_WAIT:-}; do
    [[ "$*" == *"${wait%%=*}"* ]] || continue
    IFS=, read -ra names <<< "${wait#*=}"
    for name in "${names[@]}"; do
      until grep -qxF "end $name" "$FAKE_LOG.events"; do
        if [ "$SECONDS" -ge "$deadline" ]; then echo "gave-up $name" >> "$FAKE_LOG.events"; break; fi
        sleep 0.05
      done
    done
  done
  echo "end $out" >> "$FAKE_LOG.events"
fi
[ "$1" != download.py ] || echo "--data_folder ${FAKE_DATA_FOLDER:-}"
if [ "$1" = evaluate.py ]; then
  mkdir -p "$scores"; m="${metrics[*]}"; echo "- metrics: ${m// /, } at 16000 Hz; stand-in" > "$scores/results.md"
  for system in "${systems[@]}"; do touch "$scores/$system.csv"; done
fi
exit 0
"""


@pytest.fixture
def fake(tmp_path):
    """run(script, *args) -> the calls it made, each a list of arguments, with a stand-in interpreter."""
    python, log = tmp_path / "python", tmp_path / "calls.log"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    env = {**os.environ, "FAKE_LOG": str(log)}

    def run(script, *args, check=True, **extra_env):
        log.write_text("")
        Path(f"{log}.events").write_text("")
        interpreter = ["--python", str(python)] if script == "run.sh" else []  # ablations.sh: given in args
        if script == "run.sh" and "--real_data" not in args:
            interpreter += ["--real_data", "none"]  # not ../shared/data, wherever the repository is
        proc = subprocess.run(["bash", script, *interpreter, *map(str, args)], cwd=DNS_RECIPE,
                              env={**env, **extra_env}, capture_output=True, text=True, check=False)
        if check:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        calls = [line.split("\x1f")[:-1] for line in log.read_text().splitlines()]
        run.records = [c for c in calls if c[:2] == RUNINFO]  # run.json's record: its own test below
        calls = [c for c in calls if c[:2] != RUNINFO]
        return (calls, proc) if not check else calls

    run.python = python
    return run


RUNINFO = ["-m", "maese.runinfo"]


def value(call, key):
    """The value after the last ``key`` in a recorded call (None if absent)."""
    found = [call[i + 1] for i, a in enumerate(call[:-1]) if a == key]
    return found[-1] if found else None


def trainings(calls):
    """{hparams file stem: call} of the train.py calls."""
    return {c[1].split("/")[-1][:-5]: c for c in calls if c[0] == "train.py"}


def test_options_reach_the_stages_they_are_meant_for(fake, tmp_path):
    base = tmp_path / "r"
    calls = fake("run.sh", "--size", "tiny", "--results", base, "--tag", "t", "--pretrain_opts",
                 "--stack_preset single-speaker", "--finetune_opts", "--freeze frozen", "--", "--seed", "7")
    assert calls[0][0] == "-m" and calls[-1][0] == "report.py"  # the corpus first, the report last
    assert sorted(c[0] for c in calls[1:-1]) == [*["evaluate.py"] * 8, *["train.py"] * 5]
    runs = trainings(calls)
    assert sorted(runs) == ["finetune_denoise", "finetune_dereverb", "pretrain", "scratch_denoise", "scratch_dereverb"]
    assert value(runs["pretrain"], "--stack_preset") == "single-speaker" and value(runs["pretrain"], "--freeze") is None
    for name, call in runs.items():
        assert value(call, "--seed") == "7" and value(call, "--prep_folder") == f"{base}/prepared"
        assert value(call, "--output_folder") == f"{base}/t/{name}"
        if name != "pretrain":
            assert value(call, "--stack_preset") is None and value(call, "--freeze") == "frozen"
            assert value(call, "--pretrained_folder") == f"{base}/t/pretrain/save"
            assert value(call, "--paired_fraction") is None
    evals = {value(c, "--out"): c for c in calls if c[0] == "evaluate.py"}
    classical = {f"{base}/t/classical/{s}_{t}": (s, t) for s in SPLITS for t in TASK_INPUT}
    models = {f"{base}/t/eval/{s}_{t}": (s, t) for s in SPLITS for t in TASK_INPUT}
    assert sorted(evals) == sorted([*classical, *models])
    for out, (split, task) in classical.items():  # the input and the classical methods, scored once
        assert value(evals[out], "--noisy") == f"../../data/embedded_tiny/test_set/{split}/{task}/{TASK_INPUT[task]}"
        assert "--est" not in evals[out] and "--scored" not in evals[out]
        assert evals[out][evals[out].index("--baselines") + 1:][:len(BASELINES[task])] == list(BASELINES[task])
    for out, (split, task) in models.items():  # mae and scratch, in a table with the rows scored above
        call = evals[out]
        assert "--noisy" not in call and "--baselines" not in call
        start = call.index("--scored") + 1
        assert call[start:start + 1 + len(BASELINES[task])] == [
            f"{name}={base}/t/classical/{split}_{task}/{name}.csv" for name in ("unprocessed", *BASELINES[task])]
        assert value(call, "--est") == f"mae={base}/t/finetune_{task}/enhanced/{split}/{task}"
    report = calls[-1]
    assert value(report, "--out") == f"{base}/t/RESULTS.md" and report[-1] == f"{base}/t/eval"
    assert "pre-training options: --stack_preset single-speaker" in report

    again = fake("run.sh", "--size", "tiny", "--results", base, "--tag", "t", "--stop_stage", "5")
    assert [c[0] for c in again] == ["-m"]  # every training left its .done


def test_each_run_records_its_command_in_run_json_and_the_report_reads_it(fake, tmp_path):
    base = tmp_path / "r"
    args = ["--size", "tiny", "--results", str(base), "--tag", "t", "--jobs", "2"]
    calls = fake("run.sh", *args, OMP_NUM_THREADS="3")
    record, time = fake.records  # before the first stage, and once done its time
    assert time[:6] == [*RUNINFO, "--time", time[3], "--stages", "1-7"] and float(time[3]) >= 0
    assert time[6:] == record[2:]  # the same run: its entry gets the time
    assert value(record, "--out") == f"{base}/t/run.json" and value(record, "--cwd") == str(DNS_RECIPE)
    assert value(record, "--jobs") == "2" and value(record, "--threads") == "3"
    assert record[record.index("--") + 1:] == ["run.sh", "--python", str(fake.python), "--real_data", "none", *args]
    assert calls[-1][0] == "report.py" and value(calls[-1], "--run") == f"{base}/t"


def test_real_data_is_built_once_enhanced_by_every_training_and_scored_where_enhanced(fake, tmp_path):
    base, real = tmp_path / "r", tmp_path / "shared_data"
    real.mkdir()
    calls = fake("run.sh", "--size", "tiny", "--results", base, "--real_data", real, "--stop_stage", "5")
    assert [c[:2] for c in calls[:2]] == [["-m", "maese.simulation.corpus"], ["-m", "maese.realdata"]]  # then trainings
    assert value(calls[1], "--data") == str(real) and value(calls[1], "--out") == f"{base}/prepared/real_set"
    runs = trainings(calls)
    assert value(runs["pretrain"], "--real_data_folder") is None
    assert {n: value(c, "--real_data_folder") for n, c in runs.items() if n != "pretrain"} == {
        n: str(real) for n in ("finetune_denoise", "finetune_dereverb", "scratch_denoise", "scratch_dereverb")}

    (base / "prepared" / "real_set" / "denoise").mkdir(parents=True)  # as maese.realdata builds it
    for system in ("finetune", "scratch"):
        (base / f"{system}_denoise" / "enhanced" / "real" / "denoise").mkdir(parents=True)  # as train.py enhances
    calls = fake("run.sh", "--size", "tiny", "--results", base, "--real_data", real, "--stage", "6",
                 "--stop_stage", "6")
    scored = {value(c, "--out"): c for c in calls if c[0] == "evaluate.py"}
    assert sorted(scored) == sorted([f"{base}/{folder}/{s}_{t}" for folder in ("classical", "eval")
                                     for s in (*SPLITS, "real") for t in TASK_INPUT if (s, t) != ("real", "dereverb")])
    real_call = scored[f"{base}/eval/real_denoise"]
    assert value(real_call, "--ref") == f"{base}/prepared/real_set/denoise/clean"
    assert value(real_call, "--scored") == f"unprocessed={base}/classical/real_denoise/unprocessed.csv"
    assert value(real_call, "--name") == "real_set/denoise"
    assert value(scored[f"{base}/classical/real_denoise"], "--noisy") == f"{base}/prepared/real_set/denoise/noisy"
    (base / "prepared" / "real_set" / "dereverb").mkdir()  # built, but not enhanced by these models: not scored
    _, proc = fake("run.sh", "--size", "tiny", "--results", base, "--real_data", real, "--stage", "6",
                   "--stop_stage", "6", check=False)
    assert proc.returncode == 0 and "has not enhanced" in proc.stdout
    calls = fake("run.sh", "--size", "tiny", "--results", base, "--stage", "6", "--stop_stage", "6")  # none
    assert f"{base}/eval/real_denoise" not in [value(c, "--out") for c in calls]

    _, proc = fake("run.sh", "--results", base, "--real_data", tmp_path / "missing", check=False)
    assert proc.returncode == 2 and f"--real_data: no folder {tmp_path / 'missing'}" in proc.stderr


@pytest.mark.parametrize("size,args,env,expected", [
    ("tiny", [], {}, "pesq stoi estoi si_sdr"),
    ("small", [], {}, "pesq stoi estoi si_sdr"),
    ("paper", [], {}, "pesq stoi estoi si_sdr dnsmos"),
    ("small", ["--metrics", "pesq dnsmos"], {"METRICS": "stoi"}, "pesq dnsmos"),
    ("small", [], {"METRICS": "stoi si_sdr"}, "stoi si_sdr"),
])
def test_metrics_default_by_size_and_can_be_chosen(fake, tmp_path, size, args, env, expected):
    calls = fake("run.sh", "--size", size, "--results", tmp_path / "r", "--stage", "6", "--stop_stage", "6", *args,
                 **{"METRICS": "", **env})
    evals = [c for c in calls if c[0] == "evaluate.py"]
    assert len(evals) == 8  # the input and classical methods, then the models, on four test sets
    for call in evals:
        start = call.index("--metrics") + 1
        assert call[start : start + len(expected.split())] == expected.split()
        assert call[start + len(expected.split())].startswith("--")


def test_scores_are_redone_when_their_model_is_retrained_or_the_metrics_change(fake, tmp_path):
    base = tmp_path / "r"
    fake("run.sh", "--size", "tiny", "--results", base)
    scored = (base / "eval" / "ood_dereverb" / "results.md").read_text()
    assert scored.startswith("- metrics: pesq, stoi, estoi, si_sdr")
    assert [c[0] for c in fake("run.sh", "--size", "tiny", "--results", base, "--stage", "2")] == ["report.py"]
    (base / "scratch_dereverb" / ".done").unlink()  # as if killed: trained again, then scored again
    calls = fake("run.sh", "--size", "tiny", "--results", base, "--stage", "2")
    assert [c[0] for c in calls] == ["train.py", "evaluate.py", "evaluate.py", "report.py"]
    assert value(calls[0], "--output_folder") == f"{base}/scratch_dereverb"
    assert sorted((value(c, "--out"), "--overwrite" in c) for c in calls[1:3]) == [
        (f"{base}/eval/indomain_dereverb", True), (f"{base}/eval/ood_dereverb", True)]

    calls = fake("run.sh", "--size", "tiny", "--results", base, "--stage", "6", "--metrics", "pesq si_sdr")
    assert sorted(value(c, "--out") for c in calls if c[0] == "evaluate.py" and "--overwrite" in c) == sorted(
        f"{base}/{folder}/{s}_{t}" for folder in ("classical", "eval") for s in SPLITS for t in TASK_INPUT)
    assert "was scored with other metrics; scored again" in fake("run.sh", "--size", "tiny", "--results", base,
                                                                 "--stage", "6", check=False)[1].stdout


def test_scores_are_redone_when_the_test_set_changed(fake, tmp_path):
    base, corpus = tmp_path / "r", tmp_path / "corpus"
    for split in SPLITS:
        for task in TASK_INPUT:
            (corpus / "test_set" / split / task / "clean").mkdir(parents=True)
    fake("run.sh", "--size", "tiny", "--results", base, "--corpus_folder", corpus)
    stage6 = ("run.sh", "--size", "tiny", "--results", base, "--corpus_folder", corpus, "--stage", "6")
    assert [c[0] for c in fake(*stage6)] == ["report.py"]  # all scored and fresh
    now = time.time()
    ages = {**{p: 300 for p in corpus.rglob("*")}, **{p: 200 for p in base.rglob("*")},
            **{p: 100 for p in (base / "eval").rglob("*")}}  # test sets, models and classical scores, tables
    for path, age in ages.items():
        os.utime(path, (now - age, now - age))
    os.utime(corpus / "test_set" / "ood" / "denoise" / "clean", (now - 50, now - 50))  # then a rebuilt corpus
    calls, proc = fake(*stage6, check=False)
    assert proc.returncode == 0, proc.stderr
    redone = [value(c, "--out") for c in calls if c[0] == "evaluate.py"]
    assert redone == [f"{base}/classical/ood_denoise", f"{base}/eval/ood_denoise"]  # the table's rows, then it
    assert all("--overwrite" in c for c in calls if c[0] == "evaluate.py")
    assert f"{base}/classical/ood_denoise/results.md is older than its test set; scored again" in proc.stdout
    assert f"{base}/eval/ood_denoise/results.md is older than its classical scores; scored again" in proc.stdout


def test_classical_scores_are_redone_when_a_baseline_is_missing(fake, tmp_path):
    base = tmp_path / "r"
    fake("run.sh", "--size", "tiny", "--results", base)
    stage6 = ("run.sh", "--size", "tiny", "--results", base, "--stage", "6")
    assert [c[0] for c in fake(*stage6)] == ["report.py"]  # all scored and fresh
    for peer in PEERS:  # as scored before the peers were baselines
        (base / "classical" / "indomain_dereverb" / f"{peer}.csv").unlink()
    calls, proc = fake(*stage6, check=False)
    assert proc.returncode == 0, proc.stderr
    evals = [c for c in calls if c[0] == "evaluate.py"]
    assert [value(c, "--out") for c in evals] == [f"{base}/{f}/indomain_dereverb" for f in ("classical", "eval")]
    assert all("--overwrite" in c for c in evals)
    assert evals[0][evals[0].index("--baselines") + 1:][:3] == ["wpe", *PEERS]
    assert f"{base}/classical/indomain_dereverb has no scores of rnnoise deepfilternet3 (new baselines); " \
        "scored again" in proc.stdout
    assert f"{base}/eval/indomain_dereverb/results.md is older than its classical scores; scored again" in proc.stdout
    assert [c[0] for c in fake(*stage6)] == ["report.py"]  # fresh again


def job_events(events_log):
    """[(kind, output folder name)] of the stand-in calls ("start", "end" or "gave-up"), in the order they happened."""
    return [tuple(line.split(" ", 1)) for line in events_log.read_text().splitlines()]


def test_jobs_run_side_by_side_and_a_failed_one_stops_the_run_naming_its_log(fake, tmp_path):
    base = tmp_path / "r"
    trainings = ["finetune_denoise", "finetune_dereverb", "pretrain", "scratch_denoise", "scratch_dereverb"]
    classical = [f"classical/{s}_{t}" for s in SPLITS for t in TASK_INPUT]
    models = [f"eval/{s}_{t}" for s in SPLITS for t in TASK_INPUT]
    # what does not need the pre-training runs beside it (the pre-training ends only after them), and the
    # denoising tables are scored beside the dereverberation fine-tuning (it ends only after them)
    waits = {"pretrain.yaml": ["scratch_denoise", "scratch_dereverb", *classical],
             "finetune_dereverb.yaml": [f"eval/{s}_denoise" for s in SPLITS]}
    calls = fake("run.sh", "--size", "tiny", "--results", base, "--jobs", "2",
                 FAKE_WAIT=" ".join(f"{k}={','.join(v)}" for k, v in waits.items()))
    events = job_events(tmp_path / "calls.log.events")
    assert [e for e in events if e[0] not in ("start", "end")] == []  # every wait was met
    at = {event: i for i, event in enumerate(events)}
    assert sorted(n for kind, n in events if kind == "end" and "/" not in n) == trainings
    scored = sorted(n for kind, n in events if kind == "end" and n.startswith(("classical/", "eval/")))
    assert scored == classical + models  # all scored
    assert all(at["start", f"finetune_{t}"] > at["end", "pretrain"] for t in TASK_INPUT)  # they wait for it
    for task in TASK_INPUT:  # a task's tables as soon as its two models are trained
        trained = max(at["end", f"finetune_{task}"], at["end", f"scratch_{task}"])
        assert all(at["start", f"eval/{s}_{task}"] > trained for s in SPLITS)
    running = 0
    for kind, name in events:  # never more than two at once
        running += 1 if kind == "start" else -1
        assert running <= 2, name
    assert all(value(c, "--output_folder") and (Path(value(c, "--output_folder")) / "run.log").is_file()
               for c in calls if c[0] == "train.py")
    again = fake("run.sh", "--size", "tiny", "--results", base, "--stop_stage", "6", "--jobs", "2")
    assert [c[0] for c in again] == ["-m"]  # all done

    calls, proc = fake("run.sh", "--size", "tiny", "--results", tmp_path / "p", "--stop_stage", "5", "--jobs", "2",
                       check=False, FAKE_FAIL="pretrain.yaml")
    assert proc.returncode != 0 and f"the end of {tmp_path / 'p' / 'pretrain' / 'run.log'}" in proc.stderr
    assert sorted(p.parent.name for p in (tmp_path / "p").glob("*/.done")) == ["scratch_denoise", "scratch_dereverb"]
    assert not list((tmp_path / "p").glob("finetune_*"))  # nothing fine-tuned without a pre-training

    calls, proc = fake("run.sh", "--size", "tiny", "--results", tmp_path / "f", "--stop_stage", "5", "--jobs", "2",
                       check=False, FAKE_FAIL="scratch_denoise")
    assert proc.returncode != 0 and f"the end of {tmp_path / 'f' / 'scratch_denoise' / 'run.log'}" in proc.stderr
    assert "fake failure of scratch_denoise" in proc.stderr and "1 job(s) failed" in proc.stderr
    done = sorted(p.parent.name for p in (tmp_path / "f").glob("*/.done"))
    assert done == ["finetune_denoise", "finetune_dereverb", "pretrain", "scratch_dereverb"]  # the others finished

    calls = fake("run.sh", "--size", "tiny", "--results", tmp_path / "s", "--stop_stage", "5", "--jobs", "1")
    assert [value(c, "--output_folder").split("/")[-1] for c in calls[1:]] == [
        "pretrain", "finetune_denoise", "finetune_dereverb", "scratch_denoise", "scratch_dereverb"]  # in order
    assert not list((tmp_path / "s").glob("*/run.log"))  # output on the terminal
    for bad in ("0", "two"):
        _, proc = fake("run.sh", "--size", "tiny", "--results", base, "--jobs", bad, check=False)
        assert proc.returncode == 2 and f"--jobs: '{bad}' is not a positive number" in proc.stderr


def test_ablations_are_one_command_each(fake, tmp_path):
    base = tmp_path / "r"
    stack = trainings(fake("ablations.sh", "stack", "--size", "tiny", "--results", base, "--python", fake.python))
    assert value(stack["pretrain"], "--stack_preset") == "single-speaker"
    assert value(stack["pretrain"], "--output_folder") == f"{base}/single-speaker/pretrain"
    assert all(value(c, "--stack_preset") is None for n, c in stack.items() if n != "pretrain")

    compression = trainings(fake("ablations.sh", "compression", "--size", "tiny", "--results", base,
                                 "--python", fake.python))
    assert all(value(c, "--compression_name") == "none" for c in compression.values()) and len(compression) == 5
    assert value(compression["finetune_denoise"], "--output_folder") == f"{base}/no-compression/finetune_denoise"

    calls, proc = fake("ablations.sh", "fractions", "--size", "tiny", "--results", base, "--python", fake.python,
                       check=False)
    assert proc.returncode == 1 and "no default pre-training" in proc.stderr and not calls
    (base / "pretrain" / "save").mkdir(parents=True)
    calls = fake("ablations.sh", "fractions", "--size", "tiny", "--results", base, "--python", fake.python)
    runs = [c for c in calls if c[0] == "train.py"]
    assert len(runs) == 12 and not any("pretrain.yaml" in c[1] for c in runs)
    assert {value(c, "--paired_fraction") for c in runs} == {"0.01", "0.1", "1.0"}
    assert {value(c, "--pretrained_folder") for c in runs} == {f"{base}/pretrain/save"}
    assert f"{base}/fractions/finetune_dereverb_p0.01" in {value(c, "--output_folder") for c in runs}
    assert f"{base}/fractions/eval/p1.0/ood_dereverb" in {value(c, "--out") for c in calls if c[0] == "evaluate.py"}
    assert calls[-1][-3:] == [f"0.01={base}/fractions/eval/p0.01", f"0.1={base}/fractions/eval/p0.1",
                              f"1.0={base}/fractions/eval/p1.0"]


def test_plain_folders_are_laid_out_by_stage_1_and_trained_at_three_paired_fractions(fake, tmp_path):
    base, speech, noise = tmp_path / "r", tmp_path / "speech", tmp_path / "noise"
    speech.mkdir(), noise.mkdir()
    calls = fake("run.sh", "--size", "tiny", "--results", base, "--speech_folder", speech, "--noise_folder", noise)
    assert calls[0] == ["-m", "maese.simulation.folders", "--speech", str(speech), "--noise", str(noise),
                        "--out", f"{base}/corpus"]
    runs = [c for c in calls if c[0] == "train.py"]
    assert len(runs) == 13 and {value(c, "--data_folder") for c in runs} == {f"{base}/corpus"}
    assert {value(c, "--paired_fraction") for c in runs} == {None, "0.01", "0.1", "1.0"}
    calls = fake("run.sh", "--size", "tiny", "--speech_folder", speech, "--noise_folder", noise, "--rir_folder",
                 noise, "--fractions", "0.5", "--stop_stage", "1")
    assert calls == [["-m", "maese.simulation.folders", "--speech", str(speech), "--noise", str(noise), "--rirs",
                      str(noise), "--out", f"{DNS_RECIPE}/results/folders_tiny/corpus"]]


def test_stage_0_runs_only_when_asked_and_hands_its_data_folder_on(fake, tmp_path):
    calls = fake("run.sh", "--size", "tiny", "--results", tmp_path / "r", "--stop_stage", "2")
    assert [c[0] for c in calls] == ["-m", "train.py"]  # the embedded corpus, no download
    dl = tmp_path / "dl"
    calls = fake("run.sh", "--size", "tiny", "--results", tmp_path / "r2", "--stage", "0", "--stop_stage", "2",
                 "--download_folder", dl, "--dns_subset", "16k fullband_noise", "--jobs", "3", "--delete_archives",
                 FAKE_DATA_FOLDER=f"{dl}/DNS-Challenge/datasets")
    assert calls[0] == ["download.py", "--download_folder", str(dl), "--jobs", "3", "--subsets", "16k",
                        "fullband_noise", "--delete_archives"]
    assert [c[0] for c in calls] == ["download.py", "train.py"]  # stage 1 builds nothing: the data is downloaded
    assert value(calls[1], "--data_folder") == f"{dl}/DNS-Challenge/datasets"
    assert (dl / "download.log").read_text().endswith(f"--data_folder {dl}/DNS-Challenge/datasets\n")


@pytest.mark.parametrize("args,message", [
    (["--speech_folder", "."], "--speech_folder and --noise_folder go together"),
    (["--speech_folder", ".", "--noise_folder", ".", "--data_folder", "."], "drop --data_folder"),
    (["--speech_folder", ".", "--noise_folder", "no/such/folder"], "no folder "),
    (["--fractions", "0.1 1.5"], "--fractions: '1.5' is not a share in (0, 1]"),
    (["--pretrained_folder", "x", "--pretrain_opts", "--stack_preset single-speaker"], "--pretrain_opts has no effect"),
    (["--pretrain_opts", "--compression_name none"], "pre-training uses compression_name none, fine-tuning log1p"),
    (["--tag", "eval"], "--tag 'eval' names a folder of the untagged run"),
    (["--tasks", "denoise separate"], "--tasks: unknown task 'separate'"),
    (["--stage"], "option --stage needs a value"),
    (["--epochs", "3"], "unknown option --epochs"),
    (["--metrics", "pesq mos"], "--metrics: unknown metric 'mos'"),
    (["--stage", "0", "--speech_folder", ".", "--noise_folder", "."], "it downloads nothing (drop --stage 0)"),
])
def test_bad_options_fail_before_any_work(fake, tmp_path, args, message):
    calls, proc = fake("run.sh", "--results", tmp_path / "r", *args, check=False)
    assert proc.returncode == 2 and message in proc.stderr and not calls and not (tmp_path / "r").exists()


def test_a_pretraining_without_compression_cannot_be_fine_tuned_with_it(fake, tmp_path):
    pretrained = tmp_path / "pre" / "save"
    pretrained.mkdir(parents=True)
    (pretrained.parent / "hyperparams.yaml").write_text("task: pretrain\ncompression_name: none   # log1p | none\n")
    _, proc = fake("run.sh", "--results", tmp_path / "r", "--pretrained_folder", pretrained, check=False)
    assert proc.returncode == 2 and "pre-training uses compression_name none, fine-tuning log1p" in proc.stderr
    calls = fake("run.sh", "--results", tmp_path / "r", "--pretrained_folder", pretrained, "--stage", "3",
                 "--stop_stage", "3", "--", "--compression_name", "none")
    assert [value(c, "--compression_name") for c in calls] == ["none"]
