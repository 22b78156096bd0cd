"""The embedded default corpus: synthetic speech, noise and rooms in the DNS Challenge layout.

``python -m maese.simulation.corpus --out DIR --size small`` (or :func:`build_corpus`,
:func:`ensure_corpus`) writes the folders described in :mod:`maese.simulation.layout` and a
README.md in DIR. Every item draws from its own generator ``default_rng([seed, stage, index])``,
so the output is byte-identical for a seed whatever the job count or resume order; items are
written atomically, a killed build resumes, a complete one is left alone.
"""

import argparse
import errno
import json
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

import maese
from maese.acoustics import joint_peak_scale, mix_at_snr
from maese.audio import save_audio
from maese.augment.reverb import convolve_aligned
from maese.simulation import layout, noise, rooms, speech
from maese.simulation.layout import STAGES, CorpusError, corpus_path
from maese.simulation.readme import render_readme
from maese.simulation.text import SentenceGenerator

SAMPLE_RATE = 16000
PEAK = 0.99  # largest sample written; pairs that would exceed it are scaled down jointly
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
SPLIT_STAGE = 0  # stage id of the draw that splits the voices


@dataclass(frozen=True)
class CorpusSize:
    """What one corpus size holds. Counts are files; ``pairs`` per validation split and task, ``test_pairs`` per
    test split (in-domain, out-of-domain) and task."""

    clean_utterances: int
    noise_files: int
    noise_seconds: float
    rooms: int
    pairs: int
    test_pairs: int
    clean_sentences: int = 2
    snr_db: tuple = (-5.0, 20.0)
    reverb_tail_s: float = 0.5
    ood_voice_fraction: float = 0.25
    babble_talkers: int = 6

    def count(self, stage):
        """Number of items of ``stage``."""
        counts = {"clean": self.clean_utterances, "noise": self.noise_files, "rir": self.rooms}
        if stage.kind in counts:
            return counts[stage.kind]
        return self.test_pairs if stage.is_test else self.pairs


SIZES = {
    # for tests: ~1.5 min of speech, builds in seconds
    "tiny": CorpusSize(clean_utterances=12, noise_files=5, noise_seconds=3.0, rooms=4, pairs=3, test_pairs=3),
    # the demo: ~70 min of speech, 7 min of noise, 700 pairs, 310 MB; 16 s on two cores here. 150 pairs per
    # test set, as in the DNS Challenge's synthetic test sets: 50 could not resolve a PESQ difference of 0.03
    "small": CorpusSize(clean_utterances=600, noise_files=40, noise_seconds=10.0, rooms=40, pairs=50, test_pairs=150),
    # the paper's pre-training scale, like DNS: ~480 h of speech, 167 h of noise, ~75 GB;
    # one to a few hours on two cores: use many (--jobs)
    "paper": CorpusSize(clean_utterances=250_000, noise_files=60_000, noise_seconds=10.0, rooms=20_000, pairs=300,
                        test_pairs=300),
}


def corpus_size(size):
    """The :class:`CorpusSize` named ``size``; ValueError listing the sizes otherwise."""
    if size not in SIZES:
        raise ValueError(f"Unknown corpus size {size!r}; choose one of: {', '.join(SIZES)}.")
    return SIZES[size]


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs: the size, the seed and the train/OOD split of voices and families."""

    size: str
    seed: int
    config: CorpusSize
    voices: dict  # domain -> list of voices
    families: dict  # domain -> tuple of noise family names

    def identity(self):
        """JSON-ready dict that identifies the corpus (recorded in corpus.json and the completion marker)."""
        identity = {"size": self.size, "seed": self.seed, "maese_version": maese.__version__,
                    "sample_rate": SAMPLE_RATE, "config": asdict(self.config)}
        return json.loads(json.dumps(identity))  # tuples -> lists, as read back from JSON


def make_plan(size, seed):
    """The :class:`Plan` of a corpus of ``size`` built with ``seed`` (a non-negative integer)."""
    config = corpus_size(size)
    if int(seed) != seed or seed < 0:
        raise ValueError(f"The corpus seed must be a non-negative integer, got {seed!r}.")
    train_voices, ood_voices = speech.split_voices(speech.voice_pool(), config.ood_voice_fraction, [seed, SPLIT_STAGE])
    train_families, ood_families = noise.split_families()
    return Plan(size, int(seed), config, {"train": train_voices, "ood": ood_voices},
                {"train": train_families, "ood": ood_families})


# ----------------------------------------------------------------------------- items
def _utterance(rng, plan, domain, sentences=1):
    """``sentences`` sentences spoken by a random voice of ``domain`` -> (audio, metadata)."""
    params = speech.sample_params(rng, plan.voices[domain])
    text = " ".join(SentenceGenerator(int(rng.integers(2**63)), params.voice.text_language).sentences(sentences))
    meta = {**asdict(params), "voice": params.voice.name, "text": text}
    return speech.synthesize_utterance(text, params, SAMPLE_RATE), meta


def _noise(rng, plan, domain, family, num_samples):
    """A fresh noise draw; babble-like families get talkers of ``domain`` voices only -> (audio, metadata)."""
    talkers, voices = [], []
    if family in noise.TALKER_FAMILIES:
        for _ in range(plan.config.babble_talkers):
            audio, meta = _utterance(rng, plan, domain)
            talkers.append(audio)
            voices.append(meta["voice"])
    audio = noise.generate_noise(family, rng, num_samples, SAMPLE_RATE, talkers=talkers or None)
    return audio, {"family": family, "talker_voices": sorted(set(voices))}


def _room(rng, domain):
    """A simulated room of ``domain`` -> (RIR with direct peak 1, metadata: geometry, RT60, DRR)."""
    rir, info = rooms.simulate_rir(rooms.sample_room(rng, domain), SAMPLE_RATE)
    return rir, {"domain": domain, **info}


def make_clean(rng, index, plan, domain):
    """A training utterance."""
    audio, meta = _utterance(rng, plan, domain, plan.config.clean_sentences)
    return {"wav": audio}, meta


def make_noise(rng, index, plan, domain):
    """A training noise file; families take turns so that each one is present."""
    families = plan.families[domain]
    num_samples = int(plan.config.noise_seconds * SAMPLE_RATE)
    audio, meta = _noise(rng, plan, domain, families[index % len(families)], num_samples)
    return {"wav": audio}, meta


def make_rir(rng, index, plan, domain):
    """A training room impulse response."""
    rir, meta = _room(rng, domain)
    return {"wav": rir}, meta


def make_denoise(rng, index, plan, domain):
    """A (noisy, clean) pair at an exact SNR: new sentence, new noise draw of a ``domain`` family."""
    clean, meta = _utterance(rng, plan, domain)
    families = plan.families[domain]
    noise_audio, noise_meta = _noise(rng, plan, domain, families[index % len(families)], clean.size)
    snr = float(rng.uniform(*plan.config.snr_db))
    noisy = mix_at_snr(torch.from_numpy(clean).double(), torch.from_numpy(noise_audio).double(), snr).numpy()
    (noisy, clean), gain = joint_peak_scale(noisy, clean, peak=PEAK)
    return {"wav": noisy, "clean_wav": clean}, {**meta, **noise_meta, "snr": snr, "gain": gain}


def make_dereverb(rng, index, plan, domain):
    """A (reverberant, dry) pair, the dry speech time-aligned with the RIR's direct path; the RIR too."""
    dry, meta = _utterance(rng, plan, domain)
    dry = np.pad(dry, (0, int(plan.config.reverb_tail_s * SAMPLE_RATE)))  # room for the reverberant tail
    rir, room = _room(rng, domain)
    wet = convolve_aligned(torch.from_numpy(dry)[None].double(), torch.from_numpy(rir)[None].double())[0].numpy()
    (wet, dry), gain = joint_peak_scale(wet, dry, peak=PEAK)
    return {"wav": wet, "clean_wav": dry, "rir_wav": rir}, {**meta, **room, "gain": gain}


MAKERS = {"clean": make_clean, "noise": make_noise, "rir": make_rir, "denoise": make_denoise, "dereverb": make_dereverb}


# ----------------------------------------------------------------------------- workers
_WORKER = {}


def _init_worker(plan, out):
    """Pool initializer: keep the plan and the output folder; one thread per worker."""
    torch.set_num_threads(1)
    _WORKER.update(plan=plan, out=Path(out))


def build_item(task):
    """Make and write item ``index`` of stage ``stage_id``, then record it -> (index, manifest entry)."""
    stage_id, index = task
    plan, out = _WORKER["plan"], _WORKER["out"]
    stage = next(s for s in STAGES if s.stage_id == stage_id)
    rng = np.random.default_rng([plan.seed, stage_id, index])
    audio, meta = MAKERS[stage.kind](rng, index, plan, stage.domain)
    files = stage.files(index)
    for key, path in files.items():
        save_audio(out / path, audio[key], SAMPLE_RATE, subtype="PCM_16", overwrite=True)
    entry = {**meta, "duration": audio["wav"].size / SAMPLE_RATE, **{k: corpus_path(p) for k, p in files.items()}}
    layout.record_item(out, stage, index, entry)
    return index, entry


def _start_method():
    """``fork`` where the platform has it (workers start at once, each makes its own eSpeak engine), else ``spawn``."""
    return "fork" if "fork" in mp.get_all_start_methods() else "spawn"


@contextmanager
def _workers(plan, out, jobs):
    """A ``map(function, tasks)`` callable: in this process for one job, else a pool of ``jobs`` processes."""
    if jobs == 1:  # same state as a worker (one torch thread: bit-identical floats), restored after
        saved, threads = dict(_WORKER), torch.get_num_threads()
        _init_worker(plan, out)
        try:
            yield map
        finally:
            _WORKER.clear()
            _WORKER.update(saved)
            torch.set_num_threads(threads)
        return
    pool = ProcessPoolExecutor(jobs, mp.get_context(_start_method()), initializer=_init_worker, initargs=(plan, out))
    try:  # a worker that dies (e.g. out of memory) raises BrokenProcessPool here instead of hanging
        yield lambda function, tasks: pool.map(function, tasks, chunksize=max(1, min(8, len(tasks) // (4 * jobs))))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def build_stage(out, stage, plan, run):
    """Build the missing items of ``stage`` with ``run`` (a map), then write its manifest -> entries."""
    count = plan.config.count(stage)
    entries = layout.finished_items(out, stage, count)
    todo = [(stage.stage_id, i) for i in range(count) if i not in entries]
    with tqdm(total=count, initial=count - len(todo), desc=stage.folder, unit="file") as bar:
        for index, entry in run(build_item, todo):
            entries[index] = entry
            bar.update()
    layout.finish_stage(out, stage, entries)
    return entries


# ----------------------------------------------------------------------------- summary
def summarize(plan, built):
    """Counts, hours and the train/OOD split of a finished build (``built``: stage folder -> entries)."""
    stages = {}
    for stage in STAGES:
        entries = built[stage.folder].values()
        stages[stage.folder] = {"kind": stage.kind, "domain": stage.domain, "files": len(entries),
                                "hours": round(sum(e["duration"] for e in entries) / 3600, 4)}
    splits = {domain: {"voices": sorted(v.name for v in plan.voices[domain]),
                       "variants": sorted({v.variant for v in plan.voices[domain]}),
                       "languages": sorted({v.language for v in plan.voices[domain]}),
                       "noise_families": list(plan.families[domain]),
                       "rooms": rooms.describe_domain(domain)} for domain in ("train", "ood")}
    return {"stages": stages, "splits": splits}


# ----------------------------------------------------------------------------- entry points
def default_jobs():
    """The number of CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def build_corpus(out, size="small", seed=0, jobs=None):
    """Build (or finish building) the embedded corpus in ``out``.

    Arguments
    ---------
    out : str or Path
        An empty or new folder, or one holding a partial or complete corpus of this size and seed.
    size : str
        A key of ``SIZES``: ``tiny``, ``small`` or ``paper``.
    seed : int
    jobs : int or None
        Worker processes (None: one per core).

    Returns
    -------
    dict: the summary recorded in ``out/corpus.json`` (per stage files and hours, the split).

    Raises
    ------
    ValueError for an unknown size; CorpusError for an unusable folder or a full disk.
    """
    plan = make_plan(size, seed)
    out = Path(out)
    identity = plan.identity()
    if layout.open_corpus(out, identity):
        print(f"{out}: the {size} corpus (seed {seed}) is complete; nothing to do.")
        return layout.read_json(out / layout.CORPUS_FILE)["summary"]
    try:
        layout.start_corpus(out, identity)
        with _workers(plan, out, jobs or default_jobs()) as run:
            built = {stage.folder: build_stage(out, stage, plan, run) for stage in STAGES}
        summary = summarize(plan, built)
        layout.finish_corpus(out, identity, summary, render_readme(identity, summary))
        layout.drop_build_records(out)
    except OSError as err:
        if err.errno in DISK_FULL:
            raise CorpusError(
                f"The disk holding {out} is full ({err.strerror or os.strerror(err.errno)}). Free some space "
                "and re-run the same command: the build resumes, the files already written are kept."
            ) from err
        raise
    print(f"{out}: built the {size} corpus (seed {seed}).")
    return summary


def format_summary(summary):
    """A short table of a corpus summary: files, hours and domain of each folder."""
    lines = [f"{'folder':28s} {'files':>6s} {'hours':>7s}  domain"]
    for folder, stage in summary["stages"].items():
        lines.append(f"{folder:28s} {stage['files']:6d} {stage['hours']:7.3f}  {stage['domain']}")
    return "\n".join(lines)


def ensure_corpus(out, size="small", seed=0, jobs=None):
    """The corpus folder ``out``, built on first use (a complete one is only checked) -> Path.

    Prints the corpus summary (see :func:`format_summary`).
    """
    print(format_summary(build_corpus(out, size, seed, jobs)))
    return Path(out)


def main(argv=None):
    """Command line: ``python -m maese.simulation.corpus --out DIR --size small``."""
    parser = argparse.ArgumentParser(prog="python -m maese.simulation.corpus", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="corpus folder (created; a partial build there resumes)")
    parser.add_argument("--size", default="small", choices=list(SIZES),
                        help="tiny (seconds), small (about a minute on 2 cores), paper (~650 h, ~75 GB: many cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        ensure_corpus(args.out, args.size, args.seed, args.jobs)
    except CorpusError as err:
        parser.exit(1, f"error: {err}\n")


if __name__ == "__main__":
    main()
