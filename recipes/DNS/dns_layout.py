"""The DNS Challenge layout, as the DNS recipe reads it: its parts checked, and each part at the model's rate.

A DNS-layout folder holds ``clean/``, ``noise/`` and ``impulse_responses/`` (the 16 kHz release, ``datasets/``), or
``clean_fullband/``, ``noise_fullband/`` and ``impulse_responses/`` (the 48 kHz release, ``datasets_fullband/``); the
embedded corpus has the same layout. Files at another rate than the model's are resampled once into
``<save_folder>/resampled/<part>/`` (the resampling cache); the data folder is never written to.
"""

import logging
import os
from pathlib import Path

from maese.dataprep import PreparationError, audio_files, resample_to_cache
from maese.simulation.corpus import ensure_corpus

logger = logging.getLogger(__name__)

DNS_FOLDERS = {"clean": "clean speech", "noise": "noise recordings", "impulse_responses": "room impulse responses"}
# The same parts in the challenge's 48 kHz fullband release (datasets_fullband/).
FULLBAND_NAMES = {"clean": "clean_fullband", "noise": "noise_fullband", "impulse_responses": "impulse_responses"}
RELEASE_FOLDERS = ("datasets", "datasets_fullband")
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
    return files, [Path(os.path.abspath(folder)), Path(os.path.abspath(cache))]  # as resample_to_cache names them
