"""Runs recipes/DNS/train.py (same arguments, also under torchrun) with probes the DDP and kill-resume tests read.

    python recipe_probe.py train.py hparams/pretrain.yaml --size tiny ...

Each probe is switched on by an environment variable:

- ``PROBE_WEIGHTS=DIR``: once training ends (before the best checkpoint is loaded for validation), every process
  writes its modules' weights to ``DIR/rank<r>.pt``.
- ``PROBE_LR_LOG=DIR``: after every training step, every process appends ``epoch step lr`` (the rate of the
  optimizer's first group) to ``DIR/rank<r>.txt``.
- ``PROBE_PAUSE_AT=K`` with ``PROBE_MARKER=PATH``: after its K-th intra-epoch checkpoint every process writes
  ``PATH.rank<r>`` and waits to be killed.
"""

import os
import runpy
import sys
import time
from pathlib import Path

import speechbrain as sb
import torch

RANK = int(os.environ.get("RANK", "0"))


def dump_weights_after_fit(folder):
    """Wrap ``Brain.fit``: then write this process' module weights (DDP-wrapped names included)."""
    fit = sb.Brain.fit

    def probed_fit(self, *args, **kwargs):
        fit(self, *args, **kwargs)
        Path(folder).mkdir(parents=True, exist_ok=True)
        torch.save({k: v.detach().cpu() for k, v in self.modules.state_dict().items()}, Path(folder) / f"rank{RANK}.pt")

    sb.Brain.fit = probed_fit


def log_lr_after_steps(folder):
    """Wrap ``Brain.fit_batch``: then append the epoch, the step in it and the learning rate."""
    fit_batch = sb.Brain.fit_batch

    def probed_fit_batch(self, batch):
        loss = fit_batch(self, batch)
        Path(folder).mkdir(parents=True, exist_ok=True)
        with open(Path(folder) / f"rank{RANK}.txt", "a") as log:
            log.write(f"{self.hparams.epoch_counter.current} {self.step} {self.optimizer.param_groups[0]['lr']!r}\n")
        return loss

    sb.Brain.fit_batch = probed_fit_batch


PAUSE_LIMIT_S = 900


def pause_after_checkpoint(count, marker):
    """Wrap the intra-epoch checkpoint: after the ``count``-th, write the marker (epoch, step and this process' PID,
    which the test kills: a torchrun worker is not in its launcher's process group) and wait to be killed, at most
    ``PAUSE_LIMIT_S`` (a process its test failed to kill ends by itself)."""
    save = sb.Brain._save_intra_epoch_ckpt
    saved = []

    def probed_save(self):
        save(self)
        saved.append(self.step)
        if len(saved) == count:
            Path(f"{marker}.rank{RANK}").write_text(f"{self.hparams.epoch_counter.current} {self.step} {os.getpid()}\n")
            time.sleep(PAUSE_LIMIT_S)
            os._exit(3)

    sb.Brain._save_intra_epoch_ckpt = probed_save


def main():
    """Install the probes the environment asks for, then run the recipe script ``sys.argv[1]`` in its folder."""
    if "PROBE_WEIGHTS" in os.environ:
        dump_weights_after_fit(os.environ["PROBE_WEIGHTS"])
    if "PROBE_LR_LOG" in os.environ:
        log_lr_after_steps(os.environ["PROBE_LR_LOG"])
    if "PROBE_PAUSE_AT" in os.environ:
        pause_after_checkpoint(int(os.environ["PROBE_PAUSE_AT"]), os.environ["PROBE_MARKER"])
    script = Path(sys.argv[1]).resolve()
    sys.path.insert(0, str(script.parent))
    sys.argv = sys.argv[1:]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
