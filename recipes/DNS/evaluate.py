#!/usr/bin/env python3
"""Score enhanced folders against clean references: one CSV per system and a results.md table.

One test set (reference folder), as ``maese-score`` (maese/cli/score.py):
    python evaluate.py --ref TEST/clean --noisy TEST/noisy --est mae=ENH/ --baselines spectral_gating wiener \
        --out results/eval/indomain_denoise --name test_set/indomain/denoise
All four test sets of a corpus (indomain/ood x denoise/dereverb; ROOT/<indomain|ood>/<denoise|dereverb>/):
    python evaluate.py --corpus data/embedded --est mae=ROOT --out results/eval

The unprocessed input (``--noisy``) is scored as the row "unprocessed"; ``--baselines`` enhance it
into OUT/baselines/<method>/ first. Existing results are never overwritten without ``--overwrite``.
"""

import argparse
from pathlib import Path

from maese.cli.score import RESULTS, add_arguments, parse_args, refuse_existing, run, score_args, score_test_set
from maese.dataio import write_text
from maese.metrics import METRICS

# test set inside <corpus>/test_set/ -> its unprocessed-input folder
TEST_SETS = {
    "indomain/denoise": "noisy", "indomain/dereverb": "reverb", "ood/denoise": "noisy", "ood/dereverb": "reverb",
}
PEERS = ("rnnoise", "deepfilternet3")  # maese/peers.py, for both tasks
DEFAULT_BASELINES = {"denoise": ("spectral_gating", "wiener", *PEERS), "dereverb": ("wpe", *PEERS)}


def evaluate_test_sets(corpus_dir, enhanced_root, out_dir, metrics=METRICS, baselines=DEFAULT_BASELINES,
                       overwrite=False, allow_missing=False, notes=()):
    """Score the four test sets of a corpus (``test_set/{indomain,ood}/{denoise,dereverb}``).

    Arguments
    ---------
    enhanced_root : None, a folder, or dict name -> folder; each holds ``<indomain|ood>/<denoise|dereverb>/``
        with files named as the test set's. A single folder is named "model"; None scores only the
        unprocessed input and the baselines.
    baselines : dict task (``denoise``/``dereverb``) -> baseline names.

    Returns
    -------
    str: all four tables, also written to ``out_dir/results.md`` (each set has its own folder).
    """
    corpus_dir, out_dir = Path(corpus_dir), Path(out_dir)
    if enhanced_root is None or isinstance(enhanced_root, dict):
        roots = enhanced_root or {}
    else:
        roots = {"model": enhanced_root}
    refuse_existing([out_dir / RESULTS, *(out_dir / s / RESULTS for s in TEST_SETS)], overwrite)
    tables = []
    for test_set, noisy in TEST_SETS.items():
        folder = corpus_dir / "test_set" / test_set
        tables.append(score_test_set(
            folder / "clean", {n: Path(r) / test_set for n, r in roots.items()}, out_dir / test_set,
            f"test_set/{test_set}", metrics, baselines.get(test_set.split("/")[1], ()), folder / noisy,
            overwrite=overwrite, allow_missing=allow_missing, notes=notes,
        ))
    text = f"# Scores on `{corpus_dir}`\n\n" + "\n".join(tables)
    write_text(out_dir / RESULTS, text)
    return text


def main(argv=None):
    """One test set (``--ref``, as maese-score) or a corpus's four (``--corpus``)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--corpus", type=Path, help="corpus folder: score its four test sets (default baselines per "
                       "task; each --est DIR holds <indomain|ood>/<denoise|dereverb>/)")
    add_arguments(parser, where)
    args = parse_args(parser, argv)
    if args.corpus is None:
        return run("evaluate.py", score_args, args)
    if args.noisy is not None or args.name is not None:
        parser.error("--noisy and --name go with --ref; --corpus finds its test sets itself")
    baselines = DEFAULT_BASELINES if args.baselines is None else {t: args.baselines for t in DEFAULT_BASELINES}
    return run("evaluate.py", evaluate_test_sets, args.corpus, dict(args.est) or None, args.out, args.metrics,
               baselines, args.overwrite, args.allow_missing, args.note)


if __name__ == "__main__":
    main()
