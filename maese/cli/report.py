"""maese-report: one self-contained HTML page to look at and listen to enhanced clips, with their metrics.

    maese-report --noisy TEST/noisy --enhanced ENH/ --clean TEST/clean -o report.html
    maese-report --noisy TEST/noisy --enhanced ENH/ --scores scores/mae.csv -o report.html   # maese-score's CSV

Per clip (files paired by relative path): spectrograms of noisy / enhanced / clean, audio players and the
metrics (from --scores, else computed against --clean). Images and 16-bit audio are embedded in the page;
--max-clips bounds its size. Files that are not in every folder are listed in the page.
"""

import argparse
import logging
import sys
from pathlib import Path

from maese.cli.score import check_folders
from maese.metrics import METRICS
from maese.report import REPORT_METRICS, write_report


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="maese-report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--noisy", type=Path, required=True, help="the enhancer's input folder")
    parser.add_argument("--enhanced", type=Path, required=True, help="enhanced folder, files named as the input's")
    parser.add_argument("--clean", type=Path, help="clean reference folder (optional)")
    parser.add_argument("--scores", type=Path, help="per-file CSV of the enhanced folder, written by maese-score")
    parser.add_argument("--metrics", nargs="+", default=list(REPORT_METRICS), choices=METRICS,
                        help="metrics computed against --clean when no --scores is given")
    parser.add_argument("--max-clips", type=_positive, default=20, help="clips shown, first by name (default: 20)")
    parser.add_argument("--title", default="maese report")
    parser.add_argument("-o", "--out", type=Path, required=True, help="the HTML file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing page")
    return parser.parse_args(argv)


def main(argv=None):
    """Entry point of ``maese-report``."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        check_folders({"--noisy": args.noisy, "--enhanced": args.enhanced, "--clean": args.clean})
        summary = write_report(args.out, args.noisy, args.enhanced, args.clean, args.scores, args.metrics,
                               args.max_clips, title=args.title, overwrite=args.overwrite)
    except (OSError, ValueError) as err:  # ScoringError, AudioError and FileExistsError included
        sys.exit(f"maese-report: error: {err}")
    print(f"{args.out}: {summary}")
