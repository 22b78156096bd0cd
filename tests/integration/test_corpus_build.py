"""End to end: the test run's tiny corpus (built by worker processes) against an in-process build; the CLI."""

import hashlib
import subprocess
import sys

import pytest

from maese.simulation.corpus import build_corpus, main


def tree(root):
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in files}


def test_worker_processes_match_one_process_and_the_cli_leaves_a_complete_corpus_alone(tiny_corpus, tmp_path, capsys):
    build_corpus(tmp_path / "one_job", "tiny", seed=0, jobs=1)
    assert tree(tiny_corpus) == tree(tmp_path / "one_job")  # tiny_corpus: ensure_corpus, one job per core

    before = tree(tiny_corpus)
    command = [sys.executable, "-m", "maese.simulation.corpus", "--out", str(tiny_corpus), "--size", "tiny"]
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 0 and "complete; nothing to do" in again.stdout, again.stderr
    assert tree(tiny_corpus) == before

    capsys.readouterr()
    with pytest.raises(SystemExit) as other:
        main(["--out", str(tiny_corpus), "--size", "small"])
    assert other.value.code == 1 and "you asked for size='small'" in capsys.readouterr().err

    with pytest.raises(SystemExit) as unknown:
        main(["--out", str(tmp_path / "x"), "--size", "huge"])
    assert unknown.value.code == 2 and "'tiny', 'small', 'paper'" in capsys.readouterr().err


def test_cli_builds_with_two_jobs_and_progress_bars(tmp_path):
    out = tmp_path / "cli"
    command = [sys.executable, "-m", "maese.simulation.corpus", "--out", str(out), "--size", "tiny", "--jobs", "2"]
    built = subprocess.run(command, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert "built the tiny corpus" in built.stdout and "clean: 100%" in built.stderr
    assert (out / ".done").is_file() and (out / "README.md").is_file()
