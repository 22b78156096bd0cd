"""prepare.py --shards on the tiny embedded corpus, streamed by two gloo processes: every shard once per epoch."""

import json
import subprocess
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from conftest import DNS_RECIPE

EPOCHS = 3


def read_epochs(rank, world_size, shard_folder, init_file, out_folder):
    """One DDP process: stream its shards for EPOCHS epochs, recording the shards it opened and the ids it got."""
    from speechbrain.dataio.batch import PaddedBatch
    from torch.utils.data import DataLoader

    from maese import shards

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    opened = []
    iter_shard = shards.iter_shard

    def recording(path):
        opened.append(path.name)
        return iter_shard(path)

    shards.iter_shard = recording
    counter = type("Counter", (), {"current": 0})()
    dataset = shards.ShardDataset(shard_folder, seed=1234, epoch_counter=counter, shuffle_buffer=4)
    record = {}
    for epoch in range(1, EPOCHS + 1):
        counter.current = epoch
        opened.clear()
        ids, batches = [], 0
        for batch in DataLoader(dataset, batch_size=2, collate_fn=PaddedBatch):
            ids += batch.id
            batches += 1
            dist.barrier()  # DDP-like lockstep: a rank with an extra batch would hang here
        record[epoch] = {"shards": list(opened), "ids": ids, "batches": batches, "length": len(dataset)}
    (out_folder / f"rank{rank}.json").write_text(json.dumps(record))
    dist.destroy_process_group()


def test_two_processes_read_every_shard_once_per_epoch(tiny_corpus, tmp_path):
    prep, shard_folder = tmp_path / "prep", tmp_path / "shards"
    cmd = [sys.executable, "prepare.py", "--corpus_folder", str(tiny_corpus), "--corpus_size", "tiny",
           "--save_folder", str(prep), "--min_duration", "1.0", "--shards", str(shard_folder), "--num_shards", "5"]
    proc = subprocess.run(cmd, cwd=DNS_RECIPE, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    train_ids = set(json.loads((prep / "pretrain_train.json").read_text()))
    index = json.loads((shard_folder / "shards.json").read_text())
    names = sorted(s["name"] for s in index["shards"])
    assert len(names) == 5 and sum(s["utterances"] for s in index["shards"]) == len(train_ids)

    torch.set_num_threads(1)
    mp.spawn(read_epochs, args=(2, str(shard_folder), tmp_path / "rdzv", tmp_path), nprocs=2, join=True)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assignments = set()
    for epoch in map(str, range(1, EPOCHS + 1)):
        opened = ranks[0][epoch]["shards"] + ranks[1][epoch]["shards"]
        assert sorted(opened) == names, f"epoch {epoch}: shards opened {opened}"
        assert not set(ranks[0][epoch]["shards"]) & set(ranks[1][epoch]["shards"])
        assert set(ranks[0][epoch]["ids"]) | set(ranks[1][epoch]["ids"]) == train_ids
        assert len(ranks[0][epoch]["ids"]) == len(ranks[1][epoch]["ids"]) == ranks[0][epoch]["length"]
        assert ranks[0][epoch]["batches"] == ranks[1][epoch]["batches"]
        assignments.add(tuple(sorted(ranks[0][epoch]["shards"])))
    assert len(assignments) > 1, "the shards should be dealt anew each epoch"


def test_pretraining_streams_shards(tiny_corpus, tmp_path):
    from conftest import run_recipe

    shards, out = tmp_path / "shards", tmp_path / "exp"
    run_recipe(["train.py", "hparams/pretrain.yaml", "--size", "tiny", "--device", "cpu", "--corpus_folder",
                tiny_corpus, "--prep_folder", tmp_path / "prep", "--output_folder", out, "--number_of_epochs", 1,
                "--shard_folder", shards, "--num_shards", 2])
    index = json.loads((shards / "shards.json").read_text())
    assert len(index["shards"]) == 2
    metrics = json.loads((out / "valid_metrics.json").read_text())
    assert metrics["visible_input_l1"] > 0 and metrics["loss"] == metrics["loss"]  # finite
    assert "epoch: 1" in (out / "train_log.txt").read_text()
