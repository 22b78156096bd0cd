"""recipes/DNS/report.py (run.sh stage 7): per-system means, the data-efficiency table, the report, the CLI; the
score summaries of a run and RESULTS.md's generated blocks (regenerated here from the committed summaries)."""

import json
import math
import os
from pathlib import Path

import pytest
from scipy import stats
from scoring_fixtures import load_recipe_module

from maese import runinfo, summaries
from maese.scoring import write_csv

NAN = float("nan")


@pytest.fixture(scope="module")
def report():
    return load_recipe_module("DNS", "report")


def scores(folder, system, pesq, si_sdr, errors=None):
    """``folder/<system>.csv`` as evaluate.py writes it: one row per (pesq, si_sdr) pair."""
    errors = errors or [""] * len(pesq)
    rows = [{"file": f"f{i}.wav", "pesq": p, "stoi": 0.9, "si_sdr": s, "error": e}
            for i, (p, s, e) in enumerate(zip(pesq, si_sdr, errors))]
    write_csv(rows, Path(folder) / f"{system}.csv")


def scored_split(folder, name, mae, scratch):
    """An eval split folder ``folder/name`` with results.md, mae.csv and scratch.csv ((pesq, si_sdr) lists)."""
    split = Path(folder) / name
    split.mkdir(parents=True)
    (split / "results.md").write_text(f"### test_set/{name}\n\n| system | files scored |\n| --- | ---: |\n"
                                      "| mae | 2/2 |\n| scratch | 2/2 |\n")
    scores(split, "mae", *mae)
    scores(split, "scratch", *scratch)
    return split


@pytest.fixture
def fractions(tmp_path):
    """[(fraction, eval folder)]: 0.01 scored on two splits, 0.1 on one (its ood split not scored yet)."""
    low, high = tmp_path / "eval" / "p0.01", tmp_path / "eval" / "p0.1"
    scored_split(low, "ood_denoise", ([1.0, 2.0], [5.0, 7.0]), ([1.5, 1.5], [4.0, NAN]))
    scored_split(low, "indomain_denoise", ([2.0, 3.0], [10.0, 12.0]), ([1.0, 2.0], [8.0, 9.0]))
    scored_split(high, "indomain_denoise", ([3.0, 3.5], [14.0, 15.0]), ([2.5, 2.5], [9.0, 10.0]))
    (high / "ood_denoise").mkdir()  # started, no results.md yet
    return [("0.01", low), ("0.1", high)]


def test_system_means_leave_out_failed_files_and_give_nan_for_what_is_missing(report, tmp_path):
    scores(tmp_path, "mae", [1.0, NAN, 3.0], [2.0, 4.0, NAN], errors=["", "PESQ: no speech", "too short"])
    assert report.system_means(tmp_path / "mae.csv") == {"pesq": 2.0, "si_sdr": 3.0}
    assert report.system_means(tmp_path / "mae.csv", ("stoi",)) == {"stoi": pytest.approx(0.9)}
    missing = report.system_means(tmp_path / "scratch.csv")
    assert set(missing) == {"pesq", "si_sdr"} and all(math.isnan(v) for v in missing.values())
    unknown = report.system_means(tmp_path / "mae.csv", ("dnsmos_ovrl",))
    assert math.isnan(unknown["dnsmos_ovrl"])


def test_data_efficiency_table_has_a_row_per_fraction_and_mae_scratch_cells(report, fractions):
    lines = report.data_efficiency_table(fractions).splitlines()
    assert lines[0] == ("| paired fraction | indomain_denoise PESQ | indomain_denoise SI-SDR (dB) | "
                        "ood_denoise PESQ | ood_denoise SI-SDR (dB) |")
    assert lines[1] == "| ---: | ---: | ---: | ---: | ---: |"
    assert lines[2] == "| 0.01 | 2.50 / 1.50 | 11.00 / 8.50 | 1.50 / 1.50 | 6.00 / 4.00 |"
    assert lines[3] == "| 0.1 | 3.25 / 2.50 | 14.50 / 9.50 | - / - | - / - |"
    assert lines[4] == "" and lines[5].startswith("Each cell: mae / scratch")
    reversed_rows = report.data_efficiency_table(fractions[::-1]).splitlines()
    assert [line.split(" |")[0] for line in reversed_rows[2:4]] == ["| 0.1", "| 0.01"]  # rows in the order given
    assert report.data_efficiency_table([("0.5", fractions[0][1].parent / "p0.5")]).startswith("No scored test splits")


def test_report_of_one_run_concatenates_the_split_tables_in_order(report, fractions, tmp_path):
    text = report.build_report("DNS recipe, size tiny: results", [(None, fractions[0][1])], notes=["options: x"])
    assert text.startswith("# DNS recipe, size tiny: results\n\n- options: x\n\n### test_set/indomain_denoise")
    assert text.index("### test_set/indomain_denoise") < text.index("### test_set/ood_denoise")
    assert "Data efficiency" not in text and "## Paired fraction" not in text
    empty = report.build_report("T", [(None, tmp_path / "nothing")])
    assert f"No results in `{tmp_path / 'nothing'}` yet" in empty


def test_report_of_several_fractions_starts_with_the_table(report, fractions):
    text = report.build_report("T", fractions)
    sections = [text.index(h) for h in ("## Data efficiency", "## Paired fraction 0.01", "## Paired fraction 0.1")]
    assert sections == sorted(sections)
    assert text.count("### test_set/indomain_denoise") == 2 and text.count("### test_set/ood_denoise") == 1
    assert "| 0.1 | 3.25 / 2.50 | 14.50 / 9.50 | - / - | - / - |" in text


def test_cli_writes_the_report_once_and_leaves_an_up_to_date_one_alone(report, fractions, tmp_path, capsys):
    out = tmp_path / "RESULTS.md"
    args = ["--out", str(out), "--title", "T", "--note", "n", "--", *(f"{f}={d}" for f, d in fractions)]
    report.main(args)
    assert out.read_text() == report.build_report("T", fractions, ["n"])
    assert "## Data efficiency" in capsys.readouterr().out
    os.utime(out, ns=(1, 1))
    report.main(args)
    assert out.stat().st_mtime_ns == 1 and "is up to date" in capsys.readouterr().err
    report.main(["--out", str(out), "--title", "T2", str(fractions[0][1])])
    assert out.read_text().startswith("# T2\n") and out.stat().st_mtime_ns != 1
    with pytest.raises(SystemExit):
        report.main(["--out", str(out), f"0.01={fractions[0][1]}", str(fractions[1][1])])  # labels on all or none
    assert "label every EVAL folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        report.main(["--out", str(out), "=x"])


def test_the_report_has_the_environment_of_the_run_and_the_paired_comparisons(report, fractions, tmp_path):
    run = fractions[0][1].parents[1]
    runinfo.record(run / "run.json", runinfo.collect(["./run.sh", "--size", "tiny"], tmp_path, 2, 1))
    text = report.build_report("T", fractions, run=run)
    assert "## Environment\n\n- date: " in text and "- command: `cd " in text and "./run.sh --size tiny`" in text
    assert text.index("## Environment") < text.index("## Data efficiency")
    low = text.split("## Paired fraction 0.01")[1].split("## Paired fraction 0.1")[0]
    compared = low.split("### Paired comparisons")[1]  # PESQ, STOI (0.9 in every file), SI-SDR
    assert ("| 0.01 | test_set/indomain_denoise | mae - scratch | +1.000 ± 0.000 (p < 0.001) | +0.000 ± 0.000 (p 1.000) "
            "| +2.50 ± 6.35 (p 0.126) | 2 |") in compared
    assert "| 0.01 | test_set/ood_denoise | mae - scratch | " in compared and "| +1.00 | 1/2 |" in compared  # one file
    assert "Environment" not in report.build_report("T", fractions)


@pytest.fixture
def run(fractions, tmp_path):
    """A results folder with two fractions, the env.log of two trainings at other commits, and no run.json."""
    for folder, commit in (("pretrain", "1f23a5f"), ("finetune_denoise_p0.1", "0774913")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "env.log").write_text(f"Python version:\n3.11.7 (main)\nGit revision:\n{commit}\n")
    return tmp_path


def test_summarize_reads_every_scored_test_set_and_the_environment(report, run):
    summary = report.summarize(run, "r", "made by", {"commit": "1f23a5f", "date": None})
    assert [(t["label"], t["split"]) for t in summary["tables"]] == [
        ("0.01", "indomain_denoise"), ("0.01", "ood_denoise"), ("0.1", "indomain_denoise")]
    assert summary["tables"][2]["systems"]["mae"]["pesq"][0] == 3.25
    assert summary["environment"] == {"commit": "1f23a5f", "trainings": "0774913: finetune_denoise_p0.1; "
                                      "1f23a5f: pretrain", "versions": "Python 3.11.7"}
    runinfo.record(run / "run.json", runinfo.collect(["./run.sh"], run, 2, None))  # run.json: above env.log
    recorded = report.summarize(run, "r", "m")["environment"]
    assert recorded["versions"].startswith("Python ") and "PyTorch" in recorded["versions"]
    assert recorded["command"].endswith("./run.sh") and recorded["trainings"].startswith("0774913")
    assert report.summarize(run, "r", "m", {"commit": "abc"})["environment"]["commit"] == "abc"  # overrides: above all
    with pytest.raises(ValueError, match="no scored test set"):
        report.summarize(run / "pretrain", "r", "m")


def test_summarize_then_tables_regenerate_the_block_in_place(report, run, tmp_path, capsys):
    out = tmp_path / "summaries" / "r_2026-12-06.json"
    report.main(["summarize", str(run), "--out", str(out), "--commit", "1f23a5f", "--command", "./run.sh --x 'a b'"])
    summary = json.loads(out.read_text())
    assert summary["name"] == "r_2026-12-06" and summary["environment"]["command"] == "./run.sh --x 'a b'"
    assert summary["made_by"] == (f"python report.py summarize {run} --out {out} --commit 1f23a5f "
                                  "--command './run.sh --x '\"'\"'a b'\"'\"''")
    assert "#### test_set/indomain_denoise" in capsys.readouterr().out
    results = tmp_path / "RESULTS.md"
    results.write_text("# R\n\n<!-- generated: r_2026-12-06 -->\n<!-- end generated -->\n\nProse.\n")
    report.main(["tables", str(out), "--results_md", str(results)])
    assert results.read_text() == ("# R\n\n<!-- generated: r_2026-12-06 -->\n" + summaries.render(summary)
                                   + "<!-- end generated -->\n\nProse.\n")
    assert "generated blocks rewritten" in capsys.readouterr().out
    report.main(["tables", str(out), "--results_md", str(results)])
    assert "up to date" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        report.main(["tables", str(out), "--results_md", str(tmp_path / "summaries" / "none.md")])
    with pytest.raises(SystemExit):
        report.main(["summarize", str(run / "pretrain"), "--out", str(out)])
    assert "no scored test set" in capsys.readouterr().err


def test_results_md_is_what_the_committed_summaries_generate(report):
    """Every generated block of recipes/DNS/RESULTS.md, regenerated from recipes/DNS/summaries/: a hand edit of a
    number in a block, or a summary changed without `python report.py tables summaries/*.json`, fails here."""
    paths = sorted(report.SUMMARIES.glob("*.json"))
    assert paths, f"no summaries in {report.SUMMARIES}"
    text = report.RESULTS_MD.read_text()
    rendered = {s["name"]: summaries.render(s) for s in map(summaries.read_summary, paths)}
    assert summaries.regenerate(text, rendered) == text, "run: cd recipes/DNS && python report.py tables summaries/*.json"


def seed_run(folder, mae_by_fraction, scratch=(1.0, 2.0)):
    """A results folder of one training seed: eval/p<F>/indomain_denoise with mae PESQ ``mae_by_fraction[F]`` and the
    same scratch scores in every fraction (SI-SDR 10 dB for both)."""
    for fraction, mae in mae_by_fraction.items():
        scored_split(Path(folder) / "eval" / f"p{fraction}", "indomain_denoise", (mae, [10.0, 10.0]),
                     (list(scratch), [10.0, 10.0]))
    return Path(folder)


def test_summarize_runs_pairs_files_over_seeds_for_the_fractions_every_run_has(report, tmp_path):
    one = seed_run(tmp_path / "s1", {"0.01": [1.5, 2.5], "0.1": [2.0, 3.0], "1.0": [3.0, 3.0]})
    two = seed_run(tmp_path / "s2", {"0.01": [1.1, 2.3], "0.1": [2.0, 2.0]})
    summary = report.summarize_runs([one, two], "seeds", "made by", {"commit": "abc"})
    assert [r["folder"] for r in summary["runs"]] == [str(one), str(two)]
    assert summary["runs"][0]["environment"]["commit"] == "abc" and "commit" not in summary["runs"][1]["environment"]
    pesq = [c for c in summary["over_runs"] if c["metric"] == "pesq"]
    assert [c["label"] for c in pesq] == ["0.01", "0.1"]  # 1.0: only the first run has it
    low = pesq[0]
    # per file, mae - scratch averaged over the runs: (0.5 + 0.1) / 2 = 0.3 and (0.5 + 0.3) / 2 = 0.4
    assert low["diff"] == pytest.approx(0.35) and low["n"] == 2
    assert low["per_run"] == pytest.approx([0.5, 0.2]) and low["mean_a"] == pytest.approx(1.85)
    assert low["p"] == pytest.approx(stats.ttest_1samp([0.3, 0.4], 0.0).pvalue)
    si_sdr = [c for c in summary["over_runs"] if c["metric"] == "si_sdr"]
    assert all(c["diff"] == 0.0 for c in si_sdr)
    with pytest.raises(ValueError, match="no test set with mae and scratch scored in every run"):
        report.summarize_runs([one, tmp_path / "none"], "seeds", "m")


def test_a_summary_of_runs_renders_each_run_and_the_comparisons(report, tmp_path, capsys):
    one = seed_run(tmp_path / "s1", {"0.1": [2.0, 3.0]})
    two = seed_run(tmp_path / "s2", {"0.1": [2.0, 2.0]})
    out = tmp_path / "seeds.json"
    report.main(["summarize", str(one), str(two), "--out", str(out), "--command", "./run.sh"])
    summary = summaries.read_summary(out)
    text = summaries.render(summary)
    assert f"- run 1: `{one}`" in text and f"- run 2: `{two}`" in text and "- command: `./run.sh`" in text
    assert text.count("- command:") == 1  # the override is the first run's
    assert "| 0.1 | test_set/indomain_denoise | PESQ | mae 2.250 | scratch 1.500 | +0.750 ± " in text
    assert "| 2 | +1.000, +0.500 |" in text
    assert text == capsys.readouterr().out.rstrip("\n") + "\n"


def test_runs_whose_two_systems_hold_other_files_are_refused(report, tmp_path):
    one = seed_run(tmp_path / "s1", {"0.1": [2.0, 3.0]})
    two = seed_run(tmp_path / "s2", {"0.1": [2.0, 2.0]})
    write_csv([{"file": f"g{i}.wav", "pesq": 1.0, "si_sdr": 1.0, "error": ""} for i in range(2)],
              two / "eval" / "p0.1" / "indomain_denoise" / "scratch.csv", overwrite=True)  # same count, other files
    with pytest.raises(ValueError, match="other files than"):
        report.summarize_runs([one, two], "seeds", "m")
