"""Stage 0 of the VoiceBank-DEMAND recipe: the corpus' zips from Edinburgh DataShare (https://doi.org/10.7488/ds/2117),
checked against the MD5s DataShare publishes, unpacked side by side into ``<download_folder>/VoiceBank/``.

    python download.py --download_folder /data/vb_download [--subsets 28spk 56spk] [--jobs 4] [--delete_archives]

``28spk`` (the default, what the recipe trains on) is the test set and the 28-speaker training set, 5.6 GB;
``56spk`` adds the 56-speaker training set, 10.4 GB (its folders sit beside, unused by prepare.py). Prints the
``--data_folder`` to give run.sh. Licence: CC BY 4.0 (DataShare's licence_text). See maese/download.py for the
resuming, checks and unpacking; ``--archives FILE`` replaces the list below (a mirror, or the tests' server).
"""

import argparse

from prepare import check_voicebank_layout

from maese import download
from maese.dataprep import PreparationError

DATASHARE = "https://datashare.ed.ac.uk/bitstreams/{}/download"
# (subset, zip, DataShare bitstream, published MD5); the zips hold one folder of the same name each
ZIPS = [
    ("28spk", "clean_testset_wav.zip", "dec213d3-bf57-4777-9663-c24bdce92d5e", "34eb1c0ba7ef667e9b966866c542fc16"),
    ("28spk", "noisy_testset_wav.zip", "13c1bfbf-14a6-41db-9b41-8f7310f01ad5", "fb1b86caa31e8ba5b506c0c64da9aab5"),
    ("28spk", "clean_trainset_28spk_wav.zip", "245452b6-6235-44b6-a6f9-e7eb19797769",
     "d2d5a45ec32f8fcbf201bde0447e20ba"),
    ("28spk", "noisy_trainset_28spk_wav.zip", "ecb5a102-bb00-46d3-8af5-40c79823b837",
     "1fca9e8bafb8cd069f6653c6d92f9e9c"),
    ("56spk", "clean_trainset_56spk_wav.zip", "386ac199-5d34-402f-8112-2a123577dd57",
     "c351cbc9db30e41686c988c19f0e1475"),
    ("56spk", "noisy_trainset_56spk_wav.zip", "60506429-e89f-4ae5-a28f-da63238d11cb",
     "b26382542716642b8f2845880af69cf0"),
]
ARCHIVES = [download.Archive(name, DATASHARE.format(uuid), md5, unpack_to="VoiceBank", subset=subset)
            for subset, name, uuid, md5 in ZIPS]


def layout(folder):
    """The unpacked corpus, checked as prepare.py checks it."""
    check_voicebank_layout(folder / "VoiceBank")
    return folder / "VoiceBank"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    download.add_arguments(parser, subsets=["28spk", "56spk"], default_subsets=["28spk"])
    args = parser.parse_args(argv)
    download.run(args, ARCHIVES, layout, errors=(PreparationError,))


if __name__ == "__main__":
    main()
