"""Shared fixtures of the integration tests: one tiny embedded corpus per test session."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DNS_RECIPE = REPO / "recipes" / "DNS"


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """Path of a tiny embedded corpus, built once per session."""
    from maese.simulation.corpus import ensure_corpus

    return Path(ensure_corpus(tmp_path_factory.mktemp("corpus") / "embedded_tiny", "tiny"))


def run_recipe(args, cwd=DNS_RECIPE, launcher=None, timeout=600, env=None):
    """Run a recipe script with this interpreter, ``env`` added to the environment; fail the test if it fails."""
    cmd = (launcher or [sys.executable]) + [str(a) for a in args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return proc
