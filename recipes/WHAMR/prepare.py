"""Data preparation for the WHAMR! dereverberation recipe (Maciejewski et al., 2020; http://wham.whisper.ai/).

``data_folder`` is the folder the WHAMR! scripts (``create_wham_from_scratch.py --output-dir``) write:

    whamr/wav16k/min/{tr,cv,tt}/   (also wav8k/, max/: the ``version`` hparam picks one)
        s1_reverb/          speaker 1, reverberant                           <- the input (dereverberation)
        s1_anechoic/        speaker 1, dry, delayed to align with s1_reverb  <- the target
        mix_single_reverb/  s1_reverb + WHAM! noise      <- the input with input_folder: mix_single_reverb
        (s2_*, mix_both_*, mix_clean_*, noise/: not used)
    file names: <wsj0 utterance>_<snr>_<wsj0 utterance>_<snr>.wav, the same in every folder

Each input must have its target twin of the same length (a partial copy stops, with counts). Every file
is resampled once to ``sample_rate`` into ``<cache_folder>/<version>/<split>/<folder>/`` (the corpus is
never written to). Writes ``train.json`` (tr), ``valid.json`` (cv), ``test.json`` (tt) into ``save_folder``,
entries ``{"wav": input, "clean_wav": target, "duration": s}``.
(train.py runs it, with the hparams' values.)
"""

import logging
from pathlib import Path

from maese.dataprep import PreparationError
from maese.pairs import cached_pairs, check_layout, write_pair_manifests

logger = logging.getLogger(__name__)

SPLITS = {"train": "tr", "valid": "cv", "test": "tt"}
TARGET = "s1_anechoic"
INPUTS = ("s1_reverb", "mix_single_reverb")


def split_folders(version, input_folder):
    """The relative (input, target) folders of each split:
    ``{split: (<version>/<tr|cv|tt>/<input>, <version>/<tr|cv|tt>/s1_anechoic)}``."""
    return {split: (f"{version}/{sub}/{input_folder}", f"{version}/{sub}/{TARGET}") for split, sub in SPLITS.items()}


def prepare_whamr(save_folder, data_folder, cache_folder, version="wav16k/min", input_folder="s1_reverb",
                  sample_rate=16000):
    """Write the manifests (see the module docstring); idempotent.

    Arguments
    ---------
    save_folder, data_folder, cache_folder : str
    version : str
        ``wav16k/min`` (default), ``wav16k/max``, ``wav8k/min`` or ``wav8k/max``.
    input_folder : str
        ``s1_reverb`` (dereverberation) or ``mix_single_reverb`` (dereverberation and denoising).
    sample_rate : int
    """
    options = {"data_folder": data_folder, "cache_folder": cache_folder, "version": version,
               "input_folder": input_folder, "sample_rate": sample_rate}
    if input_folder not in INPUTS:
        raise PreparationError(f"input_folder: got {input_folder!r}, expected one of {list(INPUTS)}.")
    if data_folder is None:
        raise PreparationError("--data_folder: give the WHAMR! folder (the one holding wav16k/; see the README).")
    folders = split_folders(version, input_folder)

    def make_splits():
        check_layout(data_folder, [f for pair in folders.values() for f in pair], f"WHAMR! ({version})",
                     "the --output-dir of the WHAMR! scripts")
        return {split: cached_pairs(data_folder, cache_folder, inputs, target, sample_rate)
                for split, (inputs, target) in folders.items()}

    write_pair_manifests(save_folder, options, make_splits)


def test_input_folder(cache_folder, version, input_folder):
    """The cached test inputs (what the recipe enhances and scores)."""
    return Path(cache_folder) / split_folders(version, input_folder)["test"][0]
