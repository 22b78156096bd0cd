"""Data preparation for the DNS recipe: JSON manifests from a DNS-Challenge-layout folder.

With no ``data_folder``, the embedded synthetic corpus (same layout) is built once and used.

Pre-training sees only noisy speech. From a DNS layout the noisy input is mixed once from the
``clean/`` folder and one half of the ``noise/`` folder; the other half feeds the augmentation
stack, so the noise the stack adds is never the noise already in its input. A folder of the user's
own noisy recordings (``unlabeled_folder``, any rate) can be used instead.

Writes into ``save_folder``:
  pretrain_train.json, pretrain_valid.json   noisy utterances (the pre-training input and target)
  stack_noise.json, stack_rirs.json          the augmentation stack's noise and impulse responses

Fine-tuning (:func:`prepare_paired`) adds, from the same layout plus ``valid_set/<task>/``:
  paired_clean_<fraction>.json               the clean utterances of the paired share
  finetune_noise.json, finetune_rirs.json    all of noise/ and impulse_responses/ (pairs are made on the fly)
  valid_<task>.json                          the fixed validation pairs {"wav": input, "clean_wav": target}
"""

import logging
import math
from pathlib import Path

import numpy as np

from maese.audio import read_info
from maese.brains.finetune import TASK_INPUT
from maese.dataio import check_audio_entries
from maese.dataprep import (
    PreparationError,
    audio_files,
    audio_manifest,
    is_prepared,
    mark_prepared,
    mix_noisy_copies,
    split_entries,
    split_files,
    write_audio_manifest,
)
from maese.simulation.corpus import ensure_corpus

logger = logging.getLogger(__name__)

DNS_FOLDERS = {"clean": "clean speech", "noise": "noise recordings", "impulse_responses": "room impulse responses"}


def check_dns_layout(data_folder):
    """Fail at once, naming every missing sub-folder, if ``data_folder`` is not a DNS layout."""
    data_folder = Path(data_folder)
    if not data_folder.is_dir():
        raise PreparationError(f"--data_folder {data_folder} does not exist.")
    missing = [f"{name}/ ({what})" for name, what in DNS_FOLDERS.items() if not (data_folder / name).is_dir()]
    if missing:
        raise PreparationError(
            f"{data_folder} is not a DNS Challenge layout: missing {', '.join(missing)}. "
            "Point --data_folder at the folder holding clean/, noise/ and impulse_responses/ "
            "(in the DNS release: datasets/)."
        )


def dns_folder(data_folder, corpus_folder, corpus_size):
    """The checked DNS-layout folder: ``data_folder``, or the embedded corpus (built once) in ``corpus_folder``."""
    if data_folder is None:
        if corpus_folder is None:
            raise PreparationError(
                "Give data_folder (a DNS layout) or corpus_folder (where to build the embedded corpus)."
            )
        data_folder = ensure_corpus(corpus_folder, corpus_size)
    check_dns_layout(data_folder)
    return Path(data_folder)


def prepare_dns(
    save_folder,
    data_folder=None,
    unlabeled_folder=None,
    corpus_folder=None,
    corpus_size="small",
    valid_fraction=0.05,
    mix_noise_fraction=0.5,
    mix_snr_range=(20.0, 40.0),
    min_duration=2.0,
    sample_rate=16000,
    seed=1234,
):
    """Write the pre-training manifests (see the module docstring); idempotent.

    Arguments
    ---------
    save_folder : str
    data_folder : str or None
        A DNS-layout folder; ``None`` builds/uses the embedded corpus in ``corpus_folder``.
    unlabeled_folder : str or None
        The user's own noisy recordings (no clean needed); replaces the mixed noisy input.
    corpus_folder, corpus_size : str
        Where and at which size the embedded corpus is built when ``data_folder`` is None.
    valid_fraction : float
        Share of noisy utterances held out for validation.
    mix_noise_fraction : float
        Share of the noise files used to make the noisy input; the rest feed the stack.
    mix_snr_range : (float, float)
        SNR (dB) range of the one-off noisy mixes.
    min_duration : float
        Utterances shorter than this (s) are left out (pre-training crops fixed-length segments).
    sample_rate : int
    seed : int
    """
    options = {k: v for k, v in locals().items() if k != "save_folder"}
    save_folder = Path(save_folder)
    if is_prepared(save_folder, options):
        logger.info("%s already prepared; skipping.", save_folder)
        return
    save_folder.mkdir(parents=True, exist_ok=True)
    data_folder = dns_folder(data_folder, corpus_folder, corpus_size)

    noise_files = audio_files(data_folder / "noise", DNS_FOLDERS["noise"])
    rir_files = audio_files(data_folder / "impulse_responses", DNS_FOLDERS["impulse_responses"])
    if unlabeled_folder is not None:
        folder = Path(unlabeled_folder)
        noisy, dropped = audio_manifest(audio_files(folder, "noisy recordings"), root=folder, min_duration=min_duration)
        stack_noise = noise_files
    else:
        mix_noise, stack_noise = split_files(noise_files, mix_noise_fraction, seed)
        if not mix_noise or not stack_noise:
            raise PreparationError(f"{data_folder / 'noise'}: need at least 2 noise files, found {len(noise_files)}.")
        clean_folder = data_folder / "clean"
        clean, dropped = audio_manifest(
            audio_files(clean_folder, DNS_FOLDERS["clean"]), root=clean_folder, min_duration=min_duration
        )
        check_audio_entries(clean, manifest_name=str(clean_folder))
        noisy = mix_noisy_copies(clean, mix_noise, save_folder / "noisy_input", mix_snr_range, seed, sample_rate)
    if dropped:
        logger.warning("Left out %d utterances shorter than min_duration=%.1f s.", dropped, min_duration)
    if len(noisy) < 2:
        raise PreparationError(f"Only {len(noisy)} utterances of at least {min_duration} s; lower min_duration or add data.")
    check_audio_entries(noisy, manifest_name="noisy pre-training input")

    stack_noise_entries, _ = audio_manifest(stack_noise, root=data_folder / "noise")
    rir_entries, _ = audio_manifest(rir_files, root=data_folder / "impulse_responses")
    check_audio_entries(stack_noise_entries, manifest_name=str(data_folder / "noise"))
    check_audio_entries(rir_entries, manifest_name=str(data_folder / "impulse_responses"))

    train, valid = split_entries(noisy, valid_fraction, seed)
    write_audio_manifest(save_folder / "pretrain_train.json", train)
    write_audio_manifest(save_folder / "pretrain_valid.json", valid)
    write_audio_manifest(save_folder / "stack_noise.json", stack_noise_entries)
    write_audio_manifest(save_folder / "stack_rirs.json", rir_entries)
    mark_prepared(save_folder, options)


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


def paired_manifest(save_folder, paired_fraction):
    """Path of the manifest of the clean training utterances of ``paired_fraction``."""
    return Path(save_folder) / f"paired_clean_{paired_fraction:g}.json"


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
        As in :func:`prepare_dns`.
    min_paired_utterances : int
        The paired share holds at least this many utterances.
    min_duration : float
        Clean utterances shorter than this (s) are left out (training crops fixed-length segments).
    seed : int
        Seeds the choice of the paired share.
    """
    options = {k: v for k, v in locals().items() if k != "save_folder"}
    save_folder = Path(save_folder)
    name = f"paired_{enhance_task}_{paired_fraction:g}"
    if is_prepared(save_folder, options, name):
        logger.info("%s already prepared for %s; skipping.", save_folder, name)
        return
    save_folder.mkdir(parents=True, exist_ok=True)
    data_folder = dns_folder(data_folder, corpus_folder, corpus_size)

    clean_folder = data_folder / "clean"
    clean, dropped = audio_manifest(audio_files(clean_folder, DNS_FOLDERS["clean"]), root=clean_folder,
                                    min_duration=min_duration)
    if dropped:
        logger.warning("Left out %d clean utterances shorter than min_duration=%.1f s.", dropped, min_duration)
    chosen = paired_subset(clean, paired_fraction, seed, min_paired_utterances)
    if len(chosen) < min_paired_utterances:
        raise PreparationError(
            f"{clean_folder}: only {len(chosen)} clean utterances of at least {min_duration} s; "
            f"min_paired_utterances is {min_paired_utterances}."
        )
    paired = {uid: clean[uid] for uid in chosen}
    check_audio_entries(paired, manifest_name=str(clean_folder))
    valid = pair_entries(data_folder / "valid_set" / enhance_task, TASK_INPUT[enhance_task])
    check_audio_entries(valid, key="clean_wav", manifest_name=f"{data_folder}/valid_set/{enhance_task}")
    noise, _ = audio_manifest(audio_files(data_folder / "noise", DNS_FOLDERS["noise"]), root=data_folder / "noise")
    rirs, _ = audio_manifest(audio_files(data_folder / "impulse_responses", DNS_FOLDERS["impulse_responses"]),
                             root=data_folder / "impulse_responses")

    write_audio_manifest(paired_manifest(save_folder, paired_fraction), paired)
    write_audio_manifest(save_folder / f"valid_{enhance_task}.json", valid)
    write_audio_manifest(save_folder / "finetune_noise.json", noise)
    write_audio_manifest(save_folder / "finetune_rirs.json", rirs)
    mark_prepared(save_folder, options, name)
