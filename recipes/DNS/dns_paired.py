"""The DNS recipe's fine-tuning manifests (:func:`prepare_paired`), from a DNS layout plus ``valid_set/<task>/``:

  paired_clean_<fraction>.json               the clean utterances of the paired share
  paired_clean_<fraction>_<filter>.json      the same, each filtered once by ``target_filter`` (a method of
                                             maese.baselines: wiener, ...) into targets_<filter>/<id>.wav
  finetune_noise.json, finetune_rirs.json    all of noise/ and impulse_responses/ (pairs are made on the fly)
  valid_<task>.json                          the fixed validation pairs {"wav": input, "clean_wav": target}

The DNS release has no ``valid_set/``: there, a tenth of clean/ (at most ``valid_pairs`` utterances), of
noise/ and of impulse_responses/ is held out (seeded, the same for both tasks) and the training distortion
(``snr_range`` for denoising) is applied once to each held-out utterance, seeded per utterance, into
``valid_pairs/<task>/{noisy|reverb,clean}/``; the held-out files are left out of the paired share and of
finetune_noise.json and finetune_rirs.json (pre-training, self-supervised, still sees all of them).
"""

import logging
import math
from pathlib import Path

import numpy as np
import torch
from dns_layout import dns_folder, dns_part
from tqdm import tqdm

from maese.audio import load_audio, read_info, save_audio
from maese.baselines import BASELINES
from maese.brains.finetune import TASK_INPUT, make_distortion, make_pairs
from maese.dataio import check_audio_entries
from maese.dataprep import (
    PreparationError,
    audio_files,
    audio_manifest,
    is_prepared,
    mark_prepared,
    write_audio_manifest,
)

logger = logging.getLogger(__name__)

HELD_OUT = 0.1  # a release without valid_set/: share of clean/, noise/ and impulse_responses/ kept for validation
PEAK = 0.99  # largest sample of a written validation pair (both sides scaled by one gain)


def paired_subset(ids, fraction, seed, minimum=5):
    """Seeded share of ``ids``: ``ceil(fraction * N)`` of them, at least ``minimum`` (at most all).

    One seeded permutation, cut at the share: with the same seed, smaller fractions give subsets
    of larger ones. Returns the chosen ids, sorted.
    """
    ids = sorted(ids)
    order = np.random.default_rng(seed).permutation(len(ids))
    count = min(len(ids), max(minimum, math.ceil(round(fraction * len(ids), 6))))  # 0.07 * 100 = 7.000...01
    return sorted(ids[i] for i in order[:count])


def pair_entries(pair_folder, input_name):
    """Manifest entries of a pair folder: ``<input_name>/<f>`` with its target ``clean/<f>``."""
    pair_folder = Path(pair_folder)
    entries = {}
    for path in audio_files(pair_folder / input_name, f"{input_name} inputs of the pairs"):
        clean = pair_folder / "clean" / path.relative_to(pair_folder / input_name)
        if not clean.is_file():
            raise PreparationError(f"{path} has no clean target at {clean}.")
        uid = str(path.relative_to(pair_folder / input_name).with_suffix("")).replace("/", "_")
        entries[uid] = {"wav": str(path.resolve()), "clean_wav": str(clean.resolve()),
                        "duration": round(read_info(path).duration, 4)}
    return entries


def paired_manifest(save_folder, paired_fraction, target_filter=None):
    """Path of the manifest of the clean training utterances of ``paired_fraction`` (filtered by ``target_filter``)."""
    suffix = f"_{target_filter}" if target_filter else ""
    return Path(save_folder) / f"paired_clean_{paired_fraction:g}{suffix}.json"


def filter_targets(entries, folder, method, sample_rate):
    """``entries`` with each ``wav`` replaced by ``folder/<id>.wav``: the file through ``method`` (a key of
    :data:`maese.baselines.BASELINES`), written once (files already there are kept, so a killed run resumes).

    Clean recordings hold their room's noise floor, which a model trained on them learns to keep; filtered
    targets (a Wiener filter leaves loud speech within 0.1 dB) teach it to remove it (RESULTS.md).
    """
    enhance, folder, filtered = BASELINES[method], Path(folder), {}
    for uid, entry in tqdm(sorted(entries.items()), desc=f"{method} targets"):
        path = folder / f"{uid}.wav"
        if not path.is_file():
            save_audio(path, enhance(load_audio(entry["wav"], sample_rate), sample_rate), sample_rate)
        filtered[uid] = {**entry, "wav": str(path.resolve())}
    return filtered


def hold_out(items, seed, at_most=None):
    """Seeded split of ``items`` into (rest, held out): ``HELD_OUT`` of them, at least one, at most ``at_most``."""
    items = sorted(items)
    count = min(at_most or len(items), max(1, round(HELD_OUT * len(items))))
    held = {items[i] for i in np.random.default_rng(seed).permutation(len(items))[:count]}
    return [x for x in items if x not in held], sorted(held)


def make_valid_pairs(folder, enhance_task, clean, noise_files, rir_files, snr_range, seed, sample_rate):
    """Fixed validation pairs: the training distortion applied once to each ``clean`` utterance, seeded per utterance.

    Writes ``folder/{noisy|reverb}/<id>.wav`` and ``folder/clean/<id>.wav`` (the target, as in training:
    the dry speech at the direct path's level for dereverberation); pairs already written are kept, so a
    killed run resumes. Returns manifest entries ``{"wav": input, "clean_wav": target, "duration"}``.
    """
    distortion = make_distortion(enhance_task, noise_files, rir_files, snr_range, sample_rate, seed)
    folder, entries = Path(folder), {}
    for index, (uid, entry) in enumerate(sorted(clean.items())):
        paths = folder / TASK_INPUT[enhance_task] / f"{uid}.wav", folder / "clean" / f"{uid}.wav"
        if not all(p.is_file() for p in paths):
            generator = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
            pair = make_pairs(distortion, load_audio(entry["wav"], sample_rate)[None], torch.ones(1), generator)
            peak = max(float(w.abs().max()) for w in pair)
            for path, wav in zip(paths, pair):
                save_audio(path, wav[0] * (PEAK / peak if peak > PEAK else 1.0), sample_rate, overwrite=True)
        entries[uid] = {"wav": str(paths[0].resolve()), "clean_wav": str(paths[1].resolve()),
                        "duration": entry["duration"]}
    return entries


def prepare_paired(
    save_folder,
    enhance_task,
    paired_fraction,
    data_folder=None,
    corpus_folder=None,
    corpus_size="small",
    min_paired_utterances=5,
    min_duration=2.0,
    seed=1234,
    sample_rate=16000,
    valid_pairs=200,
    snr_range=(-5.0, 20.0),
    target_filter=None,
):
    """Write the fine-tuning manifests (see the module docstring); idempotent.

    Arguments
    ---------
    save_folder : str
    enhance_task : str
        ``denoise`` or ``dereverb``: which validation pairs (``valid_set/<task>/``).
    paired_fraction : float
        Share of the clean utterances (of at least ``min_duration``) used as paired training data.
    data_folder, corpus_folder, corpus_size
        As in ``prepare.prepare_dns``.
    min_paired_utterances : int
        The paired share holds at least this many utterances.
    min_duration : float
        Clean utterances shorter than this (s) are left out (training crops fixed-length segments).
    seed : int
        Seeds the choice of the paired share (and of the held-out files, without ``valid_set/``).
    sample_rate : int
        Files at another rate are resampled once into ``<save_folder>/resampled/`` (shared with
        ``prepare.prepare_dns``).
    valid_pairs, snr_range
        Without ``valid_set/<task>/`` (the DNS release): at most this many validation pairs, denoising
        ones mixed at an SNR (dB) drawn from ``snr_range`` (the module docstring says how they are made).
    target_filter : str or None
        A key of :data:`maese.baselines.BASELINES`: the paired clean utterances (the training targets, and the
        speech of the training inputs) are that method's output, see :func:`filter_targets`; the validation
        pairs are left as they are.
    """
    if target_filter is not None and target_filter not in BASELINES:
        raise PreparationError(f"target_filter {target_filter!r} is not a method of maese.baselines; choose from "
                               f"{sorted(BASELINES)} (e.g. wiener), or null for the recordings as they are.")
    options = {k: v for k, v in locals().items() if k not in ("save_folder", "target_filter")}  # in the marker's name
    if sample_rate == 16000:  # preparations from before this option stay valid
        del options["sample_rate"]
    held_out = data_folder is not None and not (Path(data_folder) / "valid_set" / enhance_task).is_dir()
    if not held_out:  # the layout's own validation pairs
        del options["valid_pairs"], options["snr_range"]
    save_folder = Path(save_folder)
    name = f"paired_{enhance_task}_{paired_fraction:g}" + (f"_{target_filter}" if target_filter else "")
    if is_prepared(save_folder, options, name):
        logger.info("%s already prepared for %s; skipping.", save_folder, name)
        return
    data_folder = dns_folder(data_folder, corpus_folder, corpus_size)
    save_folder.mkdir(parents=True, exist_ok=True)

    clean_files, clean_roots = dns_part(data_folder, "clean", save_folder, sample_rate)
    clean_folder = clean_roots[0]
    clean, dropped = audio_manifest(clean_files, root=clean_roots, min_duration=min_duration)
    if dropped:
        logger.warning("Left out %d clean utterances shorter than min_duration=%.1f s.", dropped, min_duration)
    noise_files, noise_roots = dns_part(data_folder, "noise", save_folder, sample_rate)
    rir_files, rir_roots = dns_part(data_folder, "impulse_responses", save_folder, sample_rate)
    candidates, note = sorted(clean), ""
    if held_out:
        candidates, valid_clean = hold_out(clean, seed, valid_pairs)
        noise_files, valid_noise = hold_out(noise_files, seed)
        rir_files, valid_rirs = hold_out(rir_files, seed)
        for files, root, what in ((noise_files, noise_roots[0], "noise files"),
                                  (rir_files, rir_roots[0], "impulse responses")):
            if not files:
                raise PreparationError(f"{root}: need at least 2 {what} (one is held out for the validation pairs).")
        note = f" once {len(valid_clean)} are held out for the validation pairs"
    chosen = paired_subset(candidates, paired_fraction, seed, min_paired_utterances)
    if len(chosen) < min_paired_utterances:
        raise PreparationError(
            f"{clean_folder}: only {len(chosen)} clean utterances of at least {min_duration} s{note}; "
            f"min_paired_utterances is {min_paired_utterances}."
        )
    paired = {uid: clean[uid] for uid in chosen}
    check_audio_entries(paired, manifest_name=str(clean_folder))
    if target_filter:
        paired = filter_targets(paired, save_folder / f"targets_{target_filter}", target_filter, sample_rate)
    if held_out:
        valid = make_valid_pairs(save_folder / "valid_pairs" / enhance_task, enhance_task,
                                 {uid: clean[uid] for uid in valid_clean}, valid_noise, valid_rirs, snr_range, seed,
                                 sample_rate)
    else:
        valid = pair_entries(data_folder / "valid_set" / enhance_task, TASK_INPUT[enhance_task])
        check_audio_entries(valid, key="clean_wav", manifest_name=f"{data_folder}/valid_set/{enhance_task}")
    noise, _ = audio_manifest(noise_files, root=noise_roots)
    rirs, _ = audio_manifest(rir_files, root=rir_roots)

    write_audio_manifest(paired_manifest(save_folder, paired_fraction, target_filter), paired)
    write_audio_manifest(save_folder / f"valid_{enhance_task}.json", valid)
    write_audio_manifest(save_folder / "finetune_noise.json", noise)
    write_audio_manifest(save_folder / "finetune_rirs.json", rirs)
    mark_prepared(save_folder, options, name)
