"""recipes/DNS train.py killed (SIGKILL) in the middle of an epoch, after an intra-epoch checkpoint, then resumed: the
same loss curve and weights as an uninterrupted run; an extended fine-tuning follows the longer LR schedule.

Every run takes a step-based intra-epoch checkpoint (``--ckpt_interval_steps 2``) and batches of 2 (pre-training:
5 steps an epoch; fine-tuning: 4), and is killed after its third intra-epoch checkpoint: epoch 2, step 2.
"""

import shutil

import pytest
from recipe_runs import intra_epoch_checkpoints, kill_after_checkpoint, lr_log, max_difference, run, weights

from conftest import fake_pretraining
from test_dns_pretrain import epoch_losses

KILLED_AT = (2, 2)  # (epoch, step) of the third intra-epoch checkpoint


@pytest.fixture(scope="module")
def prepared(tiny_corpus, tmp_path_factory):
    """(corpus, prep folder, a fake pre-training's save folder), the prep folder filled by one pre-training epoch."""
    prep = tmp_path_factory.mktemp("prepared")
    pretrained = fake_pretraining(tmp_path_factory.mktemp("pretrain") / "save")
    return tiny_corpus, prep, pretrained


def pretrain_args(prepared, out):
    corpus, prep, _ = prepared
    return ["train.py", "hparams/pretrain.yaml", "--size", "tiny", "--device", "cpu", "--corpus_folder", corpus,
            "--prep_folder", prep, "--output_folder", out, "--number_of_epochs", 2, "--batch_size", 2,
            "--ckpt_interval_steps", 2]


def finetune_args(prepared, out, *extra):
    corpus, prep, pretrained = prepared
    return ["train.py", "hparams/finetune_denoise.yaml", "--size", "tiny", "--device", "cpu", "--corpus_folder",
            corpus, "--prep_folder", prep, "--pretrained_folder", pretrained, "--output_folder", out,
            "--finetune_batch_size", 2, "--ckpt_interval_steps", 2, *extra]


def kill_and_resume(args, out, tmp_path):
    """Kill the run of ``args`` after its third intra-epoch checkpoint, check there is one, resume to the end."""
    assert kill_after_checkpoint(args, tmp_path / "paused", 3) == KILLED_AT
    assert intra_epoch_checkpoints(out / "save"), "killed without an intra-epoch checkpoint to resume from"
    assert sorted(epoch_losses(out / "train_log.txt")) == [1]
    run(args, weights=tmp_path / "resumed_weights", lr_log=tmp_path / "resumed_lr")


def test_pretraining_killed_mid_epoch_resumes_exactly(prepared, tmp_path):
    """The resumed pre-training's loss curve, learning rates and weights are bit-equal to the uninterrupted run's."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    run(pretrain_args(prepared, straight), weights=tmp_path / "straight_weights", lr_log=tmp_path / "straight_lr")
    kill_and_resume(pretrain_args(prepared, killed), killed, tmp_path)
    assert epoch_losses(killed / "train_log.txt") == epoch_losses(straight / "train_log.txt")
    assert lr_log(tmp_path / "resumed_lr") == [row for row in lr_log(tmp_path / "straight_lr") if row[:2] > KILLED_AT]
    assert max_difference(weights(tmp_path / "straight_weights"), weights(tmp_path / "resumed_weights")) == 0.0


@pytest.fixture(scope="module")
def straight_finetuning(prepared, tmp_path_factory):
    """(output folder, LR log) of an uninterrupted 2-epoch fine-tuning, its weights in ``<LR log>/../weights``."""
    root = tmp_path_factory.mktemp("straight_finetuning")
    run(finetune_args(prepared, root / "out"), weights=root / "weights", lr_log=root / "lr")
    return root


def test_finetuning_killed_mid_epoch_resumes_within_1e_4(prepared, straight_finetuning, tmp_path):
    """The resumed fine-tuning's loss curve and weights are within 1e-4 of the uninterrupted run's (measured here:
    bit-equal, like pre-training: the sampler, the generator of the on-the-fly pairs, the optimizer, the scheduler
    and the loader's position are all restored)."""
    killed = tmp_path / "killed"
    kill_and_resume(finetune_args(prepared, killed), killed, tmp_path)
    straight, resumed = epoch_losses(straight_finetuning / "out" / "train_log.txt"), epoch_losses(killed / "train_log.txt")
    assert sorted(resumed) == [1, 2]
    for epoch in (1, 2):
        assert resumed[epoch] == pytest.approx(straight[epoch], rel=1e-4, abs=1e-4), f"epoch {epoch}"
    assert max_difference(weights(straight_finetuning / "weights"), weights(tmp_path / "resumed_weights")) <= 1e-4


def test_an_extended_finetuning_follows_the_longer_schedule(prepared, straight_finetuning, tmp_path):
    """A 1-epoch fine-tuning extended with ``--finetune_epochs 2`` takes epoch 2 at the 2-epoch run's learning rates
    (the checkpointed scheduler was planned for 1 epoch: without the fix its rate stays at 0 through epoch 2)."""
    out = tmp_path / "extended"
    run(finetune_args(prepared, out, "--finetune_epochs", 1), lr_log=tmp_path / "lr")
    shutil.rmtree(out / "enhanced")  # the 1-epoch model's outputs (the extended run enhances again)
    run(finetune_args(prepared, out, "--finetune_epochs", 2), lr_log=tmp_path / "lr")
    extended = [row for row in lr_log(tmp_path / "lr") if row[0] == 2]
    two_epochs = [row for row in lr_log(straight_finetuning / "lr") if row[0] == 2]
    assert len(extended) == 4 and extended == two_epochs
    assert extended[0][2] > 0
