"""Prepared audio as WebDataset tar shards, streamed so that each DDP rank reads its own shards.

A shard is a plain tar file in the WebDataset layout: per utterance ``<key>.wav`` (16-bit PCM at
the model's rate) and ``<key>.json`` (``{"id", "duration", "samples"}``), the two members of one
utterance next to each other. Such shards can be read by the ``webdataset`` package (pinned in
requirements.txt; tests/unit/test_shards.py reads them with it) as well as by :class:`ShardDataset`,
which needs no package beyond this project's; shards written by ``webdataset.ShardWriter`` in the same
layout are read by :class:`ShardDataset` once :func:`index_shards` has listed them. ``shards.json`` in
the shard folder lists the shards with their utterance counts and is written last (it marks a finished
folder).

Reading: every epoch the shard list is shuffled with ``seed + epoch``, then dealt round-robin to the
ranks (shard ``i`` of the shuffled list goes to rank ``i % world_size``) and, inside a rank, to the
DataLoader workers, so every shard is read exactly once per epoch across all processes, on one node
or several. All ranks yield the same number of utterances (the largest rank's share: a rank with
fewer repeats some of its own, as ``DistributedSampler`` pads), so DDP never waits on a rank with an
extra batch and no utterance is left out.

Resuming: :class:`ShardLoader` checkpoints the number of batches it has given in the epoch; a run resumed
from an intra-epoch checkpoint re-reads the epoch's shards in the same order and skips (without decoding)
what every worker had already yielded, so it goes on with the batch the killed run would have taken next.
With ``read_log``, every process appends a line per shard it opens to ``<read_log>/rank<r>.jsonl``.
"""

import io
import itertools
import json
import logging
import os
import tarfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from speechbrain.utils.checkpoints import mark_as_loader, mark_as_saver, register_checkpoint_hooks
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from maese.audio import load_audio
from maese.dataio import read_manifest, write_json

logger = logging.getLogger(__name__)

INDEX = "shards.json"
SHARD_NAME = "shard-{:06d}.tar"


class ShardError(ValueError):
    """A shard folder that cannot be written or read; the message says what to do."""


def shard_key(uid):
    """A WebDataset key for ``uid``: WebDataset splits member names at the first dot, so dots go."""
    return uid.replace(".", "_").replace("/", "_")


def _add_member(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0  # byte-identical shards from the same input
    tar.addfile(info, io.BytesIO(data))


def _wav_bytes(wav, sample_rate):
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(wav.numpy(), -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def write_shards(manifest, shard_folder, sample_rate=16000, num_shards=None, utterances_per_shard=1000, seed=0):
    """Write the audio of a manifest as tar shards in ``shard_folder``; idempotent.

    Arguments
    ---------
    manifest : str or Path
        A JSON manifest (``{id: {"wav": path, ...}}``).
    shard_folder : str or Path
    sample_rate : int
        The audio is stored at this rate (resampled if needed), mono.
    num_shards : int or None
        How many shards; ``None``: enough for ``utterances_per_shard`` each. For DDP make it a
        multiple of the number of processes. Utterances are dealt to shards round-robin after a
        seeded shuffle, so shard sizes differ by at most one.
    utterances_per_shard : int
    seed : int

    Returns
    -------
    list of Path: the shards.
    """
    shard_folder = Path(shard_folder)
    entries = read_manifest(manifest)
    options = {"manifest": str(Path(manifest).resolve()), "sample_rate": sample_rate, "num_shards": num_shards,
               "utterances_per_shard": utterances_per_shard, "seed": seed, "utterances": len(entries)}
    index_path = shard_folder / INDEX
    if index_path.is_file():
        index = json.loads(index_path.read_text())
        if index["options"] != options:
            raise ShardError(f"{shard_folder} holds shards written with other options; use another folder or delete it.")
        return [shard_folder / s["name"] for s in index["shards"]]
    if num_shards is None:
        num_shards = max(1, -(-len(entries) // utterances_per_shard))
    if num_shards > len(entries):
        raise ShardError(f"num_shards={num_shards} is more than the {len(entries)} utterances of {manifest}.")
    ids = sorted(entries)
    order = np.random.default_rng(seed).permutation(len(ids))
    shard_folder.mkdir(parents=True, exist_ok=True)
    listed = []
    for shard in range(num_shards):
        chosen = [ids[i] for i in order[shard::num_shards]]
        name = SHARD_NAME.format(shard)
        tmp = shard_folder / f".{name}.tmp"
        with tarfile.open(tmp, "w") as tar:
            for uid in chosen:
                wav = load_audio(entries[uid]["wav"], sample_rate)
                key = shard_key(uid)
                meta = {"id": uid, "duration": round(wav.numel() / sample_rate, 4), "samples": wav.numel()}
                _add_member(tar, f"{key}.json", json.dumps(meta, sort_keys=True).encode())
                _add_member(tar, f"{key}.wav", _wav_bytes(wav, sample_rate))
        os.replace(tmp, shard_folder / name)
        listed.append({"name": name, "utterances": len(chosen)})
    write_json(index_path, {"options": options, "sample_rate": sample_rate, "shards": listed})
    logger.info("%s: %d utterances in %d shards", shard_folder, len(entries), num_shards)
    return [shard_folder / s["name"] for s in listed]


def index_shards(shard_folder, sample_rate):
    """Write ``shards.json`` for a folder of tar shards written by other tools (e.g. ``webdataset.ShardWriter``).

    Each utterance must hold a ``wav`` member (mono, at ``sample_rate``) and a ``json`` member with its
    ``id``, as :func:`write_shards` writes them; a shard without them fails, naming the shard and the key.
    The shards are listed in name order with their utterance counts; the audio is not decoded here (a
    wrong rate fails when it is read).

    Returns
    -------
    list of Path: the shards.
    """
    shard_folder = Path(shard_folder)
    paths = sorted(shard_folder.glob("*.tar"))
    if not paths:
        raise ShardError(f"{shard_folder} holds no .tar shards; write them there first.")
    listed = []
    for path in paths:
        count = 0
        for key, members in iter_shard(path):
            if not {"wav", "json"} <= set(members):
                raise ShardError(f"{path}: utterance {key!r} has members {sorted(members)}; each needs a 'wav' "
                                 "and a 'json' (with its 'id'): write them as maese.shards.write_shards does.")
            count += 1
        listed.append({"name": path.name, "utterances": count})
    options = {"indexed": str(shard_folder.resolve()), "sample_rate": sample_rate}
    write_json(shard_folder / INDEX, {"options": options, "sample_rate": sample_rate, "shards": listed})
    return paths


def read_index(shard_folder):
    """``[(shard path, utterance count)]`` of a finished shard folder, and its sample rate."""
    index_path = Path(shard_folder) / INDEX
    if not index_path.is_file():
        raise ShardError(f"{shard_folder}: no {INDEX}; write the shards first (prepare.py --shards {shard_folder}).")
    index = json.loads(index_path.read_text())
    return [(Path(shard_folder) / s["name"], s["utterances"]) for s in index["shards"]], index["sample_rate"]


def split_shards(shards, rank, world_size, epoch, seed):
    """The shards of ``rank`` for ``epoch``: a shuffle by ``seed + epoch``, then every ``world_size``-th.

    Arguments
    ---------
    shards : list
        Anything (paths, or (path, count) pairs); the same list on every rank.
    rank, world_size, epoch, seed : int

    Returns
    -------
    list: this rank's share; the shares of all ranks partition ``shards``.
    """
    if len(shards) < world_size:
        raise ShardError(f"{len(shards)} shards for {world_size} processes: every process needs one; "
                         "write at least as many shards as processes (--num_shards).")
    order = np.random.default_rng(seed + epoch).permutation(len(shards))
    return [shards[i] for i in order[rank::world_size]]


def iter_shard(path):
    """``(key, {"wav": bytes, "json": bytes})`` per utterance of a tar shard, in order."""
    current, members = None, {}
    with tarfile.open(path, "r") as tar:
        for info in tar:
            if not info.isfile():
                continue
            key, _, ext = info.name.partition(".")
            if current is not None and key != current:
                yield current, members
                members = {}
            current = key
            members[ext] = tar.extractfile(info).read()
    if current is not None:
        yield current, members


def _decode(members, sample_rate):
    meta = json.loads(members["json"])
    data, rate = sf.read(io.BytesIO(members["wav"]), dtype="float32")
    if rate != sample_rate:
        raise ShardError(f"A shard holds {rate} Hz audio, expected {sample_rate} Hz; write the shards again.")
    return {"id": meta["id"], "sig": torch.from_numpy(data)}


def worker_targets(counts, num_workers, target):
    """Utterances each DataLoader worker yields: its shards' (``counts[w::num_workers]``), the first worker
    also repeating some of its own to bring the rank's total up to ``target``."""
    totals = [sum(counts[w::num_workers]) for w in range(num_workers)]
    totals[0] += target - sum(totals)
    return totals


def worker_batches(totals, batch_size, drop_last):
    """Batches each DataLoader worker makes of its ``totals[w]`` utterances (it batches its own stream)."""
    return [n // batch_size if drop_last else -(-n // batch_size) for n in totals]


def resume_plan(totals, batch_size, drop_last, batches):
    """Where each DataLoader worker stands once the DataLoader has given ``batches`` batches of an epoch.

    The DataLoader takes one batch from each worker in turn, passing over the workers that have finished
    (PyTorch's order for an ``IterableDataset``); a worker's last batch may be short (``drop_last`` off).

    Returns
    -------
    ``(skips, first)``: the utterances each worker had yielded, and the worker whose batch comes next. A
    resumed DataLoader starts again with its worker 0, so its worker ``i`` plays worker ``(first + i) %
    num_workers``: the turns then go on as in the uninterrupted epoch.
    """
    left = worker_batches(totals, batch_size, drop_last)
    taken = [0] * len(totals)
    worker = 0
    for _ in range(min(batches, sum(left))):
        while left[worker] == 0:
            worker = (worker + 1) % len(totals)
        taken[worker] += 1
        left[worker] -= 1
        worker = (worker + 1) % len(totals)
    return [min(n * batch_size, total) for n, total in zip(taken, totals)], worker


class ShardDataset(IterableDataset):
    """Stream ``{"id", "sig"}`` items (``sig``: float32 ``[time]``) from the shards of a folder.

    Each process reads only its own shards (see the module docstring), so it needs no sampler:
    give the DataLoader no ``shuffle`` (utterances are shuffled within a buffer instead).

    Arguments
    ---------
    shard_folder : str or Path
        Written by :func:`write_shards`.
    sample_rate : int
        Must be the rate the shards hold.
    seed : int
    rank, world_size : int or None
        ``None``: from ``torch.distributed`` when it is initialised, else from the ``RANK`` /
        ``WORLD_SIZE`` environment variables (set by torchrun), else 0 / 1.
    epoch_counter : object with ``current`` or None
        E.g. SpeechBrain's ``EpochCounter``: the epoch is read from it when iteration starts (a
        resumed run reshuffles as the straight run did). Without it, call :meth:`set_epoch`.
    shuffle_buffer : int
        Utterances are yielded in a random order within a buffer of this size (0: shard order).
    equal_length : bool
        Every rank yields the largest rank's number of utterances, repeating some (needed by DDP).
    read_log : str, Path or None
        A folder: each process appends one JSON line per shard it opens (epoch, rank, worker, shard, and the
        utterances the worker skips on a resume) to ``rank<r>.jsonl`` there.
    """

    def __init__(self, shard_folder, sample_rate=16000, seed=0, rank=None, world_size=None, epoch_counter=None,
                 shuffle_buffer=100, equal_length=True, read_log=None):
        super().__init__()
        self.shards, rate = read_index(shard_folder)
        if rate != sample_rate:
            raise ShardError(f"{shard_folder} holds {rate} Hz audio; the model runs at {sample_rate} Hz.")
        self.sample_rate, self.seed = sample_rate, seed
        self._rank, self._world_size = rank, world_size
        self.epoch_counter, self.epoch = epoch_counter, 0
        self.shuffle_buffer, self.equal_length = shuffle_buffer, equal_length
        self.read_log = read_log
        self.resume_at = (0, 1, False)  # (batches already given this epoch, batch size, drop_last): ShardLoader sets it

    def set_epoch(self, epoch):
        """Use ``epoch`` for the next iteration's shuffle (when no epoch counter is given)."""
        self.epoch = epoch

    @property
    def rank_and_world_size(self):
        if self._rank is not None:
            return self._rank, self._world_size or 1
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_rank(), torch.distributed.get_world_size()
        return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))

    def current_epoch(self):
        return int(self.epoch_counter.current) if self.epoch_counter is not None else self.epoch

    def rank_length(self, epoch=None):
        """Utterances each rank yields in ``epoch`` (the same on all ranks when ``equal_length``)."""
        rank, world_size = self.rank_and_world_size
        epoch = self.current_epoch() if epoch is None else epoch
        shares = [split_shards(self.shards, r, world_size, epoch, self.seed) for r in range(world_size)]
        totals = [sum(count for _, count in share) for share in shares]
        return max(totals) if self.equal_length else totals[rank]

    def __len__(self):
        return self.rank_length()

    def log_read(self, record):
        """Append ``record`` (the shard being opened) to this rank's line of ``read_log``, if any."""
        if self.read_log is None:
            return
        Path(self.read_log).mkdir(parents=True, exist_ok=True)
        with open(Path(self.read_log) / f"rank{record['rank']}.jsonl", "a") as log:
            log.write(json.dumps(record) + "\n")

    def __iter__(self):
        """This worker's utterances of the epoch, after those it yielded before a resume (read eagerly: the
        DataLoader resets ``resume_at`` once the iteration has started)."""
        rank, world_size = self.rank_and_world_size
        epoch = self.current_epoch()
        mine = split_shards(self.shards, rank, world_size, epoch, self.seed)
        worker = get_worker_info()
        loader_worker, num_workers = (worker.id, worker.num_workers) if worker else (0, 1)
        targets = worker_targets([c for _, c in mine], num_workers, self.rank_length(epoch))
        skips, first = resume_plan(targets, *self.resume_at[1:], self.resume_at[0])
        worker_id = (first + loader_worker) % num_workers  # the worker of the uninterrupted epoch this one plays
        skip = skips[worker_id]
        paths = [path for path, _ in mine][worker_id::num_workers]
        rng = np.random.default_rng([self.seed, epoch, rank, worker_id])
        where = {"epoch": epoch, "rank": rank, "world_size": world_size, "worker": worker_id, "skipped": skip}
        members = itertools.islice(self._members(paths, targets[worker_id], rng, where), skip, None)
        return (_decode(m, self.sample_rate) for m in members)

    def _members(self, paths, target, rng, where):
        """The raw members of the ``target`` utterances a worker yields from ``paths``, in their order: shuffled
        within the buffer, then (a rank with fewer utterances) its first ones again, as DistributedSampler pads."""
        buffer, seen, yielded = [], [], 0

        def shuffled():
            for path in paths:
                self.log_read({**where, "shard": path.name})
                for _, members in iter_shard(path):
                    buffer.append(members)
                    if len(seen) < target:
                        seen.append(members)  # for the repeats that even out the ranks
                    if len(buffer) > self.shuffle_buffer:
                        yield buffer.pop(int(rng.integers(len(buffer))))
            while buffer:
                yield buffer.pop(int(rng.integers(len(buffer))))

        for members in shuffled():
            if yielded == target:
                return
            yield members
            yielded += 1
        while yielded < target:
            yield seen[yielded % len(seen)]
            yielded += 1


class ShardLoader(DataLoader):
    """A DataLoader of a :class:`ShardDataset` whose position in the epoch is checkpointed.

    Registered with a Checkpointer, it saves how many batches it has given in the current epoch; loaded
    from an intra-epoch checkpoint, its next iteration makes every worker skip what it had yielded up to
    there (see :func:`resume_plan`), so the epoch goes on where it stopped. SpeechBrain's
    ``SaveableDataLoader`` cannot do this for an ``IterableDataset``: it would restart the epoch.
    """

    def __init__(self, dataset, **kwargs):
        if kwargs.get("persistent_workers"):
            raise ShardError("ShardLoader: persistent_workers would keep the first epoch's shard order; leave it off.")
        super().__init__(dataset, **kwargs)
        self.start_batch, self._given_before, self._iterator = 0, 0, None

    def __iter__(self):
        self.dataset.resume_at = (self.start_batch, self.batch_size, self.drop_last)
        self._given_before, self.start_batch = self.start_batch, 0
        self._iterator = super().__iter__()  # the workers start here, with resume_at set
        self.dataset.resume_at = (0, 1, False)
        return self._iterator

    @mark_as_saver
    def save(self, path):
        """Write the batches given in this epoch (``null`` before the first iteration)."""
        given = None if self._iterator is None else self._given_before + self._iterator._num_yielded
        Path(path).write_text(json.dumps({"batches": given}))

    @mark_as_loader
    def load(self, path, end_of_epoch=False):
        """Resume inside the epoch from an intra-epoch checkpoint; an end-of-epoch one starts the next epoch
        afresh, and a load once iterating (the best checkpoint, for evaluation) changes nothing."""
        if end_of_epoch or self._iterator is not None:
            return
        self.start_batch = json.loads(Path(path).read_text())["batches"] or 0


register_checkpoint_hooks(ShardLoader)


def shard_train_data(hparams):
    """Pre-training data streamed from ``hparams["shard_folder"]``, for a recipe's ``train.py``.

    Writes the shards of ``<prep_folder>/pretrain_train.json`` there first (on the main process) unless
    the folder already holds finished shards (e.g. from ``prepare.py --shards``), then returns a
    :class:`ShardLoader` registered with the checkpointer as ``dataloader-TRAIN`` (a killed run resumes
    inside its epoch), built with ``train_dataloader_opts`` less ``shuffle`` (the dataset shuffles, and a
    DataLoader cannot shuffle an IterableDataset) and with SpeechBrain's ``PaddedBatch``. Uses the hparams
    ``prep_folder``, ``sample_rate``, ``seed``, ``epoch_counter``, ``checkpointer``, ``train_dataloader_opts``
    and, if set, ``num_shards`` and ``shard_read_log`` (the dataset's ``read_log``).
    """
    from speechbrain.dataio.batch import PaddedBatch
    from speechbrain.utils.distributed import run_on_main

    folder = Path(hparams["shard_folder"])
    if not (folder / INDEX).is_file():
        manifest = Path(hparams["prep_folder"]) / "pretrain_train.json"
        run_on_main(write_shards, args=[manifest, folder, hparams["sample_rate"], hparams.get("num_shards")],
                    kwargs={"seed": hparams["seed"]})
    dataset = ShardDataset(folder, hparams["sample_rate"], hparams["seed"], epoch_counter=hparams["epoch_counter"],
                           read_log=hparams.get("shard_read_log"))
    options = {k: v for k, v in hparams["train_dataloader_opts"].items() if k != "shuffle"}
    options.setdefault("collate_fn", PaddedBatch)  # SpeechBrain adds it only for its DynamicItemDatasets
    loader = ShardLoader(dataset, **options)
    hparams["checkpointer"].add_recoverable("dataloader-TRAIN", loader)
    return loader
