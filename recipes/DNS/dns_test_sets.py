"""The DNS recipe's test sets: the release's synthetic ones prepared for scoring, and the inputs a fine-tuning enhances.

A DNS release's synthetic test sets (:func:`prepare_test_sets`) become ``test_synthetic_<name>.json`` and, for
scoring, ``test_set/synthetic_<name>/denoise/{noisy,clean}/fileid_<N>.wav`` (links, named alike on both sides).
After training, a fine-tuning enhances the task's validation and test inputs (:func:`enhancement_splits`).
"""

import logging
import os
from pathlib import Path

from dns_layout import CACHE

from maese.audio import read_info
from maese.brains.finetune import TASK_INPUT
from maese.dataprep import (
    PreparationError,
    audio_files,
    is_prepared,
    mark_prepared,
    pair_by_fileid,
    resample_to_cache,
    write_audio_manifest,
)

logger = logging.getLogger(__name__)

TEST_SETS = ("no_reverb", "with_reverb")  # test_set/synthetic/<name>/{noisy,clean}/
REAL_SET = "real_set"  # <save_folder>/real_set/<task>/: the real-speech validation set (maese.realdata)


def test_set_folder(save_folder, name):
    """Where :func:`prepare_test_sets` puts test set ``name``'s scoring links: ``<task>/{noisy,clean}/`` inside."""
    return Path(save_folder) / "test_set" / f"synthetic_{name}"


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
