"""Pieces shared by the Brains: logging/checkpointing at stage ends, a checkpointed random generator,
fixed-length random crops."""

import json
import logging
from pathlib import Path

import speechbrain as sb
import torch
from speechbrain.utils.checkpoints import mark_as_loader, mark_as_saver, register_checkpoint_hooks
from speechbrain.utils.distributed import if_main_process, is_distributed_initialized

from maese.hparams import require

logger = logging.getLogger(__name__)

# The attributes of a learning-rate scheduler (SpeechBrain's LinearWarmupScheduler) that the hparams plan, as
# opposed to its progress (``current_step``): a resumed run keeps its own plan, not the checkpoint's.
SCHEDULE_PLAN = ("lr0", "num_warmup_steps", "num_training_steps")


class CheckpointedGenerator:
    """A CPU ``torch.Generator`` whose state is saved with the checkpoints (exact resume).

    Under DDP every process has its own generator (seeded per rank): the checkpoint holds the states of all
    ranks (gathered to the main process, which writes them) and each rank restores its own, so a resumed
    run draws what the uninterrupted one would have drawn on every rank.

    Arguments
    ---------
    seed : int
    """

    def __init__(self, seed):
        self.generator = torch.Generator().manual_seed(int(seed))

    @mark_as_saver
    def save(self, path):
        """Write the generator states of all ranks (a list indexed by rank; called on every rank)."""
        states = [self.generator.get_state()]
        if is_distributed_initialized():
            states = [None] * torch.distributed.get_world_size()
            torch.distributed.all_gather_object(states, self.generator.get_state())
        if if_main_process():
            torch.save(states, path)

    @mark_as_loader
    def load(self, path, end_of_epoch=False):
        """Restore this rank's generator state (a checkpoint from fewer processes leaves the extra ranks seeded)."""
        del end_of_epoch
        states = torch.load(path)
        if isinstance(states, torch.Tensor):  # a checkpoint written before the states of all ranks were kept
            states = [states]
        rank = torch.distributed.get_rank() if is_distributed_initialized() else 0
        if rank < len(states):
            self.generator.set_state(states[rank])
        else:
            logger.warning("%s holds the generator states of %d processes; rank %d keeps its seeded generator.",
                           path, len(states), rank)


# Every rank calls save (each contributes its state to the gather); only the main process writes.
register_checkpoint_hooks(CheckpointedGenerator, save_on_main_only=False)


def per_process_steps(plan):
    """The step counts of a learning-rate ``plan`` (``num_warmup_steps``, ``num_training_steps``: one process's) for
    one of the DDP processes, which share the steps: divided by the world size, rounded up; unchanged without DDP."""
    world = torch.distributed.get_world_size() if is_distributed_initialized() else 1
    return {key: -(-plan[key] // world) for key in ("num_warmup_steps", "num_training_steps") if key in plan}


def random_crops(wav, lengths, num_samples, generator):
    """One random window of ``num_samples`` per example, within its true length.

    Arguments
    ---------
    wav : torch.Tensor ``[batch, time]`` (zero-padded batch)
    lengths : torch.Tensor ``[batch]`` relative lengths in (0, 1]
    num_samples : int
    generator : torch.Generator (CPU)

    Returns
    -------
    torch.Tensor ``[batch, num_samples]``; examples shorter than that are zero-padded.
    """
    if wav.shape[1] < num_samples:
        wav = torch.nn.functional.pad(wav, (0, num_samples - wav.shape[1]))
    true_len = torch.round(lengths.cpu() * wav.shape[1]).long().clamp(min=num_samples)
    max_start = (true_len - num_samples).clamp(max=wav.shape[1] - num_samples)
    starts = (torch.rand(wav.shape[0], generator=generator) * (max_start + 1)).long()
    index = starts.to(wav.device).unsqueeze(1) + torch.arange(num_samples, device=wav.device)
    return torch.gather(wav, 1, index)


class LoggedBrain(sb.Brain):
    """A Brain that logs, plots and checkpoints at the end of each stage.

    Subclasses provide ``check_hparams(dict)`` (a static method failing early on a bad value),
    ``stage_metrics(loss) -> dict``, ``plot(path, epoch)`` and set ``plot_example`` during evaluation;
    hparams hold ``seed``, ``train_logger``, ``plot_folder``, ``metrics_file``, ``epoch_counter`` and
    optionally ``lr_scheduler`` (stepped after every optimizer step; a resumed run keeps the plan of its own
    hparams, see :meth:`on_fit_start`), ``valid_every`` (validate every N
    epochs and after the last; default 1) and ``plot_every`` (plot at the validations of every N-th epoch and
    the last; default 1). ``train_rng`` is the checkpointed training generator, seeded per
    DDP rank.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.check_hparams(vars(self.hparams))
        for key in ("valid_every", "plot_every"):
            if hasattr(self.hparams, key):
                require(vars(self.hparams), key, lambda v: isinstance(v, int) and v >= 1, "an integer >= 1")
        rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
        self.train_rng = CheckpointedGenerator(self.hparams.seed + 1000 * rank)
        if self.checkpointer is not None:
            self.checkpointer.add_recoverable("train_rng", self.train_rng)

    def on_fit_start(self):
        """Resume from the latest checkpoint, but with this run's learning-rate plan (:data:`SCHEDULE_PLAN`).

        A checkpointed scheduler restores the plan it was built with: a 1-epoch run extended to 2 epochs would go
        on with the 1-epoch schedule, already at its end. The plan from the hparams replaces it; the step count
        stays the checkpoint's. The hparams count the steps of one process: under DDP each of N processes takes
        1/N of them, so the step counts of the plan are divided by N (:func:`per_process_steps`).
        """
        scheduler = getattr(self.hparams, "lr_scheduler", None)
        plan = {key: getattr(scheduler, key) for key in SCHEDULE_PLAN if hasattr(scheduler, key)}
        plan.update(per_process_steps(plan))
        for key, value in plan.items():
            setattr(scheduler, key, value)
        super().on_fit_start()
        restored = {key: getattr(scheduler, key) for key in plan}
        if restored != plan:
            logger.info("Learning-rate plan of the checkpoint %s replaced by this run's %s, from step %s.",
                        restored, plan, getattr(scheduler, "current_step", "?"))
            for key, value in plan.items():
                setattr(scheduler, key, value)

    def on_fit_batch_end(self, batch, outputs, loss, should_step):
        """Per-step learning-rate schedule, if one is configured."""
        scheduler = getattr(self.hparams, "lr_scheduler", None)
        if should_step and scheduler is not None:
            scheduler(self.optimizer)

    def _fit_valid(self, valid_set, epoch, enable):
        """Validate on epochs ``valid_every``, ``2 * valid_every``, ... and the last; after the others, log the
        training loss and keep an end-of-epoch checkpoint to resume from (no loss: never picked as the best)."""
        every = getattr(self.hparams, "valid_every", 1)
        if valid_set is None or epoch % every == 0 or epoch >= self.hparams.epoch_counter.limit:
            return super()._fit_valid(valid_set, epoch, enable)
        lr = self.optimizer.param_groups[0]["lr"]
        self.hparams.train_logger.log_stats(stats_meta={"epoch": epoch, "lr": lr}, train_stats=self.train_stats)
        self.checkpointer.save_and_keep_only(meta={"validated": False}, min_keys=["loss"])
        return None

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Log, plot one validation clip, checkpoint (best = lowest valid loss), write the test metrics."""
        if stage == sb.Stage.TRAIN:
            self.train_stats = {"loss": stage_loss}
            return
        stats = self.stage_metrics(stage_loss)
        if stage == sb.Stage.VALID:
            lr = self.optimizer.param_groups[0]["lr"]
            self.hparams.train_logger.log_stats(
                stats_meta={"epoch": epoch, "lr": lr}, train_stats=self.train_stats, valid_stats=stats
            )
            plot_now = epoch % getattr(self.hparams, "plot_every", 1) == 0 or epoch >= self.hparams.epoch_counter.limit
            if plot_now and if_main_process() and getattr(self, "plot_example", None) is not None:
                self.plot(Path(self.hparams.plot_folder) / f"epoch_{epoch:03d}.png", epoch)
            self.checkpointer.save_and_keep_only(meta={"loss": stage_loss}, min_keys=["loss"])
        else:
            self.hparams.train_logger.log_stats(
                stats_meta={"Epoch loaded": self.hparams.epoch_counter.current}, test_stats=stats
            )
            if if_main_process():
                Path(self.hparams.metrics_file).write_text(json.dumps(stats, indent=2))
