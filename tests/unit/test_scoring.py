"""maese.scoring and recipes/DNS/evaluate.py: matching, per-file failures, CSV, tables, the CLI."""

import csv
import logging
import math
import shutil

import numpy as np
import pytest
from scoring_fixtures import RATE, add_noise, load_recipe_module, speech, write

from maese.metrics import MAX_SI_SDR
from maese.scoring import (
    ScoringError,
    match_files,
    mean_ci,
    score_folder,
    summary_table,
    write_csv,
)


@pytest.fixture(scope="module")
def evaluate_module():
    return load_recipe_module("DNS", "evaluate")


def make_set(folder, snrs, seconds=1.5):
    """``folder/clean`` and ``folder/noisy`` with one file per SNR (``f{i}.wav``); returns the clean arrays."""
    clean = speech()[: int(seconds * RATE)]
    signals = {}
    for i, snr in enumerate(snrs):
        s = np.roll(clean, 1000 * i)
        write(folder / "clean" / f"f{i}.wav", s)
        write(folder / "noisy" / f"f{i}.wav", add_noise(s, snr, seed=i))
        signals[f"f{i}.wav"] = s
    return signals


def test_score_folder_pairs_files_by_name(tmp_path):
    write(tmp_path / "ref" / "sub" / "c.wav", speech()[:RATE])
    write(tmp_path / "est" / "sub" / "c.wav", add_noise(speech()[:RATE], 10.0))
    for name, snr in (("b.wav", 0.0), ("a.wav", 20.0)):
        write(tmp_path / "ref" / name, speech())
        write(tmp_path / "est" / name, add_noise(speech(), snr))
    rows = score_folder(tmp_path / "ref", tmp_path / "est", ("si_sdr", "stoi"))
    assert [r["file"] for r in rows] == ["a.wav", "b.wav", "sub/c.wav"]
    assert [r["si_sdr"] for r in rows] == pytest.approx([20.0, 0.0, 10.0], abs=0.3)
    assert all(0 < r["stoi"] <= 1 and r["error"] == "" for r in rows)
    assert list(rows[0]) == ["file", "si_sdr", "stoi", "error"]


def test_missing_and_extra_files_are_listed_or_skipped(tmp_path, caplog):
    for name in ("a.wav", "b.wav", "c.wav"):
        write(tmp_path / "ref" / name, speech()[:RATE])
    for name in ("a.wav", "z.wav"):
        write(tmp_path / "est" / name, speech()[:RATE])
    expected = r"missing estimates 2 \(b.wav, c.wav\); extra files without a reference 1 \(z.wav\)"
    with pytest.raises(ScoringError, match=expected):
        score_folder(tmp_path / "ref", tmp_path / "est", ("si_sdr",))
    with caplog.at_level(logging.WARNING):
        rows = score_folder(tmp_path / "ref", tmp_path / "est", ("si_sdr",), allow_missing=True)
    assert "z.wav" in caplog.text
    assert [(r["file"], r["error"]) for r in rows] == [
        ("a.wav", ""), ("b.wav", "missing estimate file"), ("c.wav", "missing estimate file"),
    ]
    assert rows[0]["si_sdr"] == MAX_SI_SDR and math.isnan(rows[1]["si_sdr"])
    with pytest.raises(ScoringError, match="no such folder"):
        match_files(tmp_path / "ref", tmp_path / "nope")


def test_per_file_failures_are_recorded_and_the_rest_is_scored(tmp_path):
    s = speech()
    for name in ("bad.wav", "short.wav", "rate.wav", "good.wav"):
        write(tmp_path / "ref" / name, s)
    write(tmp_path / "ref" / "silent.wav", np.zeros_like(s))
    (tmp_path / "est").mkdir()
    (tmp_path / "est" / "bad.wav").write_bytes(b"not audio at all")
    write(tmp_path / "est" / "short.wav", s[:-160])
    write(tmp_path / "est" / "rate.wav", s[::2], rate=8000)
    write(tmp_path / "est" / "good.wav", add_noise(s, 5.0))
    write(tmp_path / "est" / "silent.wav", s)
    rows = {r["file"]: r for r in score_folder(tmp_path / "ref", tmp_path / "est", ("pesq", "si_sdr"))}
    assert "not a readable audio file" in rows["bad.wav"]["error"] and "bad.wav" in rows["bad.wav"]["error"]
    assert rows["short.wav"]["error"] == f"length mismatch: reference has {s.size} samples, estimate {s.size - 160}"
    assert rows["rate.wav"]["error"] == "sample-rate mismatch: reference 16000 Hz, estimate 8000 Hz"
    assert "PESQ: no utterances" in rows["silent.wav"]["error"] and math.isnan(rows["silent.wav"]["pesq"])
    assert rows["good.wav"]["error"] == "" and rows["good.wav"]["si_sdr"] == pytest.approx(5.0, abs=0.2)
    assert all(math.isnan(rows[n]["si_sdr"]) for n in ("bad.wav", "short.wav", "rate.wav"))


def test_pairs_at_another_common_rate_are_resampled(tmp_path):
    s = speech()[::2].copy()
    write(tmp_path / "ref" / "a.wav", s, rate=8000)
    write(tmp_path / "est" / "a.wav", add_noise(s, 10.0), rate=8000)
    (row,) = score_folder(tmp_path / "ref", tmp_path / "est", ("pesq", "si_sdr"))
    assert row["error"] == "" and row["si_sdr"] == pytest.approx(10.0, abs=0.5) and 1 < row["pesq"] < 4.6


def test_write_csv_round_trip_and_refusal(tmp_path):
    rows = [{"file": "a.wav", "si_sdr": 1.5, "error": ""}, {"file": "b.wav", "si_sdr": float("nan"), "error": "x; y"}]
    write_csv(rows, tmp_path / "out" / "s.csv")
    with open(tmp_path / "out" / "s.csv", newline="") as f:
        back = list(csv.DictReader(f))
    assert back == [
        {"file": "a.wav", "si_sdr": "1.5", "error": ""}, {"file": "b.wav", "si_sdr": "nan", "error": "x; y"},
    ]
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        write_csv(rows, tmp_path / "out" / "s.csv")


def test_mean_and_t_interval():
    mean, half, n = mean_ci([1.0, 2.0, 3.0, 4.0, float("nan")])
    assert (mean, n) == (2.5, 4) and half == pytest.approx(3.182446 * np.std([1, 2, 3, 4], ddof=1) / 2, rel=1e-6)
    assert mean_ci([7.0])[0] == 7.0 and math.isnan(mean_ci([7.0])[1])
    assert mean_ci([])[2] == 0


def test_summary_table_shows_means_intervals_counts_and_failures():
    rows_a = [{"file": f"f{i}", "pesq": v, "si_sdr": 10.0 + i, "error": ""} for i, v in enumerate([1.0, 2.0, 3.0])]
    rows_b = [dict(r) for r in rows_a]
    rows_b[1].update(pesq=float("nan"), error="PESQ: no utterances")
    table = summary_table({"unprocessed": rows_a, "model": rows_b}, "test_set/ood/denoise")
    assert table.startswith("### test_set/ood/denoise\n")
    assert "| system | files scored | PESQ | SI-SDR (dB) |" in table
    assert "| unprocessed | 3/3 | 2.00 ± 2.48 | 11.00 ± 2.48 |" in table
    assert "| model | 2/3 | 2.00 ± 12.71 (n=2) | 11.00 ± 2.48 |" in table
    assert "- model / f1: PESQ: no utterances" in table


def test_evaluate_cli_scores_systems_and_baselines_and_refuses_to_overwrite(tmp_path, evaluate_module, capsys):
    make_set(tmp_path, [0.0, 5.0, 10.0])
    shutil.copytree(tmp_path / "clean", tmp_path / "oracle")
    out = tmp_path / "results"
    args = [
        "--ref", tmp_path / "clean", "--noisy", tmp_path / "noisy", "--est", f"oracle={tmp_path / 'oracle'}",
        "--baselines", "wiener", "--metrics", "si_sdr", "stoi", "--out", out, "--name", "toy set",
        "--note", "model: tiny, 3 paired files",
    ]
    evaluate_module.main([str(a) for a in args])
    written = sorted(p.name for p in out.iterdir())
    assert written == ["baselines", "oracle.csv", "results.md", "unprocessed.csv", "wiener.csv"]
    assert len(list((out / "baselines" / "wiener").glob("*.wav"))) == 3
    text = (out / "results.md").read_text()
    assert text == capsys.readouterr().out.rstrip("\n") + "\n"
    assert "### toy set" in text and "- model: tiny, 3 paired files" in text and "3 reference files, 4 s" in text
    lines = {line.split(" | ")[0]: line for line in text.splitlines() if line.startswith("| ")}
    assert "| unprocessed" in lines and "| wiener" in lines and "150.00 ± 0.00" in lines["| oracle"]
    with pytest.raises(SystemExit, match="refusing to overwrite.*results.md"):
        evaluate_module.main([str(a) for a in args])
    evaluate_module.main([str(a) for a in args] + ["--overwrite"])
    with pytest.raises(SystemExit, match="'unprocessed' is taken"):
        evaluate_module.main([str(a) for a in args[:4]] + ["--est", f"unprocessed={tmp_path}", "--out", str(out)])


def test_evaluate_test_sets_scores_all_four_sets(tmp_path, evaluate_module):
    corpus, enhanced = tmp_path / "corpus", tmp_path / "enhanced"
    for test_set, noisy in evaluate_module.TEST_SETS.items():
        folder = corpus / "test_set" / test_set
        make_set(folder, [5.0, 15.0], seconds=1.0)
        if noisy != "noisy":
            (folder / "noisy").rename(folder / noisy)
        shutil.copytree(folder / "clean", enhanced / test_set)
    text = evaluate_module.evaluate_test_sets(
        corpus, {"mae": enhanced}, tmp_path / "out", metrics=("si_sdr",), baselines={"denoise": ("wiener",)},
    )
    for test_set, noisy in evaluate_module.TEST_SETS.items():
        results = (tmp_path / "out" / test_set / "results.md").read_text()
        assert f"### test_set/{test_set}" in results and results in text
        systems = [line.split(" | ")[0] for line in results.splitlines() if line.startswith("| ") and "---" not in line]
        baselines = ["| wiener"] if noisy == "noisy" else []
        assert systems == ["| system", "| unprocessed", *baselines, "| mae"]
    assert (tmp_path / "out" / "results.md").read_text() == text
    with pytest.raises(FileExistsError):
        evaluate_module.evaluate_test_sets(corpus, enhanced, tmp_path / "out", metrics=("si_sdr",))
