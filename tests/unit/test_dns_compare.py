"""recipes/DNS/compare.py: paired differences of two systems over files and runs, the table, the CLI."""

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scoring_fixtures import load_recipe_module

from maese.scoring import write_csv

NAN = float("nan")


@pytest.fixture(scope="module")
def compare():
    return load_recipe_module("DNS", "compare")


def scored(eval_dir, split, system, pesq, si_sdr=None):
    """``eval_dir/split/<system>.csv`` (and results.md) with one row per PESQ value."""
    folder = Path(eval_dir) / split
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.md").write_text("table\n")
    si_sdr = si_sdr if si_sdr is not None else [10.0] * len(pesq)
    rows = [{"file": f"f{i}.wav", "pesq": p, "si_sdr": s, "error": ""} for i, (p, s) in enumerate(zip(pesq, si_sdr))]
    write_csv(rows, folder / f"{system}.csv")


def test_difference_averages_runs_per_file_then_tests_over_files(compare):
    a = np.array([[2.0, 2.5, 3.0, 2.2], [2.2, 2.3, 3.2, 2.0]])
    b = np.array([[1.9, 2.4, 2.6, 2.1], [2.0, 2.4, 3.0, 2.1]])
    r = compare.paired_difference(a, b)
    per_file = (a - b).mean(0)
    assert r["diff"] == pytest.approx(per_file.mean()) and r["n"] == 4
    assert r["half"] == pytest.approx(stats.t.ppf(0.975, 3) * per_file.std(ddof=1) / 2)
    assert r["p"] == pytest.approx(stats.ttest_rel(a.mean(0), b.mean(0)).pvalue)
    assert r["per_run"] == pytest.approx([(a[0] - b[0]).mean(), (a[1] - b[1]).mean()])
    assert r["mean_a"] == pytest.approx(a.mean()) and r["mean_b"] == pytest.approx(b.mean())


def test_a_file_failed_in_any_run_is_left_out(compare):
    a = np.array([[2.0, NAN, 3.0], [2.0, 2.0, 3.0]])
    b = np.array([[1.0, 1.0, 2.5], [1.0, 1.0, NAN]])
    r = compare.paired_difference(a, b)
    assert r["n"] == 1 and r["diff"] == pytest.approx(1.0) and math.isnan(r["half"])
    assert r["per_run"] == pytest.approx([1.0, 1.0])


def test_table_over_runs_and_splits(compare, tmp_path):
    runs = [tmp_path / "s1", tmp_path / "s2"]
    for k, run in enumerate(runs):
        for split in ("indomain_denoise", "ood_denoise"):
            scored(run, split, "mae", [2.0 + k, 2.5, 3.0], [12.0, 11.0, 10.0])
            scored(run, split, "scratch", [1.9 + k, 2.45, 3.05], [11.0, 11.0, 9.0])
    scored(runs[0], "indomain_dereverb", "mae", [1.0])  # in one run only: not compared
    text = compare.comparison_table(runs, "mae", "scratch", ["pesq", "si_sdr"])
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [r.split(" | ")[0:2] for r in rows] == [
        ["| indomain_denoise", "PESQ"], ["| indomain_denoise", "SI-SDR (dB)"], ["| ood_denoise", "PESQ"],
        ["| ood_denoise", "SI-SDR (dB)"]]
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[2:4] == ["2.667", "2.633"] and cells[4].startswith("+0.033 ± ") and cells[6] == "3"
    assert cells[7] == "+0.033, +0.033"
    si_sdr = [c.strip() for c in rows[1].strip("|").split("|")]
    assert si_sdr[4].startswith("+0.667 ± ")


def test_cli_names_missing_systems_mismatched_files_and_existing_out(compare, tmp_path, capsys):
    run = tmp_path / "s1"
    scored(run, "indomain_denoise", "mae", [2.0, 2.5])
    scored(run, "indomain_denoise", "scratch", [1.0, 1.5])
    assert compare.main(["--a", "mae", "--b", "wiener", str(run)]) == 1
    assert "no scores of system 'wiener' on any test split" in capsys.readouterr().err
    scored(run, "indomain_dereverb", "mae", [1.0, 1.5])  # a split where Wiener is not a method: skipped, named
    scored(run, "indomain_dereverb", "scratch", [1.0, 1.2])
    scored(run, "indomain_denoise", "wiener", [1.5, 2.0])
    assert compare.main(["--a", "mae", "--b", "wiener", str(run)]) == 0
    text = capsys.readouterr().out
    assert "| indomain_denoise | PESQ | 2.250 | 1.750 | +0.500 ± 0.000 | 0.000 | 2 | +0.500 |" in text
    assert "indomain_dereverb |" not in text and "Not compared: indomain_dereverb (no wiener scores)." in text
    partly = tmp_path / "s3"  # a run that scored Wiener while another did not: an error, naming the file
    scored(partly, "indomain_denoise", "mae", [2.0, 2.5])
    scored(partly, "indomain_denoise", "scratch", [1.0, 1.5])
    assert compare.main(["--a", "mae", "--b", "wiener", str(run), str(partly)]) == 1
    assert f"{partly / 'indomain_denoise' / 'wiener.csv'}: no scores of system 'wiener'" in capsys.readouterr().err
    for f in (run / "indomain_dereverb").iterdir():
        f.unlink()
    (run / "indomain_dereverb").rmdir()
    (run / "indomain_denoise" / "wiener.csv").unlink()
    other = tmp_path / "s2"
    scored(other, "indomain_denoise", "mae", [2.0])
    scored(other, "indomain_denoise", "scratch", [1.0])
    assert compare.main([str(run), str(other)]) == 1
    assert "other files than" in capsys.readouterr().err
    out = tmp_path / "cmp.md"
    assert compare.main(["--out", str(out), str(run)]) == 0
    assert "| indomain_denoise | PESQ | 2.250 | 1.250 | +1.000 ± 0.000 | 0.000 | 2 | +1.000 |" in out.read_text()
    with pytest.raises(SystemExit):
        compare.main(["--out", str(out), str(run)])
    with pytest.raises(SystemExit):
        compare.main([str(tmp_path / "missing")])
