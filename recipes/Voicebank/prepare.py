"""Data preparation for the VoiceBank-DEMAND recipe (Valentini-Botinhao et al., 2016; 28-speaker version).

``data_folder`` is the corpus as distributed (https://doi.org/10.7488/ds/2117), unzipped side by side:

    clean_trainset_28spk_wav/   p226_001.wav ...   48 kHz mono, 11572 files
    noisy_trainset_28spk_wav/   the same names
    clean_testset_wav/          p232_001.wav ...   824 files (speakers p232, p257)
    noisy_testset_wav/          the same names

Every file is resampled once to ``sample_rate`` into ``<cache_folder>/<sub-folder>/<name>.wav`` (the
corpus is never written to; an interrupted run resumes). Each noisy file must have its clean twin of
the same length: a partial copy is reported with counts and stops the preparation.

Writes into ``save_folder``:
  train.json, valid.json   the training pairs, split by speaker (``valid_speakers``)
  test.json                the test pairs
each entry ``{"wav": noisy, "clean_wav": clean, "duration": s}`` (paths in the cache).

    python prepare.py --data_folder /data/VoiceBank --cache_folder results/wav16k --save_folder results/prepared
(train.py runs it too, with the hparams' values.)
"""

import argparse
import logging

from maese.dataprep import PreparationError
from maese.pairs import cached_pairs, check_layout, write_pair_manifests

logger = logging.getLogger(__name__)

# split -> (clean sub-folder, noisy sub-folder)
SPLITS = {
    "train": ("clean_trainset_28spk_wav", "noisy_trainset_28spk_wav"),
    "test": ("clean_testset_wav", "noisy_testset_wav"),
}


def check_voicebank_layout(data_folder):
    """Fail at once, naming every missing sub-folder, if ``data_folder`` is not the VoiceBank-DEMAND layout."""
    check_layout(data_folder, [name for pair in SPLITS.values() for name in pair],
                 "VoiceBank-DEMAND (28 speakers)", "the corpus' zip files unzipped side by side")


def speaker(uid):
    """The speaker of a VoiceBank utterance id (``p226_001`` -> ``p226``)."""
    return uid.split("_", 1)[0]


def prepare_voicebank(save_folder, data_folder, cache_folder, valid_speakers=("p226", "p287"), sample_rate=16000):
    """Write the manifests (see the module docstring); idempotent.

    Arguments
    ---------
    save_folder : str
    data_folder : str
        The VoiceBank-DEMAND folder, as distributed.
    cache_folder : str
        Where the resampled copies go (never inside ``data_folder``).
    valid_speakers : list of str
        Training speakers held out for validation (default: p226 and p287, as in SpeechBrain's recipe).
    sample_rate : int
    """
    options = {"data_folder": data_folder, "cache_folder": cache_folder, "valid_speakers": list(valid_speakers),
               "sample_rate": sample_rate}
    if data_folder is None:
        raise PreparationError("--data_folder: give the VoiceBank-DEMAND folder (see the recipe's README).")

    def make_splits():
        check_voicebank_layout(data_folder)
        pairs = {}
        for split, (clean_name, noisy_name) in SPLITS.items():
            logger.info("Resampling %s/ and %s/ to %d Hz into %s", clean_name, noisy_name, sample_rate, cache_folder)
            pairs[split] = cached_pairs(data_folder, cache_folder, noisy_name, clean_name, sample_rate)
        train = {u: e for u, e in pairs["train"].items() if speaker(u) not in valid_speakers}
        valid = {u: e for u, e in pairs["train"].items() if speaker(u) in valid_speakers}
        if not train or not valid:
            found = sorted({speaker(u) for u in pairs["train"]})
            raise PreparationError(
                f"valid_speakers {list(valid_speakers)} leave {len(train)} training and {len(valid)} validation "
                f"pairs (training speakers found: {found}); choose valid_speakers among them."
            )
        return {"train": train, "valid": valid, "test": pairs["test"]}

    write_pair_manifests(save_folder, options, make_splits)


def main(argv=None):
    """Command line: the preparation alone (run.sh's scoring of an outside model needs only the cache)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_folder", required=True)
    parser.add_argument("--cache_folder", default="results/wav16k")
    parser.add_argument("--save_folder", default="results/prepared")
    parser.add_argument("--valid_speakers", nargs="+", default=["p226", "p287"])
    parser.add_argument("--sample_rate", type=int, default=16000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        prepare_voicebank(args.save_folder, args.data_folder, args.cache_folder, args.valid_speakers, args.sample_rate)
    except PreparationError as err:
        raise SystemExit(f"prepare.py: {err}") from None


if __name__ == "__main__":
    main()
