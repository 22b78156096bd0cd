"""tools/check_gpu.sh: the checks it can make without a GPU (its own arguments); the GPU run is in the DNS README."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "check_gpu.sh"


def check_gpu(*args):
    return subprocess.run(["bash", str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable}, timeout=120)


def test_an_existing_work_folder_is_refused_and_left_alone(tmp_path):
    (tmp_path / "kept.txt").write_text("mine")
    proc = check_gpu("cpu", tmp_path)
    assert proc.returncode == 2 and f"{tmp_path} exists; give another work folder" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_a_device_torch_cannot_use_stops_it_before_any_work(tmp_path):
    proc = check_gpu("cuda:0", tmp_path / "work")
    assert proc.returncode == 1 and "torch cannot use cuda:0" in proc.stderr
    assert not any((tmp_path / "work").iterdir())
