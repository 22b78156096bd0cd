"""Score summaries: a run's scores in a small JSON file, their Markdown tables, the generated blocks of a RESULTS.md.

A summary (committed beside a recipe's RESULTS.md, so that every published number has a file behind it) is
    {"name": NAME, "made_by": the command that wrote it, "environment": {field: text}, "tables": [TABLE, ...]}
and each TABLE, one test set scored by ``maese-score`` (a folder of ``<system>.csv`` and ``results.md``):
    {"label": the run's paired fraction or null, "split": the folder's name, "title": the test set's name,
     "systems": {system: {"files": n, "failed": files with an error, METRIC: [mean, 95% half-width, files kept]}},
     "comparisons": [{"a", "b", "metric", "mean_a", "mean_b", "diff", "half", "p", "n"}]}
with the systems in the order of the scoring table, and a comparison per metric of each pair of systems both scored
(:func:`paired_difference`, over the files). NaN is stored as null.

A summary of several runs of one design (e.g. training seeds) holds, instead of "environment" and "tables",
    "runs": [{"folder": the run's results folder, "environment": {field: text}}, ...] and
    "over_runs": [{"label", "split", "title", "a", "b", "metric", "mean_a", "mean_b", "diff", "half", "p", "n",
                   "per_run": [A - B of each run]}]
where each file's score is averaged over the runs before the paired test (:func:`runs_comparisons`).

In a RESULTS.md, the tables of summary NAME go between ``<!-- generated: NAME -->`` and ``<!-- end generated -->``;
:func:`regenerate` rewrites every such block and leaves the text around them alone.
"""

import json
import math
import re
from pathlib import Path

import numpy as np
from scipy import stats

from maese.cli.score import RESULTS
from maese.dataio import write_text
from maese.scoring import HEADERS, mean_ci, read_scores

PAIRS = (("mae", "scratch"),)  # the paired comparisons of a table: (system A, system B), A - B
DECIMALS = {"si_sdr": 2}  # decimals of a difference in the comparison tables; 3 for the other metrics
BLOCK = re.compile(r"<!-- generated: (?P<name>\S+) -->\n.*?<!-- end generated -->\n", re.DOTALL)


def paired_difference(a, b):
    """Paired comparison of score arrays ``a``, ``b`` ``[runs, files]``.

    Returns
    -------
    dict: mean_a, mean_b, diff (mean over files of the run-averaged A - B), half (95% half-width), p (paired
    t-test, NaN below 2 files), n (files kept: finite in every run of both), per_run (A - B of each run).
    """
    keep = np.isfinite(a).all(0) & np.isfinite(b).all(0)
    a, b = a[:, keep], b[:, keep]
    n = int(keep.sum())
    diff = (a - b).mean(0)
    result = {"mean_a": float(a.mean()) if n else math.nan, "mean_b": float(b.mean()) if n else math.nan,
              "diff": float(diff.mean()) if n else math.nan, "half": math.nan, "p": math.nan, "n": n,
              "per_run": [float(d) for d in (a - b).mean(1)] if n else [math.nan] * a.shape[0]}
    if n >= 2:
        spread = diff.std(ddof=1)
        result["half"] = float(stats.t.ppf(0.975, n - 1) * spread / math.sqrt(n))
        result["p"] = float(stats.ttest_1samp(diff, 0.0).pvalue) if spread > 0 else (0.0 if diff[0] else 1.0)
    return result


def _number(value):
    """``value`` for JSON: None for NaN, else 8 significant digits (the tables show 2 or 3 decimals)."""
    return None if value is None or math.isnan(value) else float(f"{value:.8g}")


def system_summary(scores):
    """Summary of one system's per-file scores (:func:`maese.scoring.read_scores`): files, failed, and per metric
    [mean, 95% half-width, files kept] (failed files left out, as in the scoring tables)."""
    rows = list(scores.values())
    summary = {"files": len(rows), "failed": sum(bool(row.get("error")) for row in rows)}
    for metric in (m for m in HEADERS if m in rows[0]):
        mean, half, n = mean_ci([row[metric] for row in rows])
        summary[metric] = [_number(mean), _number(half), n]
    return summary


def table_order(results_md):
    """(title, systems) of a ``maese-score`` results.md: its ``### title`` and the system of each table row."""
    lines = Path(results_md).read_text().splitlines()
    title = next((line[4:] for line in lines if line.startswith("### ")), Path(results_md).parent.name)
    rows = [line.split("|")[1].strip() for line in lines if line.startswith("| ")]
    return title, [row for row in rows if row not in ("system", "---")]


def comparisons(scores, pairs=PAIRS):
    """Paired comparisons (:func:`paired_difference`, over the files both scored) of each pair in ``pairs`` whose two
    systems are in ``scores`` (system -> per-file scores), one per metric they share."""
    found = []
    for a, b in ((a, b) for a, b in pairs if a in scores and b in scores):
        files = sorted(scores[a])
        if sorted(scores[b]) != files:
            raise ValueError(f"{a} and {b} were scored on different files; score them on one test set.")
        shared = [m for m in HEADERS if m in scores[a][files[0]] and m in scores[b][files[0]]]
        for metric in shared:
            r = paired_difference(*(np.array([[scores[s][f][metric] for f in files]]) for s in (a, b)))
            found.append({"a": a, "b": b, "metric": metric,
                          **{k: _number(r[k]) for k in ("mean_a", "mean_b", "diff", "half", "p")}, "n": r["n"]})
    return found


def split_summary(folder, label=None, pairs=PAIRS):
    """The summary TABLE (see the module docstring) of one scored test set, a ``maese-score`` output folder."""
    folder = Path(folder)
    title, systems = table_order(folder / RESULTS)
    missing = [s for s in systems if not (folder / f"{s}.csv").is_file()]
    if missing:
        raise ValueError(f"{folder}: its {RESULTS} lists {', '.join(missing)}, which have no CSV; score them again.")
    scores = {s: read_scores(folder / f"{s}.csv") for s in systems}
    return {"label": label, "split": folder.name, "title": title,
            "systems": {s: system_summary(rows) for s, rows in scores.items()},
            "comparisons": comparisons(scores, pairs)}


def common_splits(evals):
    """Names of the ``<split>_<task>`` folders (holding a results.md) present in every eval folder, sorted."""
    names = [{d.name for d in Path(e).iterdir() if (d / RESULTS).is_file()} for e in evals]
    return sorted(set.intersection(*names)) if names else []


def run_scores(evals, split, a, b):
    """The per-file scores of systems ``a`` and ``b`` on ``split`` in each eval folder, each CSV read once: two lists
    (one ``{file: row}`` per run) holding the same files.

    Raises ValueError, naming the folders, when a CSV is missing or the runs or the two systems hold different files.
    """
    found = []
    for system in (a, b):
        tables = []
        for e in evals:
            path = Path(e) / split / f"{system}.csv"
            if not path.is_file():
                raise ValueError(f"{path}: no scores of system {system!r}; score it (run.sh stage 6) or name another.")
            tables.append(read_scores(path))
        found.append(tables)
    files = sorted(found[0][0])
    for system, tables in zip((a, b), found):
        for e, table in zip(evals, tables):
            if sorted(table) != files:
                raise ValueError(f"{Path(e) / split / system}.csv: other files than "
                                 f"{Path(evals[0]) / split / a}.csv; compare systems and runs of one test set.")
    return found


def score_matrix(tables, metric):
    """``[runs, files]`` scores of one metric from one system's ``{file: row}`` per run (files sorted by name)."""
    files = sorted(tables[0])
    return np.array([[table[f].get(metric, math.nan) for f in files] for table in tables], dtype=np.float64)


def runs_comparisons(evals, label=None, pairs=PAIRS):
    """Paired comparisons over runs (e.g. seeds): for each test set scored in every one of ``evals`` (eval folders,
    one per run) and each pair of ``pairs`` scored in all of them, one entry per shared metric (the module
    docstring's "over_runs"), from :func:`paired_difference` of the ``[runs, files]`` scores."""
    found = []
    for split in common_splits(evals):
        title, _ = table_order(Path(evals[0]) / split / RESULTS)
        for a, b in pairs:
            if not all((Path(e) / split / f"{s}.csv").is_file() for e in evals for s in (a, b)):
                continue
            tables_a, tables_b = run_scores(evals, split, a, b)
            first = [next(iter(t[0].values())) for t in (tables_a, tables_b)]
            for metric in (m for m in HEADERS if m in first[0] and m in first[1]):
                r = paired_difference(score_matrix(tables_a, metric), score_matrix(tables_b, metric))
                found.append({"label": label, "split": split, "title": title, "a": a, "b": b, "metric": metric,
                              **{k: _number(r[k]) for k in ("mean_a", "mean_b", "diff", "half", "p")}, "n": r["n"],
                              "per_run": [_number(d) for d in r["per_run"]]})
    return found


def to_json(summary):
    """A summary as text: indented JSON, each list of numbers on one line."""
    text = json.dumps(summary, indent=1, ensure_ascii=False)
    return re.sub(r"\[\s+([^\[\]{}\"]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text) + "\n"


def read_summary(path):
    """A summary written by :func:`to_json`."""
    return json.loads(Path(path).read_text())


def _mean_cell(stat, files):
    """``mean ± half`` of a [mean, half, n] triple, with ``(n=K)`` when K of the ``files`` were kept."""
    mean, half, n = stat
    if not n:
        return "-"
    text = f"{mean:.2f}" if half is None else f"{mean:.2f} ± {half:.2f}"
    return text if n == files else f"{text} (n={n})"


def _difference_cell(c):
    """``+diff ± half (p ...)`` of a comparison (the interval and p-value only where there are two files or more)."""
    if c["diff"] is None:
        return "-"
    decimals = DECIMALS.get(c["metric"], 3)
    half = "" if c["half"] is None else f" ± {c['half']:.{decimals}f}"
    p = "" if c["p"] is None else " (p < 0.001)" if c["p"] < 0.001 else f" (p {c['p']:.3f})"
    return f"{c['diff']:+.{decimals}f}{half}{p}"


def _rows_by_system(tables):
    """[(system, label or None, its summary)] over ``tables`` (one test set, one per label): a system scored the same
    under every label it appears with is one row with label None, otherwise one row per label."""
    rows = []
    systems = list(dict.fromkeys(s for t in tables for s in t["systems"]))
    for system in systems:
        found = [(t["label"], t["systems"][system]) for t in tables if system in t["systems"]]
        if all(summary == found[0][1] for _, summary in found):
            rows.append((system, None, found[0][1]))
        else:
            rows += [(system, label, summary) for label, summary in found]
    return rows


def split_table(tables):
    """Markdown: the ``#### title`` table of one test set over ``tables`` (its TABLEs, one per paired fraction): one
    row per system (per fraction where its scores depend on it), files scored and mean ± 95% half-width per metric."""
    rows = _rows_by_system(tables)
    metrics = [m for m in HEADERS if any(m in summary for _, _, summary in rows)]
    labelled = any(t["label"] is not None for t in tables)
    head = ["system", *(["paired fraction"] if labelled else []), "files scored", *(HEADERS[m] for m in metrics)]
    lines = [f"#### {tables[0]['title']}", "", "| " + " | ".join(head) + " |",
             "| --- | " + " | ".join("---:" for _ in head[1:]) + " |"]
    for system, label, summary in rows:
        scored = f"{summary['files'] - summary['failed']}/{summary['files']}"
        cells = [system, *([label or ""] if labelled else []), scored]
        cells += [_mean_cell(summary[m], summary["files"]) if m in summary else "-" for m in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def comparison_table(tables):
    """Markdown: one row per TABLE and compared pair, one cell per metric: A - B ± 95% half-width (p), and the files
    compared; empty text when no table has a comparison."""
    found = [(t, pair) for t in tables for pair in dict.fromkeys((c["a"], c["b"]) for c in t["comparisons"])]
    if not found:
        return ""
    metrics = [m for m in HEADERS if any(c["metric"] == m for t, _ in found for c in t["comparisons"])]
    labelled = any(t["label"] is not None for t, _ in found)
    head = [*(["paired fraction"] if labelled else []), "test set", "A - B", *(HEADERS[m] for m in metrics), "files"]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for table, (a, b) in found:
        by_metric = {c["metric"]: c for c in table["comparisons"] if (c["a"], c["b"]) == (a, b)}
        counts = sorted({c["n"] for c in by_metric.values()})
        cells = [*([table["label"] or ""] if labelled else []), table["title"], f"{a} - {b}",
                 *(_difference_cell(by_metric[m]) if m in by_metric else "-" for m in metrics),
                 "/".join(map(str, counts))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


ENVIRONMENT = ("date", "time", "commit", "trainings", "command", "versions", "machine", "threads")  # header order
ENVIRONMENT_LABELS = {"trainings": "commits of the trainings (their env.log)"}


def environment_lines(environment):
    """Markdown list items of a run's header fields (``ENVIRONMENT`` order; the command as code)."""
    return [f"- {ENVIRONMENT_LABELS.get(key, key)}: " + (f"`{value}`" if key == "command" else value)
            for key, value in ((k, environment[k]) for k in ENVIRONMENT if k in environment)]


def runs_table(over_runs):
    """Markdown: one row per entry of a summary's "over_runs": paired fraction, test set, metric, the means of A and
    B over runs and files, A - B ± 95% half-width (p), the files compared and A - B of each run."""
    lines = ["| paired fraction | test set | metric | A | B | A - B | files | A - B per run |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for c in over_runs:
        decimals = DECIMALS.get(c["metric"], 3)
        per_run = ", ".join("-" if d is None else f"{d:+.{decimals}f}" for d in c["per_run"])
        means = ["-" if v is None else f"{v:.{decimals}f}" for v in (c["mean_a"], c["mean_b"])]
        lines.append(f"| {c['label'] or ''} | {c['title']} | {HEADERS.get(c['metric'], c['metric'])} | "
                     f"{c['a']} {means[0]} | {c['b']} {means[1]} | {_difference_cell(c)} | {c['n']} | {per_run} |")
    return "\n".join(lines) + "\n"


def render_runs(summary):
    """Markdown of a summary of several runs: each run's folder and environment, then the comparisons over runs."""
    lines = [f"Runs `{summary['name']}`; summary written by `{summary['made_by']}`.", ""]
    for i, run in enumerate(summary["runs"], 1):
        lines += [f"- run {i}: `{run['folder']}`", *("  " + line for line in environment_lines(run["environment"]))]
    lines += ["", f"Each file's score is averaged over the {len(summary['runs'])} runs first; A - B is the mean over "
              "the test files of the difference, ± the 95% half-width, with the p-value of a paired t-test; the last "
              "column gives A - B of each run alone.", "", runs_table(summary["over_runs"])]
    return "\n".join(lines).rstrip("\n") + "\n"


def render(summary):
    """Markdown of a summary: the environment, one table per test set, then the paired comparisons (a summary of
    several runs: :func:`render_runs`)."""
    if "runs" in summary:
        return render_runs(summary)
    lines = [f"Run `{summary['name']}`; summary written by `{summary['made_by']}`.", "",
             *environment_lines(summary["environment"])]
    lines += ["", "Mean ± half-width of the 95% confidence interval (t-distribution) over the files; a system "
              "without a paired fraction has the same scores in every one.", ""]
    splits = list(dict.fromkeys(t["split"] for t in summary["tables"]))
    for split in splits:
        lines += [split_table([t for t in summary["tables"] if t["split"] == split]).rstrip("\n"), ""]
    compared = comparison_table(summary["tables"])
    if compared:
        lines += ["#### Paired comparisons", "", "A - B: the mean over the test files of the difference of each file's "
                  "scores, ± the 95% half-width, and the p-value of a paired t-test.", "", compared]
    return "\n".join(lines).rstrip("\n") + "\n"


def regenerate(text, rendered):
    """``text`` with each ``<!-- generated: NAME -->`` block holding ``rendered[NAME]``.

    Raises ValueError naming a block with no rendering, or a rendering with no block.
    """
    names = [m["name"] for m in BLOCK.finditer(text)]
    unknown, unplaced = [n for n in names if n not in rendered], [n for n in rendered if n not in names]
    if unknown:
        raise ValueError(f"no summary for the generated block(s) {', '.join(unknown)}; give its summary file.")
    if unplaced:
        raise ValueError(f"no block for {', '.join(unplaced)}: add the lines '<!-- generated: NAME -->' and "
                         "'<!-- end generated -->' where its tables go.")
    return BLOCK.sub(lambda m: f"<!-- generated: {m['name']} -->\n{rendered[m['name']]}<!-- end generated -->\n", text)


def regenerate_file(results_md, summary_paths):
    """Rewrite the generated blocks of ``results_md`` from the summary files (named by their ``name``); returns
    whether the file changed."""
    summaries = [read_summary(p) for p in summary_paths]
    path = Path(results_md)
    text = path.read_text()
    new = regenerate(text, {s["name"]: render(s) for s in summaries})
    if new != text:
        write_text(path, new)
    return new != text
