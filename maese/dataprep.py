"""Dataset-agnostic preparation steps: audio manifests, splits, one-off noisy mixes, done-markers."""

import hashlib
import json
import logging
import os
import re
from pathlib import Path

import numpy as np
from tqdm import tqdm

from maese.acoustics import mix_at_snr
from maese.audio import load_audio, read_info, save_audio
from maese.dataio import list_audio_files, write_manifest

logger = logging.getLogger(__name__)


class PreparationError(ValueError):
    """A data folder or preparation option that cannot be used; the message says what to fix."""


def audio_manifest(files, root=None, min_duration=0.0):
    """Manifest entries for audio files, with durations, dropping the too-short ones.

    Arguments
    ---------
    files : list of Path
    root : Path or None
        Ids are the paths relative to ``root`` (without suffix, ``/`` -> ``_``); else the stems.
    min_duration : float
        Files shorter than this (seconds) are left out and counted.

    Returns
    -------
    (dict id -> {"wav", "duration"}, int number of files dropped as too short)
    """
    entries, dropped = {}, 0
    for path in files:
        duration = read_info(path).duration
        if duration < min_duration:
            dropped += 1
            continue
        uid = relative_id(path, root) if root else Path(path).stem
        if uid in entries:
            raise PreparationError(f"Two audio files map to the id {uid!r} ({entries[uid]['wav']} and {path}).")
        entries[uid] = {"wav": str(Path(path).resolve()), "duration": round(duration, 4)}
    return entries, dropped


def relative_id(path, roots):
    """Manifest id of ``path``: its path relative to the first of ``roots`` holding it, no suffix, ``/`` -> ``_``.

    ``roots`` is a folder or a list of folders (a data folder and its resampling cache).
    """
    for root in roots if isinstance(roots, (list, tuple)) else [roots]:
        try:
            return str(Path(path).relative_to(root).with_suffix("")).replace("/", "_")
        except ValueError:
            continue
    raise PreparationError(f"{path} is not under {roots}.")


def split_entries(entries, valid_fraction, seed):
    """Seeded split of a manifest into (train, valid) dicts; valid gets at least one entry."""
    ids = sorted(entries)
    if len(ids) < 2:
        raise PreparationError(f"Need at least 2 utterances to split train/valid, got {len(ids)}.")
    order = np.random.default_rng(seed).permutation(len(ids))
    n_valid = min(len(ids) - 1, max(1, int(round(valid_fraction * len(ids)))))
    valid = {ids[i] for i in order[:n_valid]}
    return ({u: entries[u] for u in ids if u not in valid}, {u: entries[u] for u in ids if u in valid})


def split_files(files, fraction, seed):
    """Seeded split of a file list into two disjoint lists, the first with ``fraction`` of them."""
    files = sorted(files)
    order = np.random.default_rng(seed).permutation(len(files))
    n_first = int(round(fraction * len(files)))
    return sorted(files[i] for i in order[:n_first]), sorted(files[i] for i in order[n_first:])


def noise_segment(rng, noise_files, num_samples, sample_rate):
    """A random segment of ``num_samples`` from a random noise file, tiled if the file is shorter.

    Returns
    -------
    torch.Tensor ``[num_samples]``
    """
    path = noise_files[rng.integers(len(noise_files))]
    noise = load_audio(path, sample_rate)
    if noise.numel() < num_samples:
        noise = noise.repeat(num_samples // noise.numel() + 1)
    start = int(rng.integers(noise.numel() - num_samples + 1))
    return noise[start : start + num_samples]


def mix_noisy_copies(clean_entries, noise_files, out_folder, snr_range, seed, sample_rate=16000):
    """Mix each clean utterance once with noise at a random SNR, writing ``out_folder/<id>.wav``.

    Deterministic per utterance (its own RNG from ``seed`` and its index); existing outputs are kept,
    so an interrupted run resumes. Returns manifest entries with the SNR used.
    """
    out_folder = Path(out_folder)
    entries = {}
    for index, (uid, entry) in enumerate(tqdm(sorted(clean_entries.items()), desc="mixing noisy input")):
        rng = np.random.default_rng([seed, index])
        snr = float(rng.uniform(*snr_range))
        path = out_folder / f"{uid}.wav"
        if not path.exists():
            clean = load_audio(entry["wav"], sample_rate)
            noisy = mix_at_snr(clean, noise_segment(rng, noise_files, clean.numel(), sample_rate), snr)
            peak = noisy.abs().max()
            save_audio(path, noisy / peak * 0.95 if peak > 0.95 else noisy, sample_rate)
        entries[uid] = {"wav": str(path.resolve()), "duration": entry["duration"], "snr_db": round(snr, 3)}
    return entries


def options_digest(options):
    """Stable short hash of a JSON-serialisable dict of options."""
    return hashlib.sha1(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()[:12]


def is_prepared(save_folder, options, name="prepare"):
    """True if ``save_folder`` holds a finished preparation with these options.

    Raises
    ------
    PreparationError if it holds one made with other options (never silently redone).
    """
    marker = Path(save_folder) / f"{name}_done.json"
    if not marker.exists():
        return False
    done = json.loads(marker.read_text())
    if done["digest"] != options_digest(options):
        changed = sorted(k for k in options if done["options"].get(k) != json.loads(json.dumps(options[k], default=str)))
        raise PreparationError(
            f"{save_folder} was prepared with other options (changed: {changed}). "
            "Use another output folder, or delete it to prepare again."
        )
    return True


def mark_prepared(save_folder, options, name="prepare"):
    """Record that ``save_folder`` holds a finished preparation made with ``options``."""
    options = json.loads(json.dumps(options, default=str))
    marker = Path(save_folder) / f"{name}_done.json"
    marker.write_text(json.dumps({"options": options, "digest": options_digest(options)}, indent=2))


def write_audio_manifest(path, entries):
    """Write a manifest and log its size in hours."""
    write_manifest(path, entries)
    hours = sum(e["duration"] for e in entries.values()) / 3600
    logger.info("%s: %d utterances, %.2f h", path, len(entries), hours)


def audio_files(folder, what):
    """Audio files under ``folder``; a missing or empty folder raises naming what was expected."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PreparationError(f"Expected a folder of {what} at {folder}, but it does not exist.")
    files = list_audio_files(folder)
    if not files:
        raise PreparationError(f"{folder} holds no audio files (.wav/.flac/.ogg); expected {what} there.")
    return files


def cached_path(path, root, cache_root):
    """Where the resampled copy of ``root/<rel>`` lives: ``cache_root/<rel>`` with a .wav suffix."""
    return Path(cache_root) / Path(path).relative_to(root).with_suffix(".wav")


def resample_to_cache(files, root, cache_root, sample_rate, what="audio"):
    """Files at ``sample_rate`` (mono) as they are; the others resampled once into ``cache_root``.

    The source folder is never written to. A cached copy that exists is kept (copies are written
    atomically, so an existing one is complete): a second run, or a run resumed after a kill,
    resamples nothing twice. Unreadable sources (empty, truncated, not audio) are all collected
    and reported with counts, never silently skipped.

    Arguments
    ---------
    files : list of Path
        Audio files under ``root``.
    root, cache_root : Path
    sample_rate : int
    what : str
        What the files are, for messages.

    Returns
    -------
    (list of Path to use, int number of files resampled now)
    """
    real_root, real_cache = Path(root).resolve(), Path(cache_root).resolve()
    if real_cache == real_root or real_root in real_cache.parents:
        raise PreparationError(f"The resampling cache {cache_root} must not be inside the data folder {root}.")
    root, cache_root = Path(os.path.abspath(root)), Path(os.path.abspath(cache_root))  # links stay links
    out, problems, resampled = [], [], 0
    for path in tqdm(files, desc=f"checking/resampling {what}", disable=len(files) < 100):
        path = Path(os.path.abspath(path))
        target = cached_path(path, root, cache_root)
        if target.is_file():
            out.append(target)
            continue
        try:
            info = read_info(path)
            if info.samplerate == sample_rate and info.channels == 1:
                out.append(path)
                continue
            wav = load_audio(path, sample_rate).clamp(-1.0, 1.0)
        except ValueError as err:  # AudioError
            problems.append(str(err))
            continue
        save_audio(target, wav, sample_rate, overwrite=True)  # a job beside this one may have written it meanwhile
        out.append(target)
        resampled += 1
    if problems:
        shown = "\n  ".join(problems[:10])
        raise PreparationError(
            f"{root} ({what}): {len(problems)} of {len(files)} files are unusable, e.g.\n  {shown}\n"
            "Is the copy of the dataset complete? Re-copy these files (or remove them) and prepare again."
        )
    if resampled:
        logger.info("%s: resampled %d of %d files to %d Hz into %s", what, resampled, len(files), sample_rate, cache_root)
    return out, resampled


FILEID = re.compile(r"fileid_(\d+)$")


def pair_by_fileid(noisy_files, clean_files, what):
    """Pair DNS-style files on their ``fileid_<N>`` suffix (``..._snr5_fileid_3.wav`` with ``clean_fileid_3.wav``).

    Returns
    -------
    dict: fileid (int) -> (noisy path, clean path)

    Raises
    ------
    PreparationError with counts if any file has no twin, no fileid, or a fileid twice (a partial copy).
    """
    def by_id(files, side):
        found, unnamed, twice = {}, [], []
        for path in files:
            match = FILEID.search(Path(path).stem)
            if not match:
                unnamed.append(Path(path).name)
            elif int(match.group(1)) in found:
                twice.append(Path(path).name)
            else:
                found[int(match.group(1))] = path
        problems = []
        if unnamed:
            problems.append(f"{len(unnamed)} {side} files without a fileid_<N> suffix (e.g. {unnamed[0]})")
        if twice:
            problems.append(f"{len(twice)} {side} files repeat a fileid (e.g. {twice[0]})")
        return found, problems

    noisy, problems = by_id(noisy_files, "noisy")
    clean, more = by_id(clean_files, "clean")
    problems += more
    lone_noisy = sorted(set(noisy) - set(clean))
    lone_clean = sorted(set(clean) - set(noisy))
    if lone_noisy:
        problems.append(f"{len(lone_noisy)} of {len(noisy)} noisy files have no clean twin "
                        f"(e.g. {Path(noisy[lone_noisy[0]]).name})")
    if lone_clean:
        problems.append(f"{len(lone_clean)} of {len(clean)} clean files have no noisy twin "
                        f"(e.g. {Path(clean[lone_clean[0]]).name})")
    if problems:
        raise PreparationError(
            f"{what}: " + "; ".join(problems) + ". The copy looks partial: complete it (or remove the "
            "unmatched files) and prepare again."
        )
    return {i: (noisy[i], clean[i]) for i in sorted(noisy)}
