"""Helpers of the DDP and kill-resume tests: recipe runs through recipe_probe.py, torchrun launchers on free
ports, a run killed after an intra-epoch checkpoint, the weights and records the probes leave."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from conftest import DNS_RECIPE

PROBE = Path(__file__).resolve().parent / "recipe_probe.py"


def free_port():
    """A TCP port free on 127.0.0.1 now (bound to port 0, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def torchrun(nproc, *options):
    """A torchrun command line for ``nproc`` processes, before the script (``options``: more torchrun flags)."""
    return [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", *options]


def single_node(nproc):
    """torchrun on one node, its rendezvous on a free port of 127.0.0.1."""
    return torchrun(nproc, "--master_addr=127.0.0.1", f"--master_port={free_port()}")


def node_launchers(port):
    """The two launchers of a two-node job on this machine (one process each, c10d rendezvous on ``port``)."""
    return [torchrun(1, "--nnodes=2", f"--node_rank={rank}", "--rdzv_backend=c10d",
                     f"--rdzv_endpoint=127.0.0.1:{port}") for rank in range(2)]


def probe_env(**probes):
    """The environment of a probed run: this one, one thread, the ``PROBE_*`` variables given."""
    return {**os.environ, "OMP_NUM_THREADS": "1", **{f"PROBE_{k.upper()}": str(v) for k, v in probes.items()}}


def start(args, launcher=None, **probes):
    """Start ``recipe_probe.py args`` (with ``launcher``, e.g. torchrun) in the DNS recipe, in its own process
    group; its output goes to a temporary file: read it with :func:`output`."""
    log = tempfile.TemporaryFile("w+")
    cmd = (launcher or [sys.executable]) + [str(PROBE)] + [str(a) for a in args]
    proc = subprocess.Popen(cmd, cwd=DNS_RECIPE, env=probe_env(**probes), stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=os.setpgrp)  # its own process group (torchrun workers: see kill_after_checkpoint)
    proc.log, proc.cmd = log, cmd
    return proc


def output(proc):
    """The last 6000 characters of a started run's output."""
    proc.log.seek(0)
    return proc.log.read()[-6000:]


def finish(procs, timeout=600):
    """Wait for started runs; fail naming the command and its output if one fails (the others are killed)."""
    deadline = time.monotonic() + timeout
    try:
        for proc in procs:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            assert proc.returncode == 0, f"{' '.join(proc.cmd)} failed ({proc.returncode}):\n{output(proc)}"
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            proc.log.close()


def run(args, launcher=None, **probes):
    """Run ``recipe_probe.py args`` to its end; fail if it fails."""
    finish([start(args, launcher, **probes)])


def kill_after_checkpoint(args, marker, count, ranks=1, launcher=None, timeout=300, **probes):
    """Run until every process has saved its ``count``-th intra-epoch checkpoint, then SIGKILL them all.

    Returns
    -------
    (epoch, step) at which the processes were killed (from rank 0's marker).
    """
    proc = start(args, launcher, pause_at=count, marker=marker, **probes)
    markers = [Path(f"{marker}.rank{r}") for r in range(ranks)]
    deadline = time.monotonic() + timeout
    try:
        while not all(m.is_file() for m in markers):
            assert proc.poll() is None, f"{' '.join(proc.cmd)} ended before its checkpoint {count}:\n{output(proc)}"
            assert time.monotonic() < deadline, f"no checkpoint {count} after {timeout} s:\n{output(proc)}"
            time.sleep(0.2)
    finally:
        for m in markers:  # the paused processes: torchrun's workers are not in its process group
            if m.is_file():
                kill_quietly(int(m.read_text().split()[2]))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.log.close()
    for m in markers:
        assert_ended(int(m.read_text().split()[2]))
    epoch, step, _ = markers[0].read_text().split()
    return int(epoch), int(step)


def assert_ended(pid, timeout=10.0):
    """Fail unless process ``pid`` ends within ``timeout`` seconds (a killed run leaves no process behind)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} of the killed run is still there after {timeout} s")


def kill_quietly(pid):
    """SIGKILL ``pid`` unless it has ended already."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def intra_epoch_checkpoints(save_folder):
    """The intra-epoch checkpoints of a save/ folder (SpeechBrain marks them in their CKPT.yaml)."""
    return [p.parent for p in Path(save_folder).glob("CKPT*/CKPT.yaml") if "brain_intra_epoch_ckpt" in p.read_text()]


def weights(folder, rank=0):
    """The weights a run's ``PROBE_WEIGHTS`` folder holds for ``rank``."""
    return torch.load(Path(folder) / f"rank{rank}.pt")


def max_difference(a, b):
    """The largest absolute difference between two state dicts of the same model (inf if their keys differ)."""
    if a.keys() != b.keys():
        return float("inf")
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def read_records(read_log):
    """{rank: [record, ...]} of a pre-training's ``shard_reads`` folder, in the order each rank opened them."""
    return {int(p.stem[4:]): [json.loads(line) for line in p.read_text().splitlines()]
            for p in sorted(Path(read_log).glob("rank*.jsonl"))}


def lr_log(folder, rank=0):
    """[(epoch, step, lr)] a run's ``PROBE_LR_LOG`` folder holds for ``rank``."""
    rows = (line.split() for line in (Path(folder) / f"rank{rank}.txt").read_text().splitlines())
    return [(int(e), int(s), float(lr)) for e, s, lr in rows]
