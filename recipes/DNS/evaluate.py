#!/usr/bin/env python3
"""Score enhanced folders against clean references: one CSV per system and a results.md table.

One test set (reference folder):
    python evaluate.py --ref TEST/clean --noisy TEST/noisy --est mae=ENH/ --baselines spectral_gating wiener \
        --out results/eval/indomain_denoise --name test_set/indomain/denoise
All four test sets of a corpus (indomain/ood x denoise/dereverb; ROOT/<indomain|ood>/<denoise|dereverb>/):
    python evaluate.py --corpus data/embedded --est mae=ROOT --out results/eval

The unprocessed input (``--noisy``) is scored as the row "unprocessed"; ``--baselines`` enhance it
into OUT/baselines/<method>/ first. Existing results are never overwritten without ``--overwrite``.
"""

import argparse
import logging
import re
import sys
from pathlib import Path

import maese
from maese.audio import read_info
from maese.baselines import BASELINES, enhance_folder
from maese.dataio import list_audio_files, write_text
from maese.metrics import METRICS
from maese.scoring import score_folder, summary_table, write_csv

RESULTS = "results.md"
# test set inside <corpus>/test_set/ -> its unprocessed-input folder
TEST_SETS = {
    "indomain/denoise": "noisy", "indomain/dereverb": "reverb", "ood/denoise": "noisy", "ood/dereverb": "reverb",
}
DEFAULT_BASELINES = {"denoise": ("spectral_gating", "wiener"), "dereverb": ("wpe",)}
NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


def _refuse_existing(paths, overwrite):
    """Raise ``FileExistsError`` naming the outputs that exist, unless ``overwrite``."""
    existing = [str(p) for p in paths if Path(p).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"Results exist, refusing to overwrite them (pass --overwrite): {', '.join(existing)}")


def _systems(ref_dir, systems, noisy_dir, baselines, out_dir):
    """All folders to score, in table order: unprocessed, baselines, then ``systems``."""
    if baselines and noisy_dir is None:
        raise ValueError("Baselines enhance the noisy input: pass --noisy DIR with --baselines.")
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ValueError(f"Unknown baselines {unknown}; choose from {sorted(BASELINES)}.")
    folders = {"unprocessed": noisy_dir} if noisy_dir is not None else {}
    folders.update({m: Path(out_dir) / "baselines" / m for m in baselines})
    for name in systems:
        if name in folders or not NAME.match(name):
            raise ValueError(f"System name {name!r} is taken or not a plain file name ([A-Za-z0-9_.+-]).")
    folders.update(systems)
    if not folders:
        raise ValueError(f"Nothing to score against {ref_dir}: give --est NAME=DIR and/or --noisy DIR.")
    return folders


def _setup(ref_dir, folders, metrics, sample_rate, notes):
    """Markdown lines naming the test set's folder and size, the systems' folders and the scoring config."""
    refs = list_audio_files(ref_dir)
    seconds = sum(read_info(p).duration for p in refs)
    return [
        f"- test set: `{ref_dir}`, {len(refs)} reference files, "
        + (f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"),
        *(f"- {system}: `{folder}`" for system, folder in folders.items()),
        f"- metrics: {', '.join(metrics)} at {sample_rate} Hz; maese {maese.__version__}",
        *(f"- {note}" for note in notes),
    ]


def evaluate(ref_dir, systems, out_dir, name=None, metrics=METRICS, baselines=(), noisy_dir=None,
             sample_rate=16000, overwrite=False, allow_missing=False, notes=()):
    """Score systems (plus the unprocessed input and baselines) on one test set.

    Arguments
    ---------
    ref_dir : clean reference folder.
    systems : dict name -> folder of enhanced files named as the references.
    out_dir : writes ``<system>.csv``, ``results.md`` and ``baselines/<method>/``.
    noisy_dir : the unprocessed input, scored as "unprocessed" and fed to ``baselines``.
    notes : extra lines for the table header (e.g. the model's config and paired-data amount).

    Returns
    -------
    str: the markdown written to ``results.md``.
    """
    out_dir, name = Path(out_dir), name or str(ref_dir)
    folders = _systems(ref_dir, dict(systems), noisy_dir, tuple(baselines), out_dir)
    _refuse_existing([out_dir / RESULTS, *(out_dir / f"{s}.csv" for s in folders)], overwrite)
    for method in baselines:
        enhance_folder(method, noisy_dir, folders[method], sample_rate, overwrite=overwrite)
    rows = {}
    for system, folder in folders.items():
        rows[system] = score_folder(ref_dir, folder, metrics, sample_rate, allow_missing, desc=f"{name}: {system}")
        write_csv(rows[system], out_dir / f"{system}.csv", overwrite=True)
    text = summary_table(rows, name) + "\n" + "\n".join(_setup(ref_dir, folders, metrics, sample_rate, notes)) + "\n"
    write_text(out_dir / RESULTS, text)
    return text


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
    _refuse_existing([out_dir / RESULTS, *(out_dir / s / RESULTS for s in TEST_SETS)], overwrite)
    tables = []
    for test_set, noisy in TEST_SETS.items():
        folder = corpus_dir / "test_set" / test_set
        tables.append(evaluate(
            folder / "clean", {n: Path(r) / test_set for n, r in roots.items()}, out_dir / test_set,
            f"test_set/{test_set}", metrics, baselines.get(test_set.split("/")[1], ()), folder / noisy,
            overwrite=overwrite, allow_missing=allow_missing, notes=notes,
        ))
    text = f"# Scores on `{corpus_dir}`\n\n" + "\n".join(tables)
    write_text(out_dir / RESULTS, text)
    return text


def _name_dir(text):
    name, sep, folder = text.partition("=")
    if not sep or not name or not folder:
        raise argparse.ArgumentTypeError(f"expected NAME=DIR, got {text!r}")
    return name, Path(folder)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--ref", type=Path, help="clean reference folder of one test set")
    where.add_argument("--corpus", type=Path, help="corpus folder: score its four test sets")
    parser.add_argument("--est", type=_name_dir, nargs="+", default=[], metavar="NAME=DIR",
                        help="enhanced folders (with --corpus: roots holding <indomain|ood>/<denoise|dereverb>/)")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument("--noisy", type=Path, help="unprocessed input folder (with --ref)")
    parser.add_argument("--baselines", nargs="*", default=None, choices=sorted(BASELINES),
                        help="classical methods run on --noisy (with --corpus: default per task)")
    parser.add_argument("--name", help="test-set name for the table (with --ref)")
    parser.add_argument("--metrics", nargs="+", default=list(METRICS), choices=METRICS)
    parser.add_argument("--note", action="append", default=[], help="extra header line, e.g. the model config")
    parser.add_argument("--allow-missing", action="store_true", help="score the files present, list the missing ones")
    parser.add_argument("--overwrite", action="store_true", help="replace existing results and baseline outputs")
    args = parser.parse_args(argv)
    if len(dict(args.est)) != len(args.est):
        parser.error("--est names must be distinct")
    if args.corpus is not None and (args.noisy is not None or args.name is not None):
        parser.error("--noisy and --name go with --ref; --corpus finds its test sets itself")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    common = dict(metrics=args.metrics, overwrite=args.overwrite, allow_missing=args.allow_missing, notes=args.note)
    try:
        if args.corpus is not None:
            baselines = DEFAULT_BASELINES if args.baselines is None else {t: args.baselines for t in DEFAULT_BASELINES}
            text = evaluate_test_sets(args.corpus, dict(args.est) or None, args.out, baselines=baselines, **common)
        else:
            text = evaluate(args.ref, dict(args.est), args.out, args.name, baselines=args.baselines or (),
                            noisy_dir=args.noisy, **common)
    except (OSError, ValueError) as err:  # ScoringError, AudioError and FileExistsError included
        sys.exit(f"evaluate.py: error: {err}")
    print(text)


if __name__ == "__main__":
    main()
