"""A DNS-layout corpus from plain folders of the user's clean speech, noise and (optional) impulse responses.

``python -m maese.simulation.folders --speech S --noise N [--rirs R] --out DIR`` (or :func:`build_folder_corpus`)
writes, in the layout of :mod:`maese.simulation.layout` that ``recipes/DNS`` takes as ``--data_folder``::

    clean/ noise/ impulse_responses/           the train split (links to the user's files; rooms simulated when
                                               no impulse responses are given)
    valid_set/{denoise,dereverb}/              fixed validation pairs: valid speech + valid noise / valid rooms
    test_set/indomain/{denoise,dereverb}/      test pairs: test speech + test noise / rooms never trained on
    valid_set/rirs/ test_set/indomain/rirs/    the simulated rooms of those pairs (without --rirs)

Each folder is split into train / valid / test: by its ``train/ valid/ test/`` sub-folders when it has them
(``shared/data/real`` does: speaker- and noise-source-disjoint), else seeded by group, a group being a
first-level sub-folder (a speaker) or, in a flat folder, a file. Without ``--rirs``, pyroomacoustics rooms
(:mod:`maese.simulation.rooms`) are simulated, each split its own rooms. Pairs are made as the real-speech
validation set's (:func:`maese.realdata.make_pair`): noise at an SNR drawn per pair, the dry speech aligned
with the RIR's direct path as the dereverberation target. Deterministic (item ``i`` of stage ``s`` draws
from ``default_rng([seed, s, i])``), idempotent, and refuses a folder built from other sources or settings.
"""

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

import maese
from maese.audio import AudioError, load_audio, read_info, save_audio
from maese.dataio import list_audio_files, write_json
from maese.realdata import make_pair
from maese.simulation import layout, rooms

SAMPLE_RATE = 16000
SPLITS = ("train", "valid", "test")
SPLIT_SHARES = (0.8, 0.1, 0.1)  # of the groups, for a folder without train/ valid/ test/
MIN_NOISE_SECONDS = 2.0  # a split's noise must cover one training crop
ROOM_STAGES = {"train": 3, "valid": 4, "test": 5}  # seeds of the simulated rooms of each split
PAIR_STAGES = {"valid": 6, "test": 7}


class FolderError(ValueError):
    """A speech, noise or RIR folder that cannot make a corpus; the message names it and the fix."""


def _groups(folder, files):
    """Files grouped by their first-level sub-folder (a speaker), or one group per file in a flat folder."""
    groups = {}
    for path in files:
        rel = path.relative_to(folder)
        groups.setdefault(rel.parts[0] if len(rel.parts) > 1 else rel.as_posix(), []).append(path)
    return groups


def split_folder(folder, what, seed):
    """``{"train", "valid", "test"}`` -> sorted audio files of ``folder`` (see the module docstring).

    Raises :class:`FolderError` naming the folder for a missing folder, no audio, or too few groups to split.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FolderError(f"{what}: {folder} is not a folder; give a folder of {what} files (wav, flac or ogg).")
    if all((folder / s).is_dir() for s in SPLITS):
        found = {s: list_audio_files(folder / s) for s in SPLITS}
        empty = [str(folder / s) for s in SPLITS if not found[s]]
        if empty:
            raise FolderError(f"{what}: {', '.join(empty)} hold no audio files; put {what} in each split folder, "
                              f"or give a folder without train/ valid/ test/ to be split by maese.")
        return found
    files = list_audio_files(folder)
    if not files:
        raise FolderError(f"{what}: {folder} holds no audio files (wav, flac or ogg); give the folder of your {what}.")
    groups = _groups(folder, files)
    if len(groups) < len(SPLITS):
        raise FolderError(f"{what}: {folder} holds {len(groups)} group(s) (sub-folders or files); at least 3 are "
                          "needed to split it into train / valid / test, or lay it out as train/ valid/ test/.")
    names = sorted(groups)
    order = np.random.default_rng([seed, len(names)]).permutation(len(names))
    counts = [max(1, round(share * len(names))) for share in SPLIT_SHARES[1:]]
    cuts = {"valid": order[:counts[0]], "test": order[counts[0]:sum(counts)], "train": order[sum(counts):]}
    return {s: sorted(p for i in cuts[s] for p in groups[names[i]]) for s in SPLITS}


def check_speech(files, folder):
    """Every speech file readable, mono or not, and sampled at 16 kHz or more (else a FolderError naming it)."""
    problems = []
    for path in files:
        try:
            rate = read_info(path).samplerate
        except AudioError as err:
            problems.append(str(err))
            continue
        if rate < SAMPLE_RATE:
            problems.append(f"{path}: sampled at {rate} Hz; the models work at {SAMPLE_RATE} Hz, and speech "
                            f"upsampled from {rate} Hz has no content above {rate // 2} Hz")
    if problems:
        shown = "\n  ".join(problems[:10])
        raise FolderError(f"speech: {len(problems)} of {len(files)} files in {folder} are unusable, e.g.\n  {shown}\n"
                          f"Give clean speech sampled at {SAMPLE_RATE} Hz or more, or remove these files.")


def check_noise(splits, folder):
    """Each split's noise covers :data:`MIN_NOISE_SECONDS` (else a FolderError naming the split and the fix)."""
    for split, files in splits.items():
        try:
            seconds = sum(read_info(p).duration for p in files)
        except AudioError as err:
            raise FolderError(f"noise: {err}") from None
        if seconds < MIN_NOISE_SECONDS:
            raise FolderError(f"noise: the {split} split of {folder} holds {seconds:.2f} s of noise, shorter than one "
                              f"{MIN_NOISE_SECONDS:g}-s training crop; add noise recordings to it.")


def link_files(files, root, out):
    """Links ``out/<path relative to root (or to root/train/)>`` -> each train file (kept if there)."""
    base = Path(root) / "train"
    for path in files:
        link = Path(out) / Path(path).relative_to(base if base in Path(path).parents else root)
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(Path(path).resolve())


def simulate_rooms(out, split, count, seed, domain="train"):
    """``count`` simulated RIRs of ``split`` into ``out/rir_fileid_<i>.wav`` (kept if there) -> list of paths."""
    paths = []
    for index in tqdm(range(count), desc=f"simulating {split} rooms", disable=count < 20):
        path = Path(out) / f"rir_fileid_{index}.wav"
        if not path.is_file():
            rng = np.random.default_rng([seed, ROOM_STAGES[split], index])
            rir, _ = rooms.simulate_rir(rooms.sample_room(rng, domain), SAMPLE_RATE)
            save_audio(path, rir / max(1.0, float(np.abs(rir).max())), SAMPLE_RATE, subtype="FLOAT")
        paths.append(path)
    return paths


def write_pairs(corpus, folder, split, speech, noises, rirs, seed, snr_range):
    """Denoising and dereverberation pairs of ``speech`` into ``corpus/folder/<task>/`` (see the module docstring).

    Returns ``{"denoise": entries, "dereverb": entries}`` (pairs.json manifests, corpus-relative paths).
    """
    noise_audio = [load_audio(p, SAMPLE_RATE).double() for p in noises]
    rir_audio = [load_audio(p, SAMPLE_RATE).double() for p in rirs]
    manifests = {"denoise": {}, "dereverb": {}}
    for index, path in enumerate(tqdm(speech, desc=f"{split} pairs", disable=len(speech) < 20)):
        rng = np.random.default_rng([seed, PAIR_STAGES[split], index])
        noise_id, rir_id = int(rng.integers(len(noise_audio))), int(rng.integers(len(rir_audio)))
        audio, meta = make_pair(load_audio(path, SAMPLE_RATE).double(), noise_audio[noise_id], rir_audio[rir_id],
                                rng, snr_range)
        uid = f"fileid_{index}"
        for task, key in (("denoise", "noisy"), ("dereverb", "reverb")):
            files = {"wav": f"{folder}/{task}/{key}/{uid}.wav", "clean_wav": f"{folder}/{task}/clean/{uid}.wav"}
            for name, array in (("wav", audio[key]), ("clean_wav", audio[f"{task}_clean"])):
                save_audio(Path(corpus) / files[name], array, SAMPLE_RATE, overwrite=True)
            extra = ({"snr": meta["snr"], "noise": str(noises[noise_id])} if task == "denoise"
                     else {"rir": str(rirs[rir_id])})
            manifests[task][uid] = {"source": str(path), "duration": audio[key].size / SAMPLE_RATE, **extra,
                                    **{k: layout.corpus_path(p) for k, p in files.items()}}
    return manifests


def build_folder_corpus(speech, noise, out, rirs=None, seed=0, snr_range=(0.0, 15.0), train_rooms=200,
                        eval_rooms=40):
    """Build (or finish) the corpus of the module docstring in ``out`` -> summary dict.

    Arguments
    ---------
    speech, noise : str or Path
        Folders of clean speech (16 kHz or more) and of noise recordings.
    out : str or Path
        An empty or new folder, or one holding this build (partial or complete).
    rirs : str or Path or None
        A folder of impulse responses; None: simulated rooms, ``train_rooms`` for training and ``eval_rooms``
        each for the validation and test pairs.
    seed : int
        Splits (of folders without train/ valid/ test/), rooms and pairs.
    snr_range : (float, float)
        SNR (dB) of the validation and test denoising pairs.
    """
    speech, noise, out = Path(speech).resolve(), Path(noise).resolve(), Path(out)
    rirs = None if rirs is None else Path(rirs).resolve()
    speech_splits = split_folder(speech, "speech", seed)
    noise_splits = split_folder(noise, "noise", seed)
    rir_splits = None if rirs is None else split_folder(rirs, "impulse responses", seed)
    identity = {
        "kind": "folders", "size": "folders", "seed": seed, "snr_range": [float(v) for v in snr_range],
        "sample_rate": SAMPLE_RATE, "maese": maese.__version__,
        "rooms": None if rirs else {"train": train_rooms, "eval": eval_rooms},
        "sources": {what: {"folder": str(root), **{s: [p.relative_to(root).as_posix() for p in files[s]]
                                                   for s in SPLITS}}
                    for what, root, files in (("speech", speech, speech_splits), ("noise", noise, noise_splits),
                                              ("rirs", rirs, rir_splits)) if files is not None},
    }
    if layout.open_corpus(out, identity):
        print(f"{out}: built from these folders already; nothing to do.")
        return layout.read_json(out / layout.CORPUS_FILE)["summary"]
    check_speech([p for s in SPLITS for p in speech_splits[s]], speech)
    check_noise(noise_splits, noise)
    layout.start_corpus(out, identity)
    link_files(speech_splits["train"], speech, out / "clean")
    link_files(noise_splits["train"], noise, out / "noise")
    if rirs is None:
        counts = {"train": train_rooms, "valid": eval_rooms, "test": eval_rooms}
        where = {"train": "impulse_responses", "valid": "valid_set/rirs", "test": "test_set/indomain/rirs"}
        room_files = {s: simulate_rooms(out / where[s], s, counts[s], seed) for s in SPLITS}
    else:
        link_files(rir_splits["train"], rirs, out / "impulse_responses")
        room_files = rir_splits
    folders = {"valid": "valid_set", "test": "test_set/indomain"}
    for split, folder in folders.items():
        pairs = write_pairs(out, folder, split, speech_splits[split], noise_splits[split], room_files[split], seed,
                            snr_range)
        for task, entries in pairs.items():
            write_json(out / folder / task / "pairs.json", entries)
    summary = {s: {"speech": len(speech_splits[s]), "noise": len(noise_splits[s]), "rirs": len(room_files[s])}
               for s in SPLITS}
    readme = (
        f"# A DNS-layout corpus from plain folders (seed {seed})\n\n"
        f"Built by `python -m maese.simulation.folders --speech {speech} --noise {noise}"
        f"{f' --rirs {rirs}' if rirs else ''} --out DIR`: files per split {summary}. `clean/`, `noise/` and "
        "`impulse_responses/` are the train split; `valid_set/` and `test_set/indomain/` pair the valid and test "
        f"speech with their own noise and rooms (SNR {snr_range[0]:g}-{snr_range[1]:g} dB). The files list is in "
        "corpus.json.\n"
    )
    layout.finish_corpus(out, identity, summary, readme)
    print(f"{out}: built from {speech} and {noise} (files per split: {summary}).")
    return summary


def main(argv=None):
    """Command line: ``python -m maese.simulation.folders --speech S --noise N [--rirs R] --out DIR``."""
    parser = argparse.ArgumentParser(prog="python -m maese.simulation.folders", description=__doc__.split("\n")[0])
    parser.add_argument("--speech", required=True, help="folder of clean speech (train/ valid/ test/, or split here)")
    parser.add_argument("--noise", required=True, help="folder of noise recordings (train/ valid/ test/, or split)")
    parser.add_argument("--rirs", help="folder of impulse responses (default: simulated pyroomacoustics rooms)")
    parser.add_argument("--out", required=True, help="corpus folder (created; a partial build there resumes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--snr", type=float, nargs=2, default=(0.0, 15.0), metavar=("LOW", "HIGH"),
                        help="SNR range (dB) of the validation and test denoising pairs")
    parser.add_argument("--train_rooms", type=int, default=200, help="simulated training rooms (without --rirs)")
    parser.add_argument("--eval_rooms", type=int, default=40, help="simulated rooms of each of valid and test")
    args = parser.parse_args(argv)
    try:
        build_folder_corpus(args.speech, args.noise, args.out, args.rirs, args.seed, tuple(args.snr),
                            args.train_rooms, args.eval_rooms)
    except (FolderError, layout.CorpusError) as err:
        parser.exit(1, f"error: {err}\n")


if __name__ == "__main__":
    main()
