"""recipes/DNS train.py under DDP on the CPU (gloo): pre-training streamed from shards by two processes (disjoint
shards per rank, equal weights, a killed run resumed in the same shard order), fine-tuning by two processes against
one, and two nodes on one machine (two torchrun launchers, c10d rendezvous on a free port of 127.0.0.1).

The shards each rank read come from the per-rank records the pre-training writes as it opens them
(``<output_folder>/shard_reads/rank<r>.jsonl``); each rank's weights from ``recipe_probe.py`` after training.
"""

import json

import pytest
from recipe_runs import (
    finish,
    free_port,
    kill_after_checkpoint,
    lr_log,
    max_difference,
    node_launchers,
    read_records,
    run,
    single_node,
    start,
    weights,
)

from conftest import fake_pretraining
from test_dns_pretrain import epoch_losses

SHARDS = [f"shard-00000{i}.tar" for i in range(4)]


@pytest.fixture(scope="module")
def prepared(tiny_corpus, tmp_path_factory):
    """(corpus, prep folder, shard folder, a fake pre-training's save folder)."""
    root = tmp_path_factory.mktemp("ddp")
    return tiny_corpus, root / "prep", root / "shards", fake_pretraining(root / "pretrain" / "save")


def pretrain_args(prepared, out):
    """Tiny pre-training from 4 shards, batches of 2 (3 steps an epoch per rank), a checkpoint every 2 steps."""
    corpus, prep, shards, _ = prepared
    return ["train.py", "hparams/pretrain.yaml", "--size", "tiny", "--device", "cpu", "--corpus_folder", corpus,
            "--prep_folder", prep, "--output_folder", out, "--number_of_epochs", 2, "--batch_size", 2,
            "--shard_folder", shards, "--num_shards", 4, "--ckpt_interval_steps", 2, "--distributed_backend", "gloo"]


def finetune_args(prepared, out, *extra):
    corpus, prep, _, pretrained = prepared
    return ["train.py", "hparams/finetune_denoise.yaml", "--size", "tiny", "--device", "cpu", "--corpus_folder",
            corpus, "--prep_folder", prep, "--pretrained_folder", pretrained, "--output_folder", out, *extra]


def shards_by_epoch(records, rank):
    """{epoch: [shards rank opened, in order]} from the read records."""
    read = {}
    for record in records[rank]:
        read.setdefault(record["epoch"], []).append(record["shard"])
    return read


def assert_disjoint_shards(records, epochs=(1, 2)):
    """Every epoch, the two ranks opened disjoint shards that together are all of them."""
    assert sorted(records) == [0, 1], f"records of ranks {sorted(records)}"
    for epoch in epochs:
        mine, theirs = (shards_by_epoch(records, rank).get(epoch, []) for rank in (0, 1))
        assert mine and theirs, f"epoch {epoch}: a rank read nothing ({mine}, {theirs})"
        assert not set(mine) & set(theirs), f"epoch {epoch}: both ranks read {set(mine) & set(theirs)}"
        assert sorted(mine + theirs) == SHARDS, f"epoch {epoch}: {mine} + {theirs}"


def assert_equal_ranks(folder):
    """Both ranks ended training with the same weights."""
    assert max_difference(weights(folder, 0), weights(folder, 1)) == 0.0


@pytest.fixture(scope="module")
def straight_pretraining(prepared, tmp_path_factory):
    """Folder of an uninterrupted 2-process pre-training from shards: out/ and the ranks' weights/."""
    root = tmp_path_factory.mktemp("straight_pretraining")
    run(pretrain_args(prepared, root / "out"), single_node(2), weights=root / "weights")
    return root


def test_two_processes_read_disjoint_shards_and_end_equal(straight_pretraining):
    records = read_records(straight_pretraining / "out" / "shard_reads")
    assert_disjoint_shards(records)
    assert all(r["world_size"] == 2 and r["skipped"] == 0 for rank in records for r in records[rank])
    assert shards_by_epoch(records, 0)[1] != shards_by_epoch(records, 0)[2], "the shards are dealt anew each epoch"
    assert_equal_ranks(straight_pretraining / "weights")
    assert sorted(epoch_losses(straight_pretraining / "out" / "train_log.txt")) == [1, 2]


def test_a_killed_two_process_pretraining_resumes_in_the_same_shard_order(prepared, straight_pretraining, tmp_path):
    """Killed in epoch 2 after its intra-epoch checkpoint (step 2 of 3), resumed: the same shards in the same order,
    the rest of the epoch only (each rank skips the 4 utterances it had yielded), the same loss curve and weights."""
    out = tmp_path / "killed"
    args = pretrain_args(prepared, out)
    assert kill_after_checkpoint(args, tmp_path / "paused", 2, ranks=2, launcher=single_node(2)) == (2, 2)
    before = read_records(out / "shard_reads")
    run(args, single_node(2), weights=tmp_path / "weights")
    after = read_records(out / "shard_reads")
    straight = read_records(straight_pretraining / "out" / "shard_reads")
    for rank in (0, 1):
        resumed = after[rank][len(before[rank]):]
        assert [r["shard"] for r in resumed] == shards_by_epoch(straight, rank)[2], f"rank {rank}"
        assert {(r["epoch"], r["skipped"]) for r in resumed} == {(2, 4)}, f"rank {rank}: {resumed}"
    assert epoch_losses(out / "train_log.txt") == epoch_losses(straight_pretraining / "out" / "train_log.txt")
    assert_equal_ranks(tmp_path / "weights")
    assert max_difference(weights(tmp_path / "weights"), weights(straight_pretraining / "weights")) == 0.0


def test_finetuning_with_two_processes_against_one(prepared, tmp_path):
    """Two processes with batches of 2 (4 utterances a step, 2 steps an epoch) against one with batches of 4 (the
    same 4 utterances a step: the DDP sampler deals the single run's batch to the two ranks).

    The LR plan (``total_steps`` = finetune_epochs * examples_per_epoch // finetune_batch_size) counts the steps of
    one process: 8 at batches of 2, where each of the two ranks takes 4, so the Brain divides it by the world size
    and both runs step at the same rates (without that, measured: the two processes stepped at 8.75, 7.5, 6.25,
    5 e-4, ending at half of lr, where the one process steps at 7.5, 5, 2.5, 0 e-4).

    They are still not the same training: every rank draws its own on-the-fly pairs (noise, SNR, crop) from its
    own generator (``seed + 1000 * rank``), so half of each step's pairs differ. Measured on this tiny run (2 epochs,
    4 steps, the same initialisation) before the LR plan was divided: valid loss -1.5374 (one) against -1.4849
    (two), SI-SDR 12.49 against 12.57 dB, PESQ 1.365 against 1.367. The tolerances below are about twice those
    differences; a run that trains on the wrong data or diverges between ranks is caught by the equal weights of
    the ranks, the exact count of steps and their rates.
    """
    one, two = tmp_path / "one", tmp_path / "two"
    run(finetune_args(prepared, one, "--finetune_batch_size", 4), lr_log=tmp_path / "one_lr")
    run(finetune_args(prepared, two, "--finetune_batch_size", 2, "--distributed_backend", "gloo"), single_node(2),
        weights=tmp_path / "weights", lr_log=tmp_path / "two_lr")
    assert_equal_ranks(tmp_path / "weights")
    for rank in (0, 1):
        steps = [(epoch, step) for epoch, step, _ in lr_log(tmp_path / "two_lr", rank)]
        assert steps == [(1, 1), (1, 2), (2, 1), (2, 2)], f"rank {rank}: each takes half the steps"
        rates = [lr for _, _, lr in lr_log(tmp_path / "two_lr", rank)]
        assert rates == pytest.approx([lr for _, _, lr in lr_log(tmp_path / "one_lr")]), f"rank {rank}: the LR plan"
    single, double = (json.loads((out / "valid_metrics.json").read_text()) for out in (one, two))
    assert double["loss"] == pytest.approx(single["loss"], abs=0.1)
    assert double["si_sdr"] == pytest.approx(single["si_sdr"], abs=0.2)
    assert double["pesq"] == pytest.approx(single["pesq"], abs=0.01)


def test_two_nodes_on_one_machine(prepared, tmp_path):
    """Two torchrun launchers (``--nnodes 2``, one process each) meet at a c10d rendezvous on a free port: the
    pre-training's two ranks read disjoint shards and end equal, then a fine-tuning runs the same way."""
    for task, args in (("pretrain", pretrain_args(prepared, tmp_path / "pretrain")),
                       ("finetune", finetune_args(prepared, tmp_path / "finetune", "--distributed_backend", "gloo"))):
        launchers = node_launchers(free_port())
        finish([start(args, launcher, weights=tmp_path / f"{task}_weights") for launcher in launchers])
        assert_equal_ranks(tmp_path / f"{task}_weights")
    assert_disjoint_shards(read_records(tmp_path / "pretrain" / "shard_reads"))
    assert sorted(epoch_losses(tmp_path / "finetune" / "train_log.txt")) == [1, 2]
    assert json.loads((tmp_path / "finetune" / "valid_metrics.json").read_text())["pesq"] > 1
