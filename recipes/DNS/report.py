#!/usr/bin/env python3
"""The report of a run.sh run (stage 7): the scoring tables of evaluate.py, one section per paired fraction.

One run (the hparams' paired fraction), EVAL holding <split>_<task>/results.md as run.sh stage 6 writes it:
    python report.py --out results/small/RESULTS.md --title "DNS recipe, size small: results" EVAL
One run per paired fraction, F=EVAL each; the report starts with a data-efficiency table (rows: fraction;
columns: mae / scratch PESQ and SI-SDR per test split, read from the per-file CSVs of evaluate.py):
    python report.py --out RESULTS.md --title T -- 0.01=results/small/fractions/eval/p0.01 0.1=...

--run DIR puts the run's environment under the title: its DIR/run.json (run.sh records it; maese/runinfo.py) and the
git revisions its trainings recorded (DIR/*/env.log). The file is rewritten only when its text changes (a re-run
leaves it, and its time stamp, alone).

The committed score summaries behind RESULTS.md (recipes/DNS/summaries/, one JSON file per published run; see
maese/summaries.py), and the tables they generate there:
    python report.py summarize results/real --out summaries/real_2026-12-06.json [--commit C --date D --command ...]
    python report.py tables summaries/*.json            # rewrites every generated block of RESULTS.md
summarize reads every scored test set of the results folder (eval/p<F>/<split>_<task>/ or eval/<split>_<task>/):
per system the mean, 95% half-width and files of each metric, and the paired comparison mae - scratch. The header
comes from the run's run.json; a run without one takes the overrides (--date, --commit, --command, --versions,
--machine, --threads) and the git revisions of its trainings' env.log.
"""

import argparse
import math
import shlex
import sys
from pathlib import Path

from maese import runinfo, summaries
from maese.cli.score import RESULTS
from maese.dataio import write_text
from maese.scoring import HEADERS, mean_ci

SYSTEMS = ("mae", "scratch")  # the --est names of run.sh stage 6
TABLE_METRICS = ("pesq", "si_sdr")
RUN_INFO = "run.json"  # run.sh's record of the run, in its results folder
HERE = Path(__file__).resolve().parent
RESULTS_MD = HERE / "RESULTS.md"  # the recipe's published results, with the blocks the summaries generate
SUMMARIES = HERE / "summaries"


def split_folders(eval_dir):
    """Sorted subfolders of ``eval_dir`` that hold a ``results.md`` (one per test split and task)."""
    eval_dir = Path(eval_dir)
    if not eval_dir.is_dir():
        return []
    return sorted(d for d in eval_dir.iterdir() if (d / RESULTS).is_file())


def system_means(csv_path, metrics=TABLE_METRICS):
    """Mean of each metric over the files of a per-file scores CSV (evaluate.py's ``<system>.csv``).

    Failed files (NaN, or an empty cell) are left out, as in the results tables; a metric that is not
    in the CSV, or a CSV that does not exist, gives NaN.
    """
    path = Path(csv_path)
    if not path.is_file():
        return dict.fromkeys(metrics, float("nan"))
    from maese.scoring import read_scores  # per-file rows, checked

    rows = read_scores(path).values()
    return {m: mean_ci([row.get(m, float("nan")) for row in rows])[0] for m in metrics}


def _number(value):
    return "-" if math.isnan(value) else f"{value:.2f}"


def data_efficiency_table(fraction_evals, systems=SYSTEMS, metrics=TABLE_METRICS):
    """Markdown: one row per paired fraction, one column per test split and metric, cells "mae / scratch".

    Arguments
    ---------
    fraction_evals : list of (fraction label, eval folder), in row order; each eval folder holds
        ``<split>_<task>/<system>.csv`` (run.sh stage 6). The columns are the splits found in any of them.
    systems : the systems compared in each cell, in cell order.
    metrics : metric keys of the scores CSVs (see ``maese.scoring.HEADERS``).
    """
    folders = {label: {d.name: d for d in split_folders(e)} for label, e in fraction_evals}
    splits = sorted({name for by_split in folders.values() for name in by_split})
    if not splits:
        return "No scored test splits yet (run stage 6).\n"
    columns = [(split, metric) for split in splits for metric in metrics]
    lines = [
        "| paired fraction | " + " | ".join(f"{split} {HEADERS[metric]}" for split, metric in columns) + " |",
        "| ---: | " + " | ".join("---:" for _ in columns) + " |",
    ]
    for label, by_split in folders.items():
        means = {split: {s: system_means(d / f"{s}.csv", metrics) for s in systems} for split, d in by_split.items()}
        cells = []
        for split, metric in columns:
            values = [means[split][s][metric] for s in systems] if split in means else [float("nan")] * len(systems)
            cells.append(" / ".join(_number(v) for v in values))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    caption = (f"Each cell: {' / '.join(systems)}, the mean over the test files (failed files left out); "
               "the per-split tables below have the confidence intervals and the other metrics.")
    return "\n".join(lines) + "\n\n" + caption + "\n"


def run_evals(results):
    """[(paired fraction label, eval folder)] of a results folder: ``eval/p<F>/`` per fraction (sorted), else
    [(None, ``eval/``)]."""
    eval_dir = Path(results) / "eval"
    fractions = [d for d in eval_dir.glob("p*") if d.is_dir() and split_folders(d)]
    return [(d.name[1:], d) for d in sorted(fractions, key=lambda d: float(d.name[1:]))] or [(None, eval_dir)]


def environment(results, overrides=None):
    """A run's header fields (``maese.summaries.ENVIRONMENT``): the git revisions and Python of its trainings'
    env.log, replaced by what its run.json records, replaced by ``overrides`` (field -> text, None skipped)."""
    fields = runinfo.training_records(results)
    fields.update(runinfo.describe(runinfo.read_entries(Path(results) / RUN_INFO)))
    fields.update({key: text for key, text in (overrides or {}).items() if text})
    return {key: fields[key] for key in summaries.ENVIRONMENT if key in fields}


def summarize(results, name, made_by, overrides=None):
    """The summary (``maese.summaries``) of every scored test set of a run's results folder."""
    tables = [summaries.split_summary(d, label) for label, e in run_evals(results) for d in split_folders(e)]
    if not tables:
        raise ValueError(f"{results}: no scored test set (eval/<split>_<task>/{RESULTS}); run stage 6 first.")
    return {"name": name, "made_by": made_by, "environment": environment(results, overrides), "tables": tables}


def summarize_runs(runs, name, made_by, overrides=None):
    """The summary of several runs of one design (e.g. training seeds; ``maese.summaries``): each run's environment
    (``overrides`` are the first run's) and the mae - scratch comparisons over the runs, per paired fraction and
    test set scored in all of them."""
    evals = [dict(run_evals(r)) for r in runs]
    labels = [label for label in evals[0] if all(label in e for e in evals[1:])]
    over_runs = [c for label in labels for c in summaries.runs_comparisons([e[label] for e in evals], label)]
    if not over_runs:
        raise ValueError(f"{', '.join(map(str, runs))}: no test set with mae and scratch scored in every run (run "
                         "stage 6 of each, with the same paired fractions).")
    return {"name": name, "made_by": made_by,
            "runs": [{"folder": str(r), "environment": environment(r, overrides if i == 0 else None)}
                     for i, r in enumerate(runs)],
            "over_runs": over_runs}


def build_report(title, evals, notes=(), run=None):
    """The report's markdown.

    Arguments
    ---------
    title : the first heading.
    evals : list of (paired fraction label or None, eval folder). With labels, a data-efficiency table
        comes first and each fraction has its own section.
    notes : lines listed under the title (e.g. the run's options).
    run : the run's results folder: its environment (:func:`environment`, without the time it records at its end) goes
        under the title.
    """
    lines = [f"# {title}", ""]
    if notes:
        lines += [*(f"- {note}" for note in notes), ""]
    if run is not None:
        fields = {k: v for k, v in environment(run).items() if k != "time"}  # the run's time: known once it ends
        lines += ["## Environment", "", *summaries.environment_lines(fields), ""]
    labelled = [(label, folder) for label, folder in evals if label is not None]
    if labelled:
        lines += ["## Data efficiency: fine-tuned MAE vs scratch per paired fraction", "",
                  data_efficiency_table(labelled)]
    for label, folder in evals:
        if label is not None:
            lines += [f"## Paired fraction {label}", ""]
        splits = split_folders(folder)
        if not splits:
            lines += [f"No results in `{folder}` yet (run stage 6).", ""]
        for split in splits:
            lines += [(split / RESULTS).read_text().rstrip("\n"), ""]
        compared = summaries.comparison_table([summaries.split_summary(split, label) for split in splits])
        if compared:
            lines += ["### Paired comparisons", "", "A - B over the files of each test set: mean difference ± 95% "
                      "half-width (p-value of a paired t-test).", "", compared]
    return "\n".join(lines)


def write_if_changed(path, text):
    """Write ``text`` to ``path`` unless it holds that text already; True if written."""
    path = Path(path)
    if path.is_file() and path.read_text() == text:
        return False
    write_text(path, text)
    return True


def _eval_arg(text):
    label, sep, folder = text.partition("=")
    if not sep:
        return None, Path(text)
    if not label or not folder:
        raise argparse.ArgumentTypeError(f"expected EVAL or FRACTION=EVAL, got {text!r}")
    return label, Path(folder)


def summarize_main(argv):
    """``report.py summarize RESULTS [RESULTS ...] --out SUMMARY.json [overrides]``: write a run's summary, or with
    several results folders (runs of one design, e.g. training seeds) the summary of mae - scratch over them."""
    parser = argparse.ArgumentParser(prog="report.py summarize", description=summarize_main.__doc__)
    parser.add_argument("results", type=Path, nargs="+",
                        help="the run's results folder (run.sh --results, with its --tag), or one per run")
    parser.add_argument("--out", type=Path, required=True, help="the summary (JSON), e.g. summaries/NAME.json")
    parser.add_argument("--name", help="the run's name in RESULTS.md's markers (default: the --out file's stem)")
    for key in summaries.ENVIRONMENT:
        if key != "trainings":
            parser.add_argument(f"--{key}", help=f"the header's {key}, where run.json does not record it (with "
                                "several runs: the first one's)")
    args = parser.parse_args(argv)
    overrides = {key: getattr(args, key) for key in summaries.ENVIRONMENT if key != "trainings"}
    made_by = shlex.join(["python", "report.py", "summarize", *argv])
    try:
        name = args.name or args.out.stem
        if len(args.results) == 1:
            summary = summarize(args.results[0], name, made_by, overrides)
        else:
            summary = summarize_runs(args.results, name, made_by, overrides)
    except ValueError as err:
        parser.error(str(err))
    write_if_changed(args.out, summaries.to_json(summary))
    print(summaries.render(summary))


def tables_main(argv):
    """``report.py tables SUMMARY...``: rewrite the generated blocks of RESULTS.md from the summaries."""
    parser = argparse.ArgumentParser(prog="report.py tables", description=tables_main.__doc__)
    parser.add_argument("summaries", nargs="+", type=Path, help="summary files (report.py summarize)")
    parser.add_argument("--results_md", type=Path, default=RESULTS_MD, help=f"default: {RESULTS_MD}")
    args = parser.parse_args(argv)
    try:
        changed = summaries.regenerate_file(args.results_md, args.summaries)
    except (OSError, ValueError) as err:  # a missing file, a block without its summary
        parser.error(f"{args.results_md}: {err}")
    print(f"{args.results_md}: {'generated blocks rewritten' if changed else 'up to date'}")


COMMANDS = {"summarize": summarize_main, "tables": tables_main}


def main(argv=None):
    """The report of a run (stage 7), or one of ``COMMANDS`` when it is the first argument."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return COMMANDS[argv[0]](argv[1:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="the report (markdown)")
    parser.add_argument("--title", default="DNS recipe: results")
    parser.add_argument("--note", action="append", default=[], help="a line under the title")
    parser.add_argument("--run", type=Path, help="the run's results folder: its run.json and env.log in the header")
    parser.add_argument("evals", nargs="+", type=_eval_arg, metavar="[FRACTION=]EVAL",
                        help="scoring folders (run.sh stage 6), labelled with their paired fraction or all unlabelled")
    args = parser.parse_args(argv)
    if len({label is None for label, _ in args.evals}) > 1:
        parser.error("label every EVAL folder with its paired fraction (FRACTION=EVAL), or none")
    text = build_report(args.title, args.evals, args.note, args.run)
    if not write_if_changed(args.out, text):
        print(f"({args.out} is up to date)", file=sys.stderr)
    print(text)


if __name__ == "__main__":
    main()
