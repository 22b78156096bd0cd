"""maese-score: score enhanced folders against clean references, file by file, with a table of means.

    maese-score --ref TEST/clean --est ENHANCED/                      # one system, named after its folder
    maese-score --ref TEST/clean --noisy TEST/noisy --est mae=ENH/ scratch=ENH2/ --baselines wiener --out scores

Writes OUT/<system>.csv (one row per file: the metrics and the reason of any failure) and OUT/results.md
(mean ± half-width of the 95% confidence interval per metric), and prints the table. Files are paired by
relative path. The unprocessed input (--noisy) is scored as "unprocessed"; --baselines enhance it into
OUT/baselines/<method>/ first. --scored NAME=CSV puts a system scored before (its <system>.csv, checked to
hold these references and metrics) in the table without scoring it again. Existing results are never
overwritten without --overwrite.
"""

import argparse
import logging
import os
import re
import sys
from pathlib import Path

import maese
from maese.audio import AUDIO_EXTENSIONS, read_info
from maese.baselines import BASELINES, enhance_folder
from maese.dataio import list_audio_files, write_text
from maese.metrics import METRICS
from maese.scoring import ScoringError, score_folder, scored_rows, summary_table, write_csv

RESULTS = "results.md"
NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


def check_folders(folders):
    """Raise :class:`ScoringError` listing every folder (dict label -> path; None skipped) that is missing or empty."""
    problems = []
    for label, folder in folders.items():
        if folder is None:
            continue
        folder = Path(folder)
        if not folder.is_dir():
            what = "not a folder" if folder.exists() else "no such folder"
            problems.append(f"{label} {folder}: {what}; check the path.")
        elif not list_audio_files(folder):
            problems.append(f"{label} {folder}: holds no audio files ({', '.join(AUDIO_EXTENSIONS)}); "
                            "check the path, or run the step that writes them.")
    if problems:
        raise ScoringError("\n".join(problems))


def refuse_existing(paths, overwrite):
    """Raise ``FileExistsError`` naming the outputs that exist, unless ``overwrite``."""
    existing = [str(p) for p in paths if Path(p).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"Results exist, refusing to overwrite them (pass --overwrite): {', '.join(existing)}")


def _systems(ref_dir, systems, noisy_dir, baselines, out_dir, scored=()):
    """All folders to score, in table order: unprocessed, baselines, then ``systems`` (the names in ``scored``, the
    systems scored before, come first in the table and may not be taken)."""
    if baselines and noisy_dir is None:
        raise ValueError("Baselines enhance the noisy input: pass --noisy DIR with --baselines.")
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ValueError(f"Unknown baselines {unknown}; choose from {sorted(BASELINES)}.")
    folders = {"unprocessed": noisy_dir} if noisy_dir is not None else {}
    folders.update({m: Path(out_dir) / "baselines" / m for m in baselines})
    for name in [*scored, *systems]:
        if name in folders or name in scored and name in systems or not NAME.match(name):
            raise ValueError(f"System name {name!r} is taken or not a plain file name ([A-Za-z0-9_.+-]).")
    folders.update(systems)
    if not folders and not scored:
        raise ValueError(f"Nothing to score against {ref_dir}: give --est NAME=DIR and/or --noisy DIR.")
    return folders


def _setup(ref_dir, sources, metrics, sample_rate, notes):
    """Markdown lines naming the test set's folder and size, where each system's rows come from (``sources``: name
    -> markdown) and the scoring config."""
    refs = list_audio_files(ref_dir)
    seconds = sum(read_info(p).duration for p in refs)
    return [
        f"- test set: `{ref_dir}`, {len(refs)} reference files, "
        + (f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"),
        *(f"- {system}: {source}" for system, source in sources.items()),
        f"- metrics: {', '.join(metrics)} at {sample_rate} Hz; maese {maese.__version__}",
        *(f"- {note}" for note in notes),
    ]


def score_test_set(ref_dir, systems, out_dir, name=None, metrics=METRICS, baselines=(), noisy_dir=None,
                   sample_rate=16000, overwrite=False, allow_missing=False, notes=(), scored=None):
    """Score systems (plus the unprocessed input and baselines) on one test set.

    Arguments
    ---------
    ref_dir : clean reference folder.
    systems : dict name -> folder of enhanced files named as the references.
    out_dir : writes ``<system>.csv``, ``results.md`` and ``baselines/<method>/``.
    noisy_dir : the unprocessed input, scored as "unprocessed" and fed to ``baselines``.
    scored : dict name -> ``<system>.csv`` of a system scored before on this test set (with these metrics);
        its rows go into the table first, copied to ``<out_dir>/<name>.csv``.
    notes : extra lines for the table header (e.g. the model's config and paired-data amount).

    Returns
    -------
    str: the markdown written to ``results.md``.
    """
    out_dir, name, scored = Path(out_dir), name or str(ref_dir), dict(scored or {})
    folders = _systems(ref_dir, dict(systems), noisy_dir, tuple(baselines), out_dir, scored)
    check_folders({"reference folder": ref_dir, "unprocessed folder": noisy_dir,
                   **{f"{system} folder": folder for system, folder in systems.items()}})
    refuse_existing([out_dir / RESULTS, *(out_dir / f"{s}.csv" for s in [*scored, *folders])], overwrite)
    rows = {system: scored_rows(path, ref_dir, metrics) for system, path in scored.items()}  # checked first
    for system in scored:
        write_csv(rows[system], out_dir / f"{system}.csv", overwrite=True)
    for method in baselines:
        enhance_folder(method, noisy_dir, folders[method], sample_rate, overwrite=overwrite)
    for system, folder in folders.items():
        rows[system] = score_folder(ref_dir, folder, metrics, sample_rate, allow_missing, desc=f"{name}: {system}")
        write_csv(rows[system], out_dir / f"{system}.csv", overwrite=True)
    sources = {**{system: f"scored before, `{path}`" for system, path in scored.items()},
               **{system: f"`{folder}`" for system, folder in folders.items()}}
    text = summary_table(rows, name) + "\n" + "\n".join(_setup(ref_dir, sources, metrics, sample_rate, notes)) + "\n"
    write_text(out_dir / RESULTS, text)
    return text


def _name_dir(text):
    """``NAME=DIR`` -> (NAME, DIR); a plain ``DIR`` is named after its folder."""
    name, sep, folder = text.partition("=")
    if not sep:
        name, folder = Path(os.path.abspath(text)).name, text
    if not name or not folder:
        raise argparse.ArgumentTypeError(f"expected DIR or NAME=DIR, got {text!r}")
    return name, Path(folder)


def add_arguments(parser, where=None):
    """Add the scoring options to ``parser``; ``--ref`` goes into the group ``where`` if given, else is required."""
    (where or parser).add_argument("--ref", type=Path, required=where is None, help="clean reference folder")
    parser.add_argument("--est", type=_name_dir, nargs="+", default=[], metavar="[NAME=]DIR",
                        help="enhanced folders, files named as the references (a plain DIR is named after its folder)")
    parser.add_argument("--out", type=Path, default=Path("scores"),
                        help="results folder: <system>.csv and results.md (default: ./scores)")
    parser.add_argument("--noisy", type=Path, help="unprocessed input folder, scored as 'unprocessed'")
    parser.add_argument("--baselines", nargs="*", default=None, choices=sorted(BASELINES),
                        help="classical methods and peer enhancers (maese/peers.py) run on --noisy")
    parser.add_argument("--scored", type=_name_dir, nargs="+", default=[], metavar="NAME=CSV",
                        help="systems scored before on this test set (their <system>.csv), put in the table as is")
    parser.add_argument("--name", help="test-set name for the table (default: the --ref folder)")
    parser.add_argument("--metrics", nargs="+", default=list(METRICS), choices=METRICS)
    parser.add_argument("--note", action="append", default=[], help="extra header line, e.g. the model config")
    parser.add_argument("--allow-missing", action="store_true", help="score the files present, list the missing ones")
    parser.add_argument("--overwrite", action="store_true", help="replace existing results and baseline outputs")


def parse_args(parser, argv):
    """Parse ``argv`` (None: the command line) and check that the ``--est`` names are distinct."""
    args = parser.parse_args(argv)
    if len(dict(args.est)) != len(args.est):
        parser.error(f"--est names must be distinct, got {[n for n, _ in args.est]}: name them as NAME=DIR")
    if len(dict(args.scored)) != len(args.scored):
        parser.error(f"--scored names must be distinct, got {[n for n, _ in args.scored]}")
    return args


def score_args(args):
    """:func:`score_test_set` with the options of :func:`add_arguments`."""
    return score_test_set(args.ref, dict(args.est), args.out, args.name, args.metrics, args.baselines or (),
                          args.noisy, overwrite=args.overwrite, allow_missing=args.allow_missing, notes=args.note,
                          scored=dict(args.scored))


def run(prog, function, *args):
    """Print the markdown ``function(*args)`` returns, with INFO logging; exit with its error's message."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        text = function(*args)
    except (OSError, ValueError, ImportError) as err:  # ScoringError, AudioError, FileExistsError, a missing package
        sys.exit(f"{prog}: error: {err}")
    print(text)


def main(argv=None):
    """Entry point of ``maese-score``."""
    parser = argparse.ArgumentParser(prog="maese-score", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    run(parser.prog, score_args, parse_args(parser, argv))
