"""End to end: ``python -m maese.simulation.corpus`` with worker processes, compared with an in-process build."""

import hashlib
import subprocess
import sys

from maese.simulation.corpus import build_corpus


def corpus_cli(*args):
    return subprocess.run([sys.executable, "-m", "maese.simulation.corpus", *args], capture_output=True, text=True)


def tree(root):
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_cli_with_two_jobs_matches_one_job_and_a_rerun_does_nothing(tmp_path):
    out = tmp_path / "cli"
    first = corpus_cli("--out", str(out), "--size", "tiny", "--seed", "0", "--jobs", "2")
    assert first.returncode == 0, first.stderr
    assert "built the tiny corpus" in first.stdout
    build_corpus(tmp_path / "api", "tiny", seed=0, jobs=1)
    assert tree(out) == tree(tmp_path / "api")

    again = corpus_cli("--out", str(out), "--size", "tiny")
    assert again.returncode == 0 and "complete; nothing to do" in again.stdout

    other = corpus_cli("--out", str(out), "--size", "small")
    assert other.returncode == 1 and "you asked for size='small'" in other.stderr

    unknown = corpus_cli("--out", str(tmp_path / "x"), "--size", "huge")
    assert unknown.returncode == 2 and "tiny" in unknown.stderr and "paper" in unknown.stderr
