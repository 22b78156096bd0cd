"""maese/summaries.py: a scored test set's summary, its Markdown tables, and the generated blocks of a RESULTS.md."""

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from maese import summaries
from maese.scoring import write_csv

NAN = float("nan")


def scored_set(folder, systems, title="test_set/indomain/denoise"):
    """A maese-score output folder: ``<system>.csv`` per ``systems`` ({name: [(pesq, si_sdr, error), ...]}) and a
    results.md whose table lists them in order."""
    folder = Path(folder)
    folder.mkdir(parents=True)
    for name, rows in systems.items():
        write_csv([{"file": f"f{i}.wav", "pesq": p, "si_sdr": s, "error": e} for i, (p, s, e) in enumerate(rows)],
                  folder / f"{name}.csv")
    table = "".join(f"| {name} | 3/3 | 1.00 |\n" for name in systems)
    head = "| system | files scored | PESQ |\n| --- | ---: | ---: |\n"
    (folder / "results.md").write_text(f"### {title}\n\n{head}{table}")
    return folder


UNPROCESSED = [(1.0, 5.0, ""), (1.2, 6.0, ""), (1.1, 7.0, "")]
MAE = [(2.0, 10.0, ""), (2.5, 12.0, ""), (NAN, 11.0, "PESQ: no speech")]
SCRATCH = [(1.5, 9.0, ""), (2.4, 11.0, ""), (1.9, 10.0, "")]


def test_split_summary_has_the_systems_in_table_order_and_the_paired_comparison(tmp_path):
    folder = scored_set(tmp_path / "indomain_denoise", {"unprocessed": UNPROCESSED, "scratch": SCRATCH, "mae": MAE})
    table = summaries.split_summary(folder, "0.1")
    assert (table["label"], table["split"], table["title"]) == ("0.1", "indomain_denoise", "test_set/indomain/denoise")
    assert list(table["systems"]) == ["unprocessed", "scratch", "mae"]
    mae = table["systems"]["mae"]
    half = stats.t.ppf(0.975, 1) * np.std([2.0, 2.5], ddof=1) / math.sqrt(2)
    assert mae["files"] == 3 and mae["failed"] == 1
    assert mae["pesq"] == [2.25, pytest.approx(half), 2] and mae["si_sdr"][0] == 11.0 and mae["si_sdr"][2] == 3
    pesq, si_sdr = table["comparisons"]
    assert (pesq["a"], pesq["b"], pesq["metric"], pesq["n"]) == ("mae", "scratch", "pesq", 2)  # the failed file out
    assert pesq["diff"] == pytest.approx(0.3)
    assert pesq["p"] == pytest.approx(stats.ttest_rel([2.0, 2.5], [1.5, 2.4]).pvalue)
    assert si_sdr["diff"] == pytest.approx(1.0) and si_sdr["half"] == 0.0 and si_sdr["p"] == 0.0  # no spread


def test_a_listed_system_without_scores_or_files_that_differ_are_refused(tmp_path):
    folder = scored_set(tmp_path / "a", {"mae": MAE, "scratch": SCRATCH})
    (folder / "scratch.csv").unlink()
    with pytest.raises(ValueError, match="lists scratch, which have no CSV"):
        summaries.split_summary(folder)
    other = scored_set(tmp_path / "b", {"mae": MAE, "scratch": SCRATCH[:2]})
    with pytest.raises(ValueError, match="different files"):
        summaries.split_summary(other)


def test_json_keeps_the_numbers_and_stores_nan_as_null(tmp_path):
    folder = scored_set(tmp_path / "s", {"mae": MAE, "scratch": SCRATCH})
    summary = {"name": "x", "made_by": "m", "environment": {}, "tables": [summaries.split_summary(folder)]}
    text = summaries.to_json(summary)
    assert '"pesq": [2.25, ' in text and "NaN" not in text
    path = tmp_path / "x.json"
    path.write_text(text)
    assert summaries.read_summary(path) == summary  # rounded to 8 digits on the way in, read back as written


def two_fractions(tmp_path):
    """Tables of one test set at fractions 0.01 and 0.1: the unprocessed input the same in both, mae and scratch not."""
    low = summaries.split_summary(scored_set(tmp_path / "p0.01" / "s", {"unprocessed": UNPROCESSED, "mae": MAE,
                                                                        "scratch": SCRATCH}), "0.01")
    high = summaries.split_summary(scored_set(tmp_path / "p0.1" / "s", {
        "unprocessed": UNPROCESSED, "mae": [(3.0, 14.0, ""), (3.0, 15.0, ""), (3.5, 16.0, "")], "scratch": SCRATCH}),
        "0.1")
    return [low, high]


def test_split_table_merges_a_system_scored_alike_in_every_fraction(tmp_path):
    lines = summaries.split_table(two_fractions(tmp_path)).splitlines()
    assert lines[0] == "#### test_set/indomain/denoise"
    assert lines[2] == "| system | paired fraction | files scored | PESQ | SI-SDR (dB) |"
    rows = [line.split(" | ")[:3] for line in lines[4:]]
    assert rows == [["| unprocessed", "", "3/3"], ["| mae", "0.01", "2/3"], ["| mae", "0.1", "3/3"],
                    ["| scratch", "", "3/3"]]
    assert "| 2.25 ± " in lines[5] and " (n=2) |" in lines[5]  # PESQ kept 2 of the 3 files
    assert lines[4].endswith(" | 1.10 ± 0.25 | 6.00 ± 2.48 |")
    single = summaries.split_table([dict(two_fractions(tmp_path / "one")[0], label=None)]).splitlines()
    assert single[2] == "| system | files scored | PESQ | SI-SDR (dB) |"  # one run: no fraction column


def test_comparison_table_shows_differences_intervals_and_p_values(tmp_path):
    lines = summaries.comparison_table(two_fractions(tmp_path)).splitlines()
    assert lines[0] == "| paired fraction | test set | A - B | PESQ | SI-SDR (dB) | files |"
    assert lines[2].startswith("| 0.01 | test_set/indomain/denoise | mae - scratch | +0.300 ± ")
    assert lines[2].endswith(" | +1.00 ± 0.00 (p < 0.001) | 2/3 |")  # SI-SDR: 2 decimals, no spread; PESQ on 2 files
    assert lines[3].startswith("| 0.1 | test_set/indomain/denoise | mae - scratch | +1.233 ± ")
    assert summaries.comparison_table([dict(t, comparisons=[]) for t in two_fractions(tmp_path / "n")]) == ""


def test_render_starts_with_the_environment(tmp_path):
    summary = {"name": "real_2026-12-06", "made_by": "python report.py summarize results/real --out s.json",
               "environment": {"threads": "--jobs 2", "command": "./run.sh", "date": "2026-12-06"},
               "tables": two_fractions(tmp_path)}
    text = summaries.render(summary)
    assert text.startswith("Run `real_2026-12-06`; summary written by `python report.py summarize results/real")
    assert "\n- date: 2026-12-06\n- command: `./run.sh`\n- threads: --jobs 2\n" in text  # in ENVIRONMENT's order
    assert text.index("#### test_set/indomain/denoise") < text.index("#### Paired comparisons")
    assert text.endswith("|\n") and "\n\n\n" not in text


PROSE = "# Results\n\nProse before.\n\n<!-- generated: a -->\nold\n<!-- end generated -->\n\nProse after.\n"


def test_regenerate_rewrites_the_blocks_and_keeps_the_prose():
    new = summaries.regenerate(PROSE, {"a": "new table\n"})
    assert new == PROSE.replace("old\n", "new table\n")
    assert summaries.regenerate(new, {"a": "new table\n"}) == new
    with pytest.raises(ValueError, match="no summary for the generated block"):
        summaries.regenerate(PROSE, {})
    with pytest.raises(ValueError, match="no block for b"):
        summaries.regenerate(PROSE, {"a": "x\n", "b": "y\n"})


def test_regenerate_file_writes_only_a_change(tmp_path):
    folder = scored_set(tmp_path / "s", {"mae": MAE, "scratch": SCRATCH})
    summary = {"name": "a", "made_by": "m", "environment": {}, "tables": [summaries.split_summary(folder)]}
    (tmp_path / "a.json").write_text(summaries.to_json(summary))
    results = tmp_path / "RESULTS.md"
    results.write_text(PROSE)
    assert summaries.regenerate_file(results, [tmp_path / "a.json"])
    assert results.read_text() == PROSE.replace("old\n", summaries.render(summary))
    assert not summaries.regenerate_file(results, [tmp_path / "a.json"])
