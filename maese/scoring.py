"""Folder scoring: match enhanced files to references by name, score each, tabulate mean and 95% CI.

A row is ``{"file": relative path, <metric key>: float (NaN if failed), ..., "error": reason or ""}``.
"""

import csv
import io
import logging
import math
from pathlib import Path

import numpy as np
from scipy import stats
from tqdm import tqdm

from maese.audio import AudioError, load_audio, read_info, resample
from maese.dataio import list_audio_files, write_text
from maese.metrics import METRICS, MetricError, compute_metrics, metric_keys

logger = logging.getLogger(__name__)

HEADERS = {
    "pesq": "PESQ", "stoi": "STOI", "estoi": "ESTOI", "si_sdr": "SI-SDR (dB)", "dnsmos_sig": "DNSMOS SIG",
    "dnsmos_bak": "DNSMOS BAK", "dnsmos_ovrl": "DNSMOS OVRL", "dnsmos_p808": "DNSMOS P.808",
}
SHOWN = 5  # file names shown per list in error messages


class ScoringError(ValueError):
    """Folders that cannot be scored against each other; the message lists what is wrong."""


def _names(folder):
    """Relative path (posix) -> Path of every audio file under ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScoringError(f"{folder}: no such folder.")
    return {p.relative_to(folder).as_posix(): p for p in list_audio_files(folder)}


def _listing(names):
    shown = ", ".join(names[:SHOWN])
    return f"{len(names)} ({shown}{', ...' if len(names) > SHOWN else ''})"


def match_files(ref_dir, est_dir, allow_missing=False):
    """Pair the files of two folders by relative path.

    Missing estimates and extra estimates (no reference) raise :class:`ScoringError` naming them;
    with ``allow_missing`` they are logged, extras skipped and missing ones paired with ``None``.

    Returns
    -------
    list of (name, ref_path, est_path or None), sorted by name.
    """
    refs, ests = _names(ref_dir), _names(est_dir)
    if not refs:
        raise ScoringError(f"{ref_dir}: no reference audio files.")
    missing, extra = sorted(set(refs) - set(ests)), sorted(set(ests) - set(refs))
    if missing or extra:
        message = (
            f"{est_dir} does not match the references in {ref_dir}: "
            f"missing estimates {_listing(missing)}; extra files without a reference {_listing(extra)}."
        )
        if not allow_missing:
            raise ScoringError(message + " Re-run the enhancement, or pass allow_missing to score the rest.")
        logger.warning(message)
    return [(name, refs[name], ests.get(name)) for name in sorted(refs)]


def score_pair(ref_path, est_path, metrics=METRICS, sample_rate=16000):
    """One row: the metrics of ``est_path`` against ``ref_path``; failures go to ``row["error"]``.

    Both files must have the same sample rate and length; they are resampled to ``sample_rate``.
    """
    row = dict.fromkeys(metric_keys(metrics), float("nan"))
    if est_path is None:
        return {**row, "error": "missing estimate file"}
    try:
        ref_rate, est_rate = read_info(ref_path).samplerate, read_info(est_path).samplerate
        if ref_rate != est_rate:
            raise MetricError(f"sample-rate mismatch: reference {ref_rate} Hz, estimate {est_rate} Hz")
        ref, est = load_audio(ref_path, None), load_audio(est_path, None)
        if ref.numel() != est.numel():
            raise MetricError(f"length mismatch: reference has {ref.numel()} samples, estimate {est.numel()}")
        ref, est = resample(ref, ref_rate, sample_rate), resample(est, est_rate, sample_rate)
        return compute_metrics(ref, est, sample_rate, metrics, strict=False)
    except (AudioError, MetricError) as err:
        return {**row, "error": str(err)}


def score_folder(ref_dir, est_dir, metrics=METRICS, sample_rate=16000, allow_missing=False, desc=None):
    """Score every estimate in ``est_dir`` against the same-named reference in ``ref_dir``.

    Per-file failures (unreadable file, length or rate mismatch, PESQ finding no speech) are
    recorded in the row's ``error`` and the other files are still scored.

    Returns
    -------
    list of row dicts (see the module docstring), sorted by file name.
    """
    pairs = match_files(ref_dir, est_dir, allow_missing)
    rows = []
    for name, ref_path, est_path in tqdm(pairs, desc=desc or str(est_dir), unit="file", leave=False):
        rows.append({"file": name, **score_pair(ref_path, est_path, metrics, sample_rate)})
        if rows[-1]["error"]:
            logger.warning("%s: %s", est_path or name, rows[-1]["error"])
    return rows


def write_csv(rows, path, overwrite=False):
    """Write rows as CSV (columns: file, metrics, error), atomically."""
    if Path(path).exists() and not overwrite:
        raise FileExistsError(f"{path} exists; refusing to overwrite it (pass overwrite).")
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, text.getvalue())


def read_scores(path):
    """Rows of a maese-score CSV: dict file -> {metric key: float, "error": str}."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "file" not in rows[0]:
        raise ValueError(f"{path}: not a per-file scores CSV (no 'file' column or no rows); write it with maese-score.")
    try:
        return {
            row["file"]: {k: (v if k == "error" else float(v)) for k, v in row.items() if k != "file"} for row in rows
        }
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: a metric value is not a number ({err}); write the CSV with maese-score.") from err


def scored_rows(csv_path, ref_dir, metrics=METRICS):
    """The rows of a system scored before (a ``<system>.csv``), checked against this test set and these metrics.

    Raises
    ------
    ScoringError naming the CSV when its files are not the references of ``ref_dir`` or it lacks a metric.

    Returns
    -------
    list of row dicts (see the module docstring) with the keys of ``metrics`` only, sorted by file name.
    """
    scores, refs = read_scores(csv_path), _names(ref_dir)
    missing, extra = sorted(set(refs) - set(scores)), sorted(set(scores) - set(refs))
    if missing or extra:
        raise ScoringError(f"{csv_path} does not score the references in {ref_dir}: missing files {_listing(missing)}; "
                           f"files without a reference {_listing(extra)}. Score that system again.")
    keys = metric_keys(metrics)
    lacking = sorted({k for k in keys if k not in next(iter(scores.values()))})
    if lacking:
        raise ScoringError(f"{csv_path} has no {', '.join(lacking)}; score that system again with those metrics.")
    return [{"file": name, **{k: scores[name][k] for k in keys}, "error": scores[name].get("error", "")}
            for name in sorted(refs)]


def spread(items, most):
    """Every k-th of ``items`` so that ``most`` of them span the list (all of them for None)."""
    if most is None:
        return items
    return items[:: max(1, len(items) // most)][:most]


def reference_names(ref, folders, max_files=None):
    """Relative paths of the wav files under ``ref`` (sorted, spread by :func:`spread`), after checking that each
    folder of ``folders`` (label -> folder) has all of them; ValueError / FileNotFoundError naming the folder."""
    names = spread(sorted(p.relative_to(ref) for p in Path(ref).rglob("*.wav")), max_files)
    if not names:
        raise ValueError(f"{ref}: no .wav files; give the folder of clean reference speech.")
    for label, folder in folders.items():
        for name in names:
            if not (Path(folder) / name).is_file():
                raise FileNotFoundError(f"{name} is missing from {folder} ({label}), which needs every reference file.")
    return names


def parse_named_folders(items, taken, option):
    """``NAME=DIR`` strings (of the command-line ``option``) -> dict name -> folder; ValueError for an item without a
    name or folder, a NAME given twice, or one in ``taken`` (names already used, e.g. the peers')."""
    folders = {}
    for item in items:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder or name in folders or name in taken:
            raise ValueError(f"{option} {item!r}: give NAME=DIR, a NAME of its own (not {', '.join(sorted(taken))}, "
                             "nor another one's).")
        folders[name] = folder
    return folders


def mean_ci(values, confidence=0.95):
    """Mean and half-width of the ``confidence`` interval (Student's t) of the finite ``values``.

    Returns
    -------
    (mean, half_width, n); NaN where undefined (no values; one value has no interval).
    """
    values = np.asarray([v for v in values if np.isfinite(v)], dtype=np.float64)
    n = values.size
    if n == 0:
        return float("nan"), float("nan"), 0
    if n == 1:
        return float(values[0]), float("nan"), 1
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return float(values.mean()), float(half), n


def _cell(values, total):
    mean, half, n = mean_ci(values)
    if n == 0:
        return "-"
    text = f"{mean:.2f}" if math.isnan(half) else f"{mean:.2f} ± {half:.2f}"
    return text if n == total else f"{text} (n={n})"


def summary_table(systems, title):
    """Markdown: a ``### title`` table, one row per system, mean ± 95% CI per metric, then failures.

    Arguments
    ---------
    systems : dict name -> rows (from :func:`score_folder`).
    title : str, e.g. the test set's name.
    """
    keys = [k for k in HEADERS if any(k in row for rows in systems.values() for row in rows)]
    lines = [
        f"### {title}", "",
        "| system | files scored | " + " | ".join(HEADERS[k] for k in keys) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in keys) + " |",
    ]
    failures = []
    for name, rows in systems.items():
        ok = sum(not row["error"] for row in rows)
        cells = [_cell([row.get(k, float("nan")) for row in rows], len(rows)) for k in keys]
        lines.append(f"| {name} | {ok}/{len(rows)} | " + " | ".join(cells) + " |")
        failures += [f"- {name} / {row['file']}: {row['error']}" for row in rows if row["error"]]
    lines += ["", "Mean ± half-width of the 95% confidence interval (t-distribution) over files."]
    if failures:
        lines += ["", f"Per-file failures ({len(failures)}; a failed metric is left out of its mean):", *failures]
    return "\n".join(lines) + "\n"
