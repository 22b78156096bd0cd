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
    return files, [folder.resolve(), cache.resolve()]


def prepare_test_sets(save_folder, data_folder, sample_rate=16000):
    """Manifests of the DNS synthetic test sets, if ``data_folder`` has them; idempotent.

    ``test_set/synthetic/{no_reverb,with_reverb}/{noisy,clean}/`` (noisy files end in ``fileid_<N>``,
    their references are ``clean_fileid_<N>``) -> ``<save_folder>/test_synthetic_<name>.json`` with
    ``{"wav": noisy, "clean_wav": clean, "duration"}`` at ``sample_rate`` (resampled once into
    ``<save_folder>/resampled/test_set/...``). A noisy file without its clean twin, or the reverse,
    fails with the counts.

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
    sample_rate : int
        Files at another rate are resampled once into ``<save_folder>/resampled/`` (shared with
        :func:`prepare_dns`).
    """
    options = {k: v for k, v in locals().items() if k != "save_folder"}
    if sample_rate == 16000:  # preparations from before this option stay valid
        del options["sample_rate"]
    save_folder = Path(save_folder)
    name = f"paired_{enhance_task}_{paired_fraction:g}"
    if is_prepared(save_folder, options, name):
        logger.info("%s already prepared for %s; skipping.", save_folder, name)
        return
    save_folder.mkdir(parents=True, exist_ok=True)
    data_folder = dns_folder(data_folder, corpus_folder, corpus_size)

    clean_files, clean_roots = dns_part(data_folder, "clean", save_folder, sample_rate)
    clean_folder = clean_roots[0]
    clean, dropped = audio_manifest(clean_files, root=clean_roots, min_duration=min_duration)
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
    noise, _ = audio_manifest(*dns_part(data_folder, "noise", save_folder, sample_rate))
    rirs, _ = audio_manifest(*dns_part(data_folder, "impulse_responses", save_folder, sample_rate))

    write_audio_manifest(paired_manifest(save_folder, paired_fraction), paired)
    write_audio_manifest(save_folder / f"valid_{enhance_task}.json", valid)
    write_audio_manifest(save_folder / "finetune_noise.json", noise)
    write_audio_manifest(save_folder / "finetune_rirs.json", rirs)
    mark_prepared(save_folder, options, name)


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
