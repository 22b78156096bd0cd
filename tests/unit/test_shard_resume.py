"""maese.shards: a ShardLoader resumed inside an epoch goes on with the batch the straight run would have taken next,
and every process records the shards it opens."""

import itertools
import json
from types import SimpleNamespace

import pytest
from speechbrain.dataio.batch import PaddedBatch
from test_shards import make_manifest

from maese.shards import ShardDataset, ShardError, ShardLoader, resume_plan, write_shards


def loader(folder, rank, num_workers, read_log=None):
    """A rank's ShardLoader (2 ranks, epoch 2) with batches of 2, as the recipe builds it."""
    dataset = ShardDataset(folder, seed=5, rank=rank, world_size=2, epoch_counter=SimpleNamespace(current=2),
                           shuffle_buffer=3, read_log=read_log)
    return ShardLoader(dataset, batch_size=2, drop_last=True, num_workers=num_workers, collate_fn=PaddedBatch)


def batch_ids(batches):
    return [tuple(batch.id) for batch in batches]


def test_resume_plan_follows_the_turns_of_the_workers():
    assert resume_plan([7], 2, True, 2) == ([4], 0)
    assert resume_plan([5, 3], 2, True, 3) == ([4, 2], 1)  # worker 1 has one batch: worker 0 gives the third
    assert resume_plan([5, 3], 2, False, 4) == ([4, 3], 0)  # worker 1's short last batch
    assert resume_plan([5, 3], 2, False, 5) == ([5, 3], 1)
    assert resume_plan([4, 4], 2, True, 0) == ([0, 0], 0)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_resumed_loader_goes_on_where_the_checkpoint_was_saved(tmp_path, num_workers):
    manifest, _ = make_manifest(tmp_path, 17)
    folder = tmp_path / "shards"
    write_shards(manifest, folder, num_shards=5)  # 3 shards for one rank, 2 (fewer utterances) for the other
    for rank in range(2):
        straight = batch_ids(loader(folder, rank, num_workers))
        assert len(straight) >= 4
        for given in (1, 3):
            first = loader(folder, rank, num_workers)
            head = list(itertools.islice(first, given))
            first.save(tmp_path / "position.json")
            assert json.loads((tmp_path / "position.json").read_text()) == {"batches": given}
            resumed = loader(folder, rank, num_workers)
            resumed.load(tmp_path / "position.json", end_of_epoch=False)
            tail = batch_ids(resumed)
            assert batch_ids(head) + tail == straight, f"rank {rank}, {num_workers} workers, resumed after {given}"
            assert batch_ids(resumed) == straight, "the next epoch starts from its beginning"
    end = loader(folder, 0, num_workers)
    end.load(tmp_path / "position.json", end_of_epoch=True)  # an end-of-epoch checkpoint: a fresh epoch
    assert batch_ids(end) == batch_ids(loader(folder, 0, num_workers))


def test_each_rank_records_the_shards_it_opens(tmp_path):
    manifest, _ = make_manifest(tmp_path, 9)
    write_shards(manifest, tmp_path / "shards", num_shards=3)
    log = tmp_path / "reads"
    for rank in range(2):
        list(loader(tmp_path / "shards", rank, 0, read_log=log))
    records = {rank: [json.loads(line) for line in (log / f"rank{rank}.jsonl").read_text().splitlines()]
               for rank in range(2)}
    shards = [[r["shard"] for r in records[rank]] for rank in range(2)]
    assert sorted(shards[0] + shards[1]) == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    assert all(r["rank"] == rank and r["epoch"] == 2 and r["world_size"] == 2 and r["skipped"] == 0
               for rank in range(2) for r in records[rank])


def test_persistent_workers_are_refused(tmp_path):
    manifest, _ = make_manifest(tmp_path, 4)
    write_shards(manifest, tmp_path / "shards", num_shards=2)
    with pytest.raises(ShardError, match="persistent_workers"):
        ShardLoader(ShardDataset(tmp_path / "shards"), num_workers=1, persistent_workers=True)
