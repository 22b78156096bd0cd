"""Stage 0 of the DNS recipe: the DNS Challenge archives as Microsoft distributes them (the archive lists of
``download-dns-challenge-3.sh`` and ``-4.sh`` in github.com/microsoft/DNS-Challenge), unpacked into
``<download_folder>/DNS-Challenge/`` in the release's own layout: ``datasets/`` (16 kHz) or ``datasets_fullband/``.

    python download.py --download_folder /data/dns_download [--subsets read_speech noise rirs] [--jobs 4]

``--subsets`` takes a slice that fits a disk (sizes unpacked, the publisher's figures; the archives are about two
thirds of that, and the exact download is printed before anything starts):

  16 kHz (Interspeech 2021, DNS-3 ``datasets/``): read_speech 61 GB, emotional_speech 0.4, french_data 21,
      german_speech 66, italian_speech 14, mandarin_speech 21, russian_speech 5.1, singing_voice 1.0,
      spanish_speech 17, noise 20, rirs 4.3; ``16k``: all of them, 230 GB
  48 kHz (ICASSP 2022, DNS-4 ``datasets_fullband/``): fullband_read_speech 300 GB (160 archives),
      fullband_french_speech 63, fullband_german_speech 263, fullband_italian_speech 39, fullband_russian_speech 12,
      fullband_spanish_speech 66, fullband_vctk 39, fullband_vocalset 1, fullband_emotional_speech 2.3,
      fullband_noise 60, fullband_rirs 4.3; ``fullband``: all of them, 850 GB

Default: ``read_speech noise rirs``, the smallest slice the recipe trains on (85 GB unpacked). The release's impulse
responses live in ``datasets/``; a fullband download links them into ``datasets_fullband/``. Prints the
``--data_folder`` to give run.sh (``datasets_fullband/`` when a fullband subset is fetched). The synthetic test sets
with clean references (Interspeech 2020) are not in these archives: see the recipe's README. Licences: each part
under its source's terms (LibriVox public domain, Audioset CC BY 4.0, Freesound CC0, DEMAND CC BY-SA 3.0, VCTK
ODC-By, SLR26/28 Apache 2.0...: the DNS-Challenge README). No checksums are published: each archive is checked
against the size the server reports, and its SHA-256 recorded at the first download (see maese/download.py).
"""

import argparse
import os

from dns_layout import check_dns_layout

from maese import download
from maese.dataprep import PreparationError

DNS3 = "https://dns3public.blob.core.windows.net/dns3archive/"
DNS4 = "https://dns4public.blob.core.windows.net/dns4archive/"
GB = 1_000_000_000
ROOT = "DNS-Challenge"  # the archives' members start with datasets/ or datasets_fullband/

# DNS-3 wideband: (subset, blob, GB unpacked)
WIDEBAND = [("read_speech", "clean.read_speech", 61), ("emotional_speech", "clean.emotional_speech", 0.403),
            ("french_data", "clean.french_data", 21), ("german_speech", "clean.german_speech", 66),
            ("italian_speech", "clean.italian_speech", 14), ("mandarin_speech", "clean.mandarin_speech", 21),
            ("russian_speech", "clean.russian_speech", 5.1), ("singing_voice", "clean.singing_voice", 0.979),
            ("spanish_speech", "clean.spanish_speech", 17), ("noise", "noise", 20), ("rirs", "impulse_responses", 4.3)]


def fullband_parts(language, count, bounds=()):
    """DNS-4's archive names of one speech folder: the first ones cut at MOS ``bounds``, the others ``NA_NA``."""
    ranges = [f"{low}_{high}" for low, high in zip(bounds, bounds[1:])]
    ranges += ["NA_NA"] * (count - len(ranges))
    return [f"datasets_fullband/{language}_{i:03d}_{r}.tar.bz2" for i, r in enumerate(ranges)]


READ_BOUNDS = ("0.00", "3.72", "3.85", "3.93", "3.98", "4.02", "4.06", "4.09", "4.12", "4.15", "4.17", "4.19", "4.22",
               "4.24", "4.25", "4.27", "4.29", "4.31", "4.33", "4.35", "4.37", "4.39", "4.41", "4.43", "4.45", "4.48",
               "4.51", "4.54", "4.59", "4.71", "NA")
# DNS-4 fullband: (subset, blobs, GB unpacked for all of them)
FULLBAND = [
    ("fullband_read_speech", fullband_parts("read_speech", 160, READ_BOUNDS), 300),
    ("fullband_french_speech", fullband_parts("french_speech", 33), 63),
    ("fullband_german_speech", fullband_parts("german_speech", 141, ("0.00", "3.56", "3.73", "3.84", "3.91", "3.98",
                                                                    "4.04", "4.10", "4.17", "4.25", "4.35", "NA")),
     263),
    ("fullband_italian_speech", fullband_parts("italian_speech", 21, ("0.00", "3.97", "4.19", "4.36", "4.64", "NA")),
     39),
    ("fullband_russian_speech", fullband_parts("russian_speech", 7, ("0.00", "4.26", "NA")), 12),
    ("fullband_spanish_speech", fullband_parts("spanish_speech", 35, ("0.00", "4.02", "4.37", "NA")), 66),
    ("fullband_vctk", fullband_parts("vctk_wav48_silence_trimmed", 15), 39),
    ("fullband_vocalset", ["datasets_fullband/VocalSet_48kHz_mono.tar.bz2"], 1),
    ("fullband_emotional_speech", ["datasets_fullband/emotional_speech.tar.bz2"], 2.3),
    ("fullband_noise", ["datasets_fullband.noise_fullband.tar.bz2"], 60),
    ("fullband_rirs", ["datasets.impulse_responses.tar.bz2"], 4.3),
]
ARCHIVES = (
    [download.Archive(f"datasets/datasets.{blob}.tar.bz2", f"{DNS3}datasets/datasets.{blob}.tar.bz2", unpack_to=ROOT,
                      unpacked_bytes=int(size * GB), subset=subset) for subset, blob, size in WIDEBAND]
    + [download.Archive(blob, DNS4 + blob, unpack_to=ROOT, unpacked_bytes=int(size * GB / len(blobs)), subset=subset)
       for subset, blobs, size in FULLBAND for blob in blobs]
)
GROUPS = {"16k": {subset for subset, _, _ in WIDEBAND}, "fullband": {subset for subset, _, _ in FULLBAND}}
DEFAULT = ["read_speech", "noise", "rirs"]
# DNS-4's speech folders: in clean_fullband/ (the layout prepare.py reads), or beside it as its script's header shows
FULLBAND_SPEECH = ("read_speech", "french_speech", "german_speech", "italian_speech", "russian_speech",
                   "spanish_speech", "vctk_wav48_silence_trimmed", "VocalSet_48kHz_mono", "emotional_speech")


def layout(folder, release):
    """``<folder>/DNS-Challenge/<release>``, checked as dns_layout.py checks it, once the fullband release's parts unpacked
    elsewhere are in place: ``impulse_responses`` linked to ``datasets/impulse_responses``, and speech folders found
    beside ``clean_fullband/`` moved into it (renames; links to folders would not be followed by the preparation)."""
    root = folder / ROOT / release
    if release == "datasets_fullband":
        rirs = root / "impulse_responses"
        if not rirs.exists() and not rirs.is_symlink() and (root.parent / "datasets" / "impulse_responses").is_dir():
            rirs.symlink_to(os.path.join("..", "datasets", "impulse_responses"), target_is_directory=True)
        for name in FULLBAND_SPEECH:
            if (root / name).is_dir():
                download.merge_into(root / name, root / "clean_fullband" / name)
                (root / name).rmdir()
    check_dns_layout(root)
    if not (root / "test_set" / "synthetic").is_dir():
        print(f"{root} has no test_set/synthetic/ (the Interspeech 2020 test sets are not in these archives): stage 6 "
              "scores nothing on it unless you add them (recipes/DNS/README.md, 'Stage 0').")
    return root


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    subsets = list(GROUPS) + list(dict.fromkeys(a.subset for a in ARCHIVES))
    download.add_arguments(parser, subsets=subsets, default_subsets=DEFAULT)
    args = parser.parse_args(argv)
    fullband = any(name == "fullband" or name.startswith("fullband_") for name in args.subsets)
    download.run(args, ARCHIVES, lambda folder: layout(folder, "datasets_fullband" if fullband else "datasets"),
                 groups=GROUPS, errors=(PreparationError,))


if __name__ == "__main__":
    main()
