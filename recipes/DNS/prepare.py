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

The DNS release has no ``valid_set/``: there, a tenth of clean/ (at most ``valid_pairs`` utterances), of
noise/ and of impulse_responses/ is held out (seeded, the same for both tasks) and the training distortion
(``snr_range`` for denoising) is applied once to each held-out utterance, seeded per utterance, into
``valid_pairs/<task>/{noisy|reverb,clean}/``; the held-out files are left out of the paired share and of
finetune_noise.json and finetune_rirs.json (pre-training, self-supervised, still sees all of them).

Its synthetic test sets (:func:`prepare_test_sets`) become ``test_synthetic_<name>.json`` and, for scoring,
``test_set/synthetic_<name>/denoise/{noisy,clean}/fileid_<N>.wav`` (links, named alike on both sides).
"""

import logging
import math
import os
from pathlib import Path

import numpy as np
import torch

from maese.audio import load_audio, read_info, save_audio
from maese.brains.finetune import TASK_INPUT, make_distortion, make_pairs
from maese.dataio import check_audio_entries
from maese.dataprep import (
    PreparationError,
    audio_files,
    audio_manifest,
    is_prepared,
    mark_prepared,
    mix_noisy_copies,
    pair_by_fileid,
    resample_to_cache,
    split_entries,
    split_files,
    write_audio_manifest,
)
from maese.shards import write_shards
from maese.simulation.corpus import ensure_corpus

logger = logging.getLogger(__name__)

DNS_FOLDERS = {"clean": "clean speech", "noise": "noise recordings", "impulse_responses": "room impulse responses"}
# The same parts in the challenge's 48 kHz fullband release (datasets_fullband/).
FULLBAND_NAMES = {"clean": "clean_fullband", "noise": "noise_fullband", "impulse_responses": "impulse_responses"}
RELEASE_FOLDERS = ("datasets", "datasets_fullband")
TEST_SETS = ("no_reverb", "with_reverb")  # test_set/synthetic/<name>/{noisy,clean}/
CACHE = "resampled"  # <save_folder>/resampled/<part>/...: copies at the model's rate
HELD_OUT = 0.1  # a release without valid_set/: share of clean/, noise/ and impulse_responses/ kept for validation
PEAK = 0.99  # largest sample of a written validation pair (both sides scaled by one gain)
REAL_SET = "real_set"  # <save_folder>/real_set/<task>/: the real-speech validation set (maese.realdata)


def test_set_folder(save_folder, name):
    """Where :func:`prepare_test_sets` puts test set ``name``'s scoring links: ``<task>/{noisy,clean}/`` inside."""
    return Path(save_folder) / "test_set" / f"synthetic_{name}"


def check_dns_layout(data_folder):
    """The DNS parts of ``data_folder`` ({"clean", "noise", "impulse_responses"} -> folder).

    Accepts the 16 kHz release's names (``clean/``, ``noise/``) and the 48 kHz fullband release's
    (``clean_fullband/``, ``noise_fullband/``). Fails at once, naming every missing sub-folder (and
    the release folder to use instead, when ``data_folder`` is the repository holding it).
    """
    data_folder = Path(data_folder)
    if not data_folder.is_dir():
        raise PreparationError(f"--data_folder {data_folder} does not exist.")
    parts, missing = {}, []
    for name, what in DNS_FOLDERS.items():
        found = [data_folder / n for n in dict.fromkeys((name, FULLBAND_NAMES[name])) if (data_folder / n).is_dir()]
        if found:
            parts[name] = found[0]
        else:
            other = "" if FULLBAND_NAMES[name] == name else f" or {FULLBAND_NAMES[name]}/"
            missing.append(f"{name}/{other} ({what})")
    if missing:
        inside = [str(data_folder / r) for r in RELEASE_FOLDERS if (data_folder / r).is_dir()]
        hint = f" It holds {' and '.join(inside)}: point --data_folder there." if inside else ""
        raise PreparationError(
            f"{data_folder} is not a DNS Challenge layout: missing {', '.join(missing)}. "
            "Point --data_folder at the folder holding clean/, noise/ and impulse_responses/ "
            f"(in the DNS release: datasets/, or datasets_fullband/ for the 48 kHz release).{hint}"
        )
    return parts


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


def rir_files_of(folder):
    """Impulse responses of a DNS ``impulse_responses/`` folder, leaving out SLR28's recorded noises."""
    files = audio_files(folder, DNS_FOLDERS["impulse_responses"])
    rirs = [p for p in files if "noise" not in p.name.lower()]
    if len(rirs) < len(files):
        logger.info("%s: left out %d noise recordings (not impulse responses).", folder, len(files) - len(rirs))
    if not rirs:
        raise PreparationError(f"{folder} holds no impulse responses (only files named *noise*).")
    return rirs


def dns_part(data_folder, part, save_folder, sample_rate):
    """Entries-ready files of one DNS part at ``sample_rate``: -> (files, id roots).

    Files already at the rate are used in place; the others are resampled once into
    ``<save_folder>/resampled/<part>/`` (the data folder is never written to).
    """
    folder = check_dns_layout(data_folder)[part]
    files = rir_files_of(folder) if part == "impulse_responses" else audio_files(folder, DNS_FOLDERS[part])
    cache = Path(save_folder) / CACHE / part
    files, _ = resample_to_cache(files, folder, cache, sample_rate, what=DNS_FOLDERS[part])
    return files, [Path(os.path.abspath(folder)), Path(os.path.abspath(cache))]  # as resample_to_cache names them


def prepare_test_sets(save_folder, data_folder, sample_rate=16000):
    """Manifests of the DNS synthetic test sets, if ``data_folder`` has them; idempotent.

    ``test_set/synthetic/{no_reverb,with_reverb}/{noisy,clean}/`` (noisy files end in ``fileid_<N>``,
    their references are ``clean_fileid_<N>``) -> ``<save_folder>/test_synthetic_<name>.json`` with
    ``{"wav": noisy, "clean_wav": clean, "duration"}`` at ``sample_rate`` (resampled once into
    ``<save_folder>/resampled/test_set/...``), and links ``fileid_<N>.wav`` to both in
    ``test_set_folder(save_folder, name)/denoise/{noisy,clean}/`` for scoring. Both are denoising test
    sets: with_reverb's references are reverberant (the challenge's), so it has no dereverberation
    target. A noisy file without its clean twin, or the reverse, fails with the counts.

    Returns
    -------
    dict: test-set name -> manifest path (empty when there is no ``test_set/synthetic/``).
    """
    options = {"data_folder": str(data_folder), "sample_rate": sample_rate}
    save_folder, data_folder = Path(save_folder), Path(data_folder)
    synthetic = data_folder / "test_set" / "synthetic"
    manifests = {name: save_folder / f"test_synthetic_{name}.json" for name in TEST_SETS
                 if (synthetic / name).is_dir()}
    if not manifests:
        logger.info("%s: no test_set/synthetic/{%s}; no test-set manifests.", data_folder, ",".join(TEST_SETS))
        return {}
    if is_prepared(save_folder, options, "test_sets"):
        return manifests
    save_folder.mkdir(parents=True, exist_ok=True)
    for name, manifest in manifests.items():
        folder = synthetic / name
        for side in ("noisy", "clean"):
            if not (folder / side).is_dir():
                raise PreparationError(f"{folder}: missing {side}/ (the test set's {side} files).")
        pairs = pair_by_fileid(audio_files(folder / "noisy", "noisy test inputs"),
                               audio_files(folder / "clean", "clean test references"), str(folder))
        cache = save_folder / CACHE / "test_set" / "synthetic" / name
        noisy, _ = resample_to_cache([n for n, _ in pairs.values()], folder, cache, sample_rate, f"{name} noisy")
        clean, _ = resample_to_cache([c for _, c in pairs.values()], folder, cache, sample_rate, f"{name} clean")
        entries = {f"{name}_fileid_{i}": {"wav": str(n), "clean_wav": str(c), "duration": round(read_info(n).duration, 4)}
                   for i, n, c in zip(pairs, noisy, clean)}
        write_audio_manifest(manifest, entries)
        for side, files in (("noisy", noisy), ("clean", clean)):  # scoring pairs files by name
            links = test_set_folder(save_folder, name) / "denoise" / side
            links.mkdir(parents=True, exist_ok=True)
            for i, target in zip(pairs, files):
                link, staged = links / f"fileid_{i}.wav", links / f".fileid_{i}.wav.{os.getpid()}"
                staged.symlink_to(Path(target).resolve())
                staged.replace(link)  # atomic: a job preparing the same links beside this one is no error
    mark_prepared(save_folder, options, "test_sets")
    return manifests


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
    if data_folder is not None:  # the embedded corpus is not used: its options do not matter
        options = {k: v for k, v in options.items() if k not in ("corpus_folder", "corpus_size")}
    save_folder = Path(save_folder)
    if is_prepared(save_folder, options):
        logger.info("%s already prepared; skipping.", save_folder)
        return
    data_folder = dns_folder(data_folder, corpus_folder, corpus_size)  # a wrong folder fails before any write
    save_folder.mkdir(parents=True, exist_ok=True)

    noise_files, noise_roots = dns_part(data_folder, "noise", save_folder, sample_rate)
    rir_files, rir_roots = dns_part(data_folder, "impulse_responses", save_folder, sample_rate)
    if unlabeled_folder is not None:
        folder = Path(unlabeled_folder)
        noisy, dropped = audio_manifest(audio_files(folder, "noisy recordings"), root=folder, min_duration=min_duration)
        stack_noise = noise_files
    else:
        mix_noise, stack_noise = split_files(noise_files, mix_noise_fraction, seed)
        if not mix_noise or not stack_noise:
            raise PreparationError(f"{noise_roots[0]}: need at least 2 noise files, found {len(noise_files)}.")
        clean_files, clean_roots = dns_part(data_folder, "clean", save_folder, sample_rate)
        clean, dropped = audio_manifest(clean_files, root=clean_roots, min_duration=min_duration)
        check_audio_entries(clean, manifest_name=str(clean_roots[0]))
        noisy = mix_noisy_copies(clean, mix_noise, save_folder / "noisy_input", mix_snr_range, seed, sample_rate)
    if dropped:
        logger.warning("Left out %d utterances shorter than min_duration=%.1f s.", dropped, min_duration)
    if len(noisy) < 2:
        raise PreparationError(f"Only {len(noisy)} utterances of at least {min_duration} s; lower min_duration or add data.")
    check_audio_entries(noisy, manifest_name="noisy pre-training input")

    stack_noise_entries, _ = audio_manifest(stack_noise, root=noise_roots)
    rir_entries, _ = audio_manifest(rir_files, root=rir_roots)
    check_audio_entries(stack_noise_entries, manifest_name=str(noise_roots[0]))
    check_audio_entries(rir_entries, manifest_name=str(rir_roots[0]))

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
        Seeds the choice of the paired share (and of the held-out files, without ``valid_set/``).
    sample_rate : int
        Files at another rate are resampled once into ``<save_folder>/resampled/`` (shared with
        :func:`prepare_dns`).
    valid_pairs, snr_range
        Without ``valid_set/<task>/`` (the DNS release): at most this many validation pairs, denoising
        ones mixed at an SNR (dB) drawn from ``snr_range`` (the module docstring says how they are made).
    """
    options = {k: v for k, v in locals().items() if k != "save_folder"}
    if sample_rate == 16000:  # preparations from before this option stay valid
        del options["sample_rate"]
    held_out = data_folder is not None and not (Path(data_folder) / "valid_set" / enhance_task).is_dir()
    if not held_out:  # the layout's own validation pairs
        del options["valid_pairs"], options["snr_range"]
    save_folder = Path(save_folder)
    name = f"paired_{enhance_task}_{paired_fraction:g}"
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
    if held_out:
        valid = make_valid_pairs(save_folder / "valid_pairs" / enhance_task, enhance_task,
                                 {uid: clean[uid] for uid in valid_clean}, valid_noise, valid_rirs, snr_range, seed,
                                 sample_rate)
    else:
        valid = pair_entries(data_folder / "valid_set" / enhance_task, TASK_INPUT[enhance_task])
        check_audio_entries(valid, key="clean_wav", manifest_name=f"{data_folder}/valid_set/{enhance_task}")
    noise, _ = audio_manifest(noise_files, root=noise_roots)
    rirs, _ = audio_manifest(rir_files, root=rir_roots)

    write_audio_manifest(paired_manifest(save_folder, paired_fraction), paired)
    write_audio_manifest(save_folder / f"valid_{enhance_task}.json", valid)
    write_audio_manifest(save_folder / "finetune_noise.json", noise)
    write_audio_manifest(save_folder / "finetune_rirs.json", rirs)
    mark_prepared(save_folder, options, name)


def enhancement_splits(prep_folder, data_folder, corpus_folder, enhance_task):
    """The task's folders of inputs to enhance after training, those that exist: ``<split>/<task>`` -> folder.

    The layout's ``valid_set/<task>/`` (else the held-out pairs in ``prep_folder``), its
    ``test_set/{indomain,ood}/<task>/`` (the embedded corpus) and the DNS synthetic test sets prepared by
    :func:`prepare_test_sets` (denoising only), and the real-speech validation set built into
    ``<prep_folder>/real_set/`` (``real_data_folder``), enhanced as split ``real``.
    """
    root, prep = Path(data_folder or corpus_folder), Path(prep_folder)
    valid = root / "valid_set" if (root / "valid_set" / enhance_task).is_dir() else prep / "valid_pairs"
    folders = {"valid": valid, "indomain": root / "test_set" / "indomain", "ood": root / "test_set" / "ood",
               **{f"synthetic_{name}": test_set_folder(prep, name) for name in TEST_SETS}, "real": prep / REAL_SET}
    inputs = {f"{split}/{enhance_task}": folder / enhance_task / TASK_INPUT[enhance_task]
              for split, folder in folders.items()}
    return {split: folder for split, folder in inputs.items() if folder.is_dir()}


def main(argv=None):
    """``python prepare.py --save_folder P [--data_folder D | --corpus_folder C] [--shards DIR]``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--save_folder", required=True, help="where the manifests (and resampled copies) go")
    parser.add_argument("--data_folder", help="a DNS layout: datasets/ or datasets_fullband/ of the release")
    parser.add_argument("--corpus_folder", help="without --data_folder: the embedded corpus (built if missing)")
    parser.add_argument("--corpus_size", default="small", choices=("tiny", "small", "paper"))
    parser.add_argument("--unlabeled_folder", help="your own noisy recordings instead of mixing clean/ and noise/")
    parser.add_argument("--sample_rate", type=int, default=16000)
    parser.add_argument("--min_duration", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--shards", help="also write the pre-training audio as WebDataset tar shards here")
    parser.add_argument("--num_shards", type=int, help="how many shards (a multiple of the DDP process count)")
    parser.add_argument("--utterances_per_shard", type=int, default=1000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        prepare_dns(args.save_folder, data_folder=args.data_folder, unlabeled_folder=args.unlabeled_folder,
                    corpus_folder=args.corpus_folder, corpus_size=args.corpus_size, min_duration=args.min_duration,
                    sample_rate=args.sample_rate, seed=args.seed)
        if args.data_folder:
            prepare_test_sets(args.save_folder, args.data_folder, args.sample_rate)
        if args.shards:
            write_shards(Path(args.save_folder) / "pretrain_train.json", args.shards, args.sample_rate,
                         args.num_shards, args.utterances_per_shard, args.seed)
    except (PreparationError, ValueError) as err:
        raise SystemExit(f"prepare.py: {err}") from None


if __name__ == "__main__":
    main()
