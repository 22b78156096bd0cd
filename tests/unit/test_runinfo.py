"""maese/runinfo.py: the run.json that run.sh writes (command, date, commit, versions, machine, threads)."""

import json
import os
import platform
import subprocess

import pytest

from maese import runinfo


def entry(**changes):
    """A run.json entry as :func:`runinfo.collect` writes it, with ``changes``."""
    base = {"date": "2026-12-06 05:22 UTC", "argv": ["./run.sh", "--results", "results/real"],
            "cwd": str(runinfo.REPOSITORY / "recipes" / "DNS"), "commit": "1f23a5f", "uncommitted_changes": False,
            "python": "3.11.7", "torch": "2.11.0", "speechbrain": "1.1.2", "maese": "0.1.0",
            "cpu": "Intel(R) Xeon(R) Processor", "cpus": 2, "gpus": [], "jobs": 2, "threads": 1}
    return {**base, **changes}


def test_collect_records_this_checkout_and_machine(tmp_path):
    record = runinfo.collect(["./run.sh", "--size", "tiny"], tmp_path, jobs=2, threads=None)
    head = subprocess.run(["git", "-C", str(runinfo.REPOSITORY), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert record["commit"] == head and isinstance(record["uncommitted_changes"], bool)
    assert record["argv"] == ["./run.sh", "--size", "tiny"] and record["cwd"] == str(tmp_path.resolve())
    assert record["python"] == platform.python_version() and record["torch"] and record["speechbrain"]
    assert record["cpus"] == os.cpu_count() and record["jobs"] == 2 and record["threads"] is None
    assert record["date"].endswith(" UTC") and record["date"][:2] == "20"


def test_cpu_model_is_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n")
    assert runinfo.cpu_model(cpuinfo) == "Intel(R) Xeon(R) Processor"


def test_a_rerun_at_the_same_commit_adds_nothing_another_commit_is_added(tmp_path):
    path = tmp_path / "r" / "run.json"
    assert runinfo.record(path, entry())
    os.utime(path, ns=(1, 1))
    assert not runinfo.record(path, entry(date="2026-12-07 10:00 UTC"))  # the same command, resumed
    assert path.stat().st_mtime_ns == 1
    assert runinfo.record(path, entry(date="2026-12-07 10:00 UTC", commit="0774913"))
    assert [e["commit"] for e in runinfo.read_entries(path)] == ["1f23a5f", "0774913"]
    assert runinfo.read_entries(tmp_path / "none.json") == []


def test_describe_gives_the_header_and_lists_what_changed_between_entries():
    fields = runinfo.describe([entry()])
    assert fields == {
        "date": "2026-12-06 05:22 UTC", "commit": "1f23a5f",
        "command": "cd recipes/DNS && ./run.sh --results results/real",
        "versions": "Python 3.11.7, PyTorch 2.11.0, SpeechBrain 1.1.2, maese 0.1.0",
        "machine": "2 CPUs (Intel(R) Xeon(R) Processor); no GPU", "threads": "--jobs 2, each job OMP_NUM_THREADS=1"}
    later = entry(date="2026-12-07 10:00 UTC", commit="0774913", uncommitted_changes=True, jobs=1, threads=None,
                  gpus=["NVIDIA H100"], argv=["./run.sh", "--stage", "7", "--results", "results/my run"])
    fields = runinfo.describe([entry(), later])
    assert fields["commit"] == "1f23a5f; 0774913 with uncommitted changes"
    assert fields["command"].endswith("; cd recipes/DNS && ./run.sh --stage 7 --results 'results/my run'")
    assert fields["machine"].endswith("; 2 CPUs (Intel(R) Xeon(R) Processor); NVIDIA H100")
    assert fields["threads"].endswith("; --jobs 1, each job OMP_NUM_THREADS unset (one thread per CPU)")
    assert fields["versions"].count("Python") == 1  # the same in both
    outside = entry(cwd="/elsewhere", commit=None)
    assert runinfo.command_text(outside) == "cd /elsewhere && ./run.sh --results results/real"
    assert runinfo.describe([outside])["commit"] == "not a git checkout"
    assert runinfo.describe([]) == {}


def test_training_records_read_the_env_log_of_each_training(tmp_path):
    for folder, commit in (("pretrain", "1f23a5f"), ("finetune_denoise", "0774913"), ("scratch_denoise", "1f23a5f")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "env.log").write_text(
            "SpeechBrain system description\n==============================\nPython version:\n3.11.7 (main) [GCC]\n"
            f"==============================\nGit revision:\n{commit}\n==============================\n")
    assert runinfo.training_records(tmp_path) == {
        "versions": "Python 3.11.7", "trainings": "0774913: finetune_denoise; 1f23a5f: pretrain, scratch_denoise"}
    assert runinfo.training_records(tmp_path / "pretrain") == {}


def test_cli_records_the_command_after_the_double_dash(tmp_path):
    out = tmp_path / "run.json"
    runinfo.main(["--out", str(out), "--cwd", str(tmp_path), "--jobs", "2", "--threads", "1", "--",
                  "./run.sh", "--results", "x"])
    (record,) = json.loads(out.read_text())["entries"]
    assert record["argv"] == ["./run.sh", "--results", "x"] and record["threads"] == 1 and record["jobs"] == 2
    with pytest.raises(SystemExit):
        runinfo.main(["--out", str(out), "--jobs", "2"])  # no command


def test_a_completed_call_adds_its_time_to_the_entry_it_added_and_a_rerun_none(tmp_path):
    path = tmp_path / "run.json"
    assert runinfo.record(path, entry(call="101.1"))
    assert runinfo.record(path, entry(argv=["./run.sh", "--results", "other"], call="102.1"))
    assert not runinfo.record(path, entry(date="2026-12-07 10:00 UTC", call="103.1"))  # a re-run: no entry...
    assert not runinfo.add_time(path, "103.1", "1-7", 4)  # ...so no time: its 4 s are not the run's
    assert runinfo.add_time(path, "101.1", "1-7", 1803.6)
    mine, theirs = runinfo.read_entries(path)
    assert mine["time"]["stages"] == "1-7" and mine["time"]["seconds"] == 1803 and "time" not in theirs
    assert not runinfo.record(path, entry(call="104.1"))  # the time does not make it another run
    assert runinfo.describe([mine])["time"] == f"stages 1-7 in 30 min 3 s (ended {mine['time']['ended']})"
    assert "time" not in runinfo.describe([theirs])  # killed, or still running
    assert runinfo.duration_text(3723) == "1 h 2 min 3 s"


def test_cli_adds_the_time_with_the_same_arguments_as_the_record(tmp_path):
    out = tmp_path / "run.json"
    args = ["--out", str(out), "--call", "7.1", "--cwd", str(tmp_path), "--jobs", "2", "--", "./run.sh", "--results", "x"]
    runinfo.main(args)
    runinfo.main(["--time", "75", "--stages", "2-7", *args])
    (record,) = runinfo.read_entries(out)
    assert record["call"] == "7.1" and record["time"]["stages"] == "2-7" and record["time"]["seconds"] == 75
    with pytest.raises(SystemExit):
        runinfo.main(["--time", "75", "--out", str(out), "--jobs", "1", "--", "./run.sh"])  # no --call
