#!/usr/bin/env python3
"""Paired comparison of two systems on the same test files, over one or more runs (e.g. training seeds).

For each test split found in every run (``<eval>/<split>_<task>/<system>.csv``, as run.sh stage 6 writes them)
and each metric: the mean of system A and of system B over runs and files, and the paired difference A - B
(each file's score averaged over the runs first) with its 95% interval (Student's t over files) and the
two-sided p-value of a paired t-test; then the A - B difference of each run alone.

    python compare.py --a mae --b scratch -- results/small/s1/eval/p0.01 results/small/s2/eval/p0.01 ...
    python compare.py --a mae --b wiener --metrics pesq estoi si_sdr --out compare.md -- EVAL ...

A file that failed in any run or system (NaN) is left out of that metric's comparison, and counted.
"""

import argparse
import sys
from pathlib import Path

from maese.cli.score import RESULTS
from maese.dataio import write_text
from maese.scoring import HEADERS
from maese.summaries import common_splits, paired_difference, run_scores, score_matrix

METRICS = ("pesq", "estoi", "si_sdr")


def comparison_table(evals, a, b, metrics=METRICS):
    """Markdown: one row per (split, metric) of :func:`~maese.summaries.paired_difference` over ``evals``; a split
    where no run scored ``a`` or ``b`` (e.g. Wiener on dereverberation) is skipped and named below the table; one
    where only some runs did is an error."""
    evals = [Path(e) for e in evals]
    lines = [f"Paired comparison {a} - {b}: {len(evals)} run(s) ({', '.join(map(str, evals))}); each file's score "
             "is averaged over the runs, then the mean difference over files with its 95% interval and the p-value "
             "of a paired t-test.", "",
             f"| test split | metric | {a} | {b} | {a} - {b} (95% CI) | p | files | {a} - {b} per run |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    splits = common_splits(evals)
    if not splits:
        raise ValueError(f"no test split (<split>_<task>/{RESULTS}) is in every one of {', '.join(map(str, evals))}")
    unscored = {split: [s for s in (a, b) if not any((e / split / f"{s}.csv").is_file() for e in evals)]
                for split in splits}
    if all(unscored.values()):
        missing = sorted({s for systems in unscored.values() for s in systems})
        raise ValueError(f"no scores of system {' or '.join(map(repr, missing))} on any test split of "
                         f"{', '.join(map(str, evals))}; score it (run.sh stage 6) or name another.")
    for split in (split for split in splits if not unscored[split]):
        tables_a, tables_b = run_scores(evals, split, a, b)
        for metric in metrics:
            r = paired_difference(score_matrix(tables_a, metric), score_matrix(tables_b, metric))
            per_run = ", ".join(f"{d:+.3f}" for d in r["per_run"])
            lines.append(f"| {split} | {HEADERS.get(metric, metric)} | {r['mean_a']:.3f} | {r['mean_b']:.3f} | "
                         f"{r['diff']:+.3f} ± {r['half']:.3f} | {r['p']:.3f} | {r['n']} | {per_run} |")
    skipped = [f"{split} (no {' or '.join(systems)} scores)" for split, systems in unscored.items() if systems]
    if skipped:
        lines += ["", f"Not compared: {', '.join(skipped)}."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Print (and with --out, write) the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", default="mae", help="system A (a <system>.csv name; default mae)")
    parser.add_argument("--b", default="scratch", help="system B (default scratch)")
    parser.add_argument("--metrics", nargs="+", default=list(METRICS), help=f"default: {' '.join(METRICS)}")
    parser.add_argument("--out", type=Path, help="also write the table here (refused if it exists)")
    parser.add_argument("evals", nargs="+", type=Path, help="eval folders of the runs (run.sh stage 6)")
    args = parser.parse_args(argv)
    for e in args.evals:
        if not e.is_dir():
            parser.error(f"{e}: no such eval folder (run.sh stage 6 writes <results>/eval/)")
    if args.out is not None and args.out.exists():
        parser.error(f"{args.out} exists; choose another --out or delete it")
    try:
        text = comparison_table(args.evals, args.a, args.b, args.metrics)
    except ValueError as err:
        print(f"compare.py: {err}", file=sys.stderr)
        return 1
    if args.out is not None:
        write_text(args.out, text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
