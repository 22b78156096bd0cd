"""maese.shards: WebDataset tar shards, the per-rank/per-epoch split, streaming reads."""

import io
import json
import tarfile
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import torch
import webdataset
from torch.utils.data import DataLoader

from maese.audio import load_audio
from maese.dataio import write_manifest
from maese.shards import (
    ShardDataset,
    ShardError,
    index_shards,
    read_index,
    shard_key,
    split_shards,
    worker_targets,
    write_shards,
)


def make_manifest(folder, count, rate=16000):
    """``count`` short utterances (ids with a dot, as real ids can have), some at 48 kHz."""
    entries = {}
    for i in range(count):
        path = folder / "wav" / f"utt{i}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        file_rate = 48000 if i % 3 == 0 else rate
        sf.write(path, (np.random.default_rng(i).uniform(-0.5, 0.5, int(0.2 * file_rate))).astype(np.float32),
                 file_rate, subtype="PCM_16")
        entries[f"spk.{i}"] = {"wav": str(path), "duration": 0.2}
    write_manifest(folder / "train.json", entries)
    return folder / "train.json", entries


def read_all(dataset, **loader_kwargs):
    if not loader_kwargs:
        return list(dataset)
    loader = DataLoader(dataset, batch_size=None, **loader_kwargs)
    return list(loader)


def test_shards_are_webdataset_tars_and_idempotent(tmp_path):
    manifest, entries = make_manifest(tmp_path, 10)
    shards = write_shards(manifest, tmp_path / "shards", num_shards=4, seed=1)
    assert [p.name for p in shards] == [f"shard-00000{i}.tar" for i in range(4)]
    listed, rate = read_index(tmp_path / "shards")
    assert rate == 16000 and sorted(c for _, c in listed) == [2, 2, 3, 3]
    ids = []
    for shard in shards:
        with tarfile.open(shard) as tar:
            names = tar.getnames()
        assert len(names) % 2 == 0
        for meta, wav in zip(names[::2], names[1::2]):  # <key>.json then <key>.wav, side by side
            assert meta.endswith(".json") and wav == meta[:-5] + ".wav" and meta.count(".") == 1
        with tarfile.open(shard) as tar:
            ids += [json.loads(tar.extractfile(n).read())["id"] for n in names[::2]]
    assert sorted(ids) == sorted(entries)
    mtimes = [p.stat().st_mtime_ns for p in shards]
    assert write_shards(manifest, tmp_path / "shards", num_shards=4, seed=1) == shards
    assert [p.stat().st_mtime_ns for p in shards] == mtimes
    with pytest.raises(ShardError, match="other options"):
        write_shards(manifest, tmp_path / "shards", num_shards=5, seed=1)
    with pytest.raises(ShardError, match="more than the 10 utterances"):
        write_shards(manifest, tmp_path / "other", num_shards=11)


def test_split_partitions_the_shards_and_reshuffles_per_epoch():
    shards = list(range(10))
    for world_size in (1, 2, 3):
        for epoch in (1, 2):
            parts = [split_shards(shards, r, world_size, epoch, seed=7) for r in range(world_size)]
            assert sorted(s for p in parts for s in p) == shards
            assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert split_shards(shards, 0, 2, 1, 7) == split_shards(shards, 0, 2, 1, 7)
    assert split_shards(shards, 0, 2, 1, 7) != split_shards(shards, 0, 2, 2, 7)
    with pytest.raises(ShardError, match="2 shards for 3 processes"):
        split_shards([0, 1], 0, 3, 1, 7)
    assert worker_targets([3, 3, 2], 2, 8) == [5, 3] and worker_targets([3, 3, 2], 2, 10) == [7, 3]
    assert worker_targets([3], 2, 4) == [4, 0]


def test_dataset_yields_every_utterance_once(tmp_path):
    manifest, entries = make_manifest(tmp_path, 9)
    write_shards(manifest, tmp_path / "shards", num_shards=3)
    dataset = ShardDataset(tmp_path / "shards", seed=3, rank=0, world_size=1, shuffle_buffer=4)
    items = read_all(dataset)
    assert sorted(i["id"] for i in items) == sorted(entries) and len(dataset) == 9
    for item in items:
        expected = load_audio(entries[item["id"]]["wav"], 16000)
        assert item["sig"].dtype == torch.float32 and item["sig"].shape == expected.shape
        assert torch.allclose(item["sig"], expected, atol=1e-4)  # 16-bit PCM
    workers = read_all(dataset, num_workers=2)
    assert sorted(i["id"] for i in workers) == sorted(entries)


def test_epoch_from_counter_changes_the_order(tmp_path):
    manifest, _ = make_manifest(tmp_path, 8)
    write_shards(manifest, tmp_path / "shards", num_shards=4)
    counter = SimpleNamespace(current=1)
    dataset = ShardDataset(tmp_path / "shards", rank=0, world_size=2, epoch_counter=counter)
    first = [i["id"] for i in dataset]
    assert first == [i["id"] for i in dataset]
    orders = {tuple(first)}
    for epoch in range(2, 6):
        counter.current = epoch
        orders.add(tuple(i["id"] for i in dataset))
    assert len(orders) > 1


def test_ranks_get_equal_lengths_and_bad_rate_fails(tmp_path):
    manifest, entries = make_manifest(tmp_path, 9)
    write_shards(manifest, tmp_path / "shards", num_shards=3)  # 3 shards over 2 ranks: 6 and 3 utterances
    parts = [[i["id"] for i in ShardDataset(tmp_path / "shards", rank=r, world_size=2, shuffle_buffer=2)]
             for r in range(2)]
    assert len(parts[0]) == len(parts[1]) == 6  # the smaller share repeats 3 of its own
    assert set(parts[0]) | set(parts[1]) == set(entries) and not set(parts[0]) & set(parts[1])
    assert len(set(parts[0])) + len(set(parts[1])) == 9
    workers = [read_all(ShardDataset(tmp_path / "shards", rank=r, world_size=2), num_workers=2) for r in range(2)]
    assert [len(w) for w in workers] == [6, 6]
    with pytest.raises(ShardError, match="16000 Hz audio; the model runs at 8000 Hz"):
        ShardDataset(tmp_path / "shards", sample_rate=8000)


def test_webdataset_package_reads_the_shards(tmp_path):
    manifest, entries = make_manifest(tmp_path, 5)
    shards = write_shards(manifest, tmp_path / "shards", num_shards=2)
    samples = list(webdataset.WebDataset([str(p) for p in shards], shardshuffle=False))
    assert sorted(json.loads(s["json"])["id"] for s in samples) == sorted(entries)
    for sample in samples:
        audio, rate = sf.read(io.BytesIO(sample["wav"]), dtype="float32")
        expected = load_audio(entries[json.loads(sample["json"])["id"]]["wav"], 16000)
        assert rate == 16000 and np.allclose(audio, expected.numpy(), atol=1e-4)


def test_shards_written_by_webdataset_are_read(tmp_path):
    manifest, entries = make_manifest(tmp_path, 7)
    folder = tmp_path / "wds"
    folder.mkdir()
    with webdataset.ShardWriter(str(folder / "part-%03d.tar"), maxcount=3, verbose=0) as writer:
        for uid in sorted(entries):
            buffer = io.BytesIO()
            sf.write(buffer, load_audio(entries[uid]["wav"], 16000).numpy(), 16000, subtype="PCM_16", format="WAV")
            writer.write({"__key__": shard_key(uid), "wav": buffer.getvalue(), "json": {"id": uid}})
    shards = index_shards(folder, 16000)
    assert [p.name for p in shards] == ["part-000.tar", "part-001.tar", "part-002.tar"]
    assert [count for _, count in read_index(folder)[0]] == [3, 3, 1]
    items = list(ShardDataset(folder, rank=0, world_size=1, shuffle_buffer=0))
    assert sorted(i["id"] for i in items) == sorted(entries)
    for item in items:
        assert torch.allclose(item["sig"], load_audio(entries[item["id"]]["wav"], 16000), atol=1e-4)
    with webdataset.TarWriter(str(folder / "part-003.tar")) as writer:
        writer.write({"__key__": "lonely", "flac": b"0"})
    with pytest.raises(ShardError, match="part-003.tar: utterance 'lonely' has members \\['flac'\\]"):
        index_shards(folder, 16000)
    with pytest.raises(ShardError, match="holds no .tar shards"):
        index_shards(tmp_path / "wav", 16000)
