"""Corpora distributed as fixed pairs: an input folder and a target folder holding files of the same names.

Used by the recipes whose corpus gives its pairs as they are (VoiceBank-DEMAND's noisy/clean, WHAMR!'s
reverberant/anechoic...): every input must have its target twin of the same length, and a partial copy
is reported with counts, never silently used. The files are resampled once into a cache folder (the
corpus is never written to); the manifest entries are ``{"wav": input, "clean_wav": target, "duration"}``,
as :func:`maese.brains.finetune.paired_dataset` reads them.
"""

import logging
from pathlib import Path

from maese.audio import load_audio, read_info, save_audio
from maese.dataio import check_audio_entries
from maese.dataprep import PreparationError, audio_files, is_prepared, mark_prepared, write_audio_manifest

logger = logging.getLogger(__name__)


def check_layout(data_folder, expected, corpus, hint):
    """Fail at once, naming every missing sub-folder, if ``data_folder`` lacks one of ``expected`` (relative paths).

    Arguments
    ---------
    corpus : str
        The corpus' name, for the message.
    hint : str
        Where such a folder is found (e.g. "the corpus' zip files unzipped side by side").
    """
    data_folder = Path(data_folder)
    if not data_folder.is_dir():
        raise PreparationError(f"--data_folder {data_folder} does not exist.")
    missing = [name for name in expected if not (data_folder / name).is_dir()]
    if missing:
        raise PreparationError(
            f"{data_folder} is not the {corpus} layout: missing {', '.join(missing)}. "
            f"Point --data_folder at the folder holding {', '.join(f'{n}/' for n in expected)} ({hint})."
        )


def twin_names(data_folder, input_name, target_name):
    """Sorted audio file names (relative paths) present in both sub-folders; a file without its twin raises,
    with counts."""
    folders = {name: Path(data_folder) / name for name in (input_name, target_name)}
    names = {name: {str(p.relative_to(folder)) for p in audio_files(folder, f"audio files ({name})")}
             for name, folder in folders.items()}
    inputs, targets = names[input_name], names[target_name]
    if inputs != targets:
        only_in, only_target = sorted(inputs - targets), sorted(targets - inputs)
        raise PreparationError(
            f"{data_folder}: {input_name}/ and {target_name}/ do not hold the same files "
            f"({len(targets)} {target_name}, {len(inputs)} {input_name}, {len(inputs & targets)} paired): "
            f"{len(only_target)} {target_name} files without their {input_name} twin (e.g. {only_target[:3]}), "
            f"{len(only_in)} {input_name} files without their {target_name} twin (e.g. {only_in[:3]}). "
            "Is the copy complete? Re-copy or re-extract the corpus."
        )
    return sorted(inputs)


def resample_into(src, dst, sample_rate):
    """``src`` resampled to ``sample_rate`` as ``dst`` (16-bit, written atomically); an existing ``dst`` is kept.

    Returns
    -------
    float: the duration of ``dst`` in seconds.
    """
    dst = Path(dst)
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        save_audio(dst, load_audio(src, sample_rate), sample_rate)
    return read_info(dst).duration


def cached_pairs(data_folder, cache_folder, input_name, target_name, sample_rate):
    """Manifest entries of the pairs of two sub-folders, resampled into ``cache_folder/<sub-folder>/``.

    Ids are the relative paths without suffix (``/`` -> ``_``). Pairs of different lengths raise, with counts.
    """
    if Path(cache_folder).resolve().is_relative_to(Path(data_folder).resolve()):
        raise PreparationError(f"cache_folder {cache_folder} lies inside data_folder; the corpus is never written to.")
    entries, mismatched = {}, []
    for name in twin_names(data_folder, input_name, target_name):
        paths = [Path(cache_folder) / folder / Path(name).with_suffix(".wav") for folder in (input_name, target_name)]
        durations = [resample_into(Path(data_folder) / folder / name, path, sample_rate)
                     for folder, path in zip((input_name, target_name), paths)]
        if abs(durations[0] - durations[1]) > 1.0 / sample_rate:
            mismatched.append(f"{name} ({durations[0]:.3f} s {input_name}, {durations[1]:.3f} s {target_name})")
        uid = str(Path(name).with_suffix("")).replace("/", "_")
        entries[uid] = {"wav": str(paths[0].resolve()), "clean_wav": str(paths[1].resolve()),
                        "duration": round(durations[0], 4)}
    if mismatched:
        raise PreparationError(
            f"{data_folder}: {len(mismatched)} of {len(entries)} pairs of {input_name}/ and {target_name}/ differ "
            f"in length, e.g. {mismatched[:3]}. A truncated copy? Re-copy these files."
        )
    return entries


def write_pair_manifests(save_folder, options, make_splits):
    """Write ``<save_folder>/<split>.json`` for each split of ``make_splits()``, unless already prepared so.

    Arguments
    ---------
    save_folder : str or Path
    options : dict
        The preparation's options (a folder prepared with others raises, see :func:`maese.dataprep.is_prepared`).
    make_splits : callable
        ``() -> {split: entries}`` (e.g. from :func:`cached_pairs`); only called when there is work to do.
    """
    save_folder = Path(save_folder)
    if is_prepared(save_folder, options):
        logger.info("%s already prepared; skipping.", save_folder)
        return
    splits = make_splits()
    for split, entries in splits.items():
        check_audio_entries(entries, key="clean_wav", manifest_name=f"{split} pairs")
    save_folder.mkdir(parents=True, exist_ok=True)
    for split, entries in splits.items():
        write_audio_manifest(save_folder / f"{split}.json", entries)
    mark_prepared(save_folder, options)
