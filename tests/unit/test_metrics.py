"""maese.metrics: known values of SI-SDR, STOI/ESTOI, PESQ and DNSMOS; pair and per-metric errors."""

import sys

import numpy as np
import pytest
import torch

from maese.audio import load_audio
from maese.metrics import (
    DNSMOS_KEYS, MAX_SI_SDR, MetricError, compute_metrics, dnsmos, estoi, metric_keys, pesq_wb, si_sdr, stoi,
)
from scoring_fixtures import RATE, SHARED_DATA, add_noise, speech


def test_identical_signals_score_perfectly():
    s = speech()
    scores = compute_metrics(s, torch.from_numpy(s.copy()), RATE, ("pesq", "stoi", "estoi", "si_sdr"))
    assert scores["si_sdr"] == MAX_SI_SDR >= 60
    assert scores["stoi"] == pytest.approx(1.0, abs=1e-6) and scores["estoi"] == pytest.approx(1.0, abs=1e-6)
    assert scores["pesq"] == pytest.approx(4.64, abs=0.01)


@pytest.mark.skipif(not (SHARED_DATA / "speechbrain/speech/spk1_snt1.wav").is_file(), reason="no shared data")
def test_pesq_of_real_speech_against_itself():
    s = load_audio(SHARED_DATA / "speechbrain/speech/spk1_snt1.wav", RATE).numpy()
    assert pesq_wb(s, s) == pytest.approx(4.64, abs=0.01)


@pytest.mark.parametrize("snr", [-5.0, 0.0, 10.0, 20.0])
def test_si_sdr_of_an_additive_mix_is_its_snr(snr):
    s = speech()
    assert si_sdr(s, add_noise(s, snr, seed=int(snr) + 7)) == pytest.approx(snr, abs=0.2)


def test_si_sdr_is_scale_sign_and_offset_invariant():
    s = speech()
    est = add_noise(s, 5.0)
    base = si_sdr(s, est)
    assert si_sdr(s, 0.01 * est) == pytest.approx(base, abs=1e-9)
    assert si_sdr(3.0 * s, est + 0.1) == pytest.approx(base, abs=1e-9)
    assert si_sdr(s, -est) == pytest.approx(base, abs=1e-9)
    assert si_sdr(s, est[::-1].copy()) < base - 10
    assert si_sdr(s, np.zeros_like(s)) == -MAX_SI_SDR


def test_quality_metrics_fall_with_the_snr():
    s = speech()
    clean_ish, noisy = compute_metrics(s, add_noise(s, 40.0), RATE, ("pesq", "stoi", "estoi")), \
        compute_metrics(s, add_noise(s, -5.0), RATE, ("pesq", "stoi", "estoi"))
    assert noisy["pesq"] < 1.2 and clean_ish["pesq"] > 2.8
    assert noisy["stoi"] < clean_ish["stoi"] and noisy["estoi"] < clean_ish["estoi"] - 0.2


def test_silent_reference_is_a_per_metric_failure():
    est = speech()
    silent = np.zeros_like(est)
    with pytest.raises(MetricError, match="PESQ: no utterances"):
        pesq_wb(silent, est)
    with pytest.raises(MetricError, match="STOI"):
        stoi(silent, est, RATE)
    result = compute_metrics(silent, est, RATE, ("pesq", "si_sdr"), strict=False)
    assert np.isnan(result["pesq"]) and np.isnan(result["si_sdr"])
    assert "PESQ: no utterances" in result["error"] and "SI-SDR: the reference is silent" in result["error"]
    with pytest.raises(MetricError, match="PESQ"):
        compute_metrics(silent, est, RATE, ("pesq",))


def test_stoi_on_too_little_speech_is_an_error_not_1e5():
    s = speech()[:4000]
    with pytest.raises(MetricError, match="ESTOI: Not enough STFT frames"):
        estoi(s, s, RATE)


def test_length_mismatch_nan_and_shape_are_errors_naming_the_problem():
    s = speech()
    with pytest.raises(MetricError, match=rf"reference has {s.size} samples, estimate {s.size - 1}"):
        compute_metrics(s, s[:-1], RATE, ("si_sdr",), strict=False)
    bad = s.copy()
    bad[[10, 20]] = [np.nan, np.inf]
    with pytest.raises(MetricError, match="estimate: 2 NaN/Inf samples"):
        compute_metrics(s, bad, RATE, ("stoi",), strict=False)
    with pytest.raises(MetricError, match=r"shape \(2, 10\)"):
        si_sdr(np.ones((2, 10)), np.ones((2, 10)))
    with pytest.raises(ValueError, match="needs 16000 Hz audio, got 8000 Hz"):
        pesq_wb(s, s, 8000)
    with pytest.raises(ValueError, match="Unknown metrics \\['mos'\\]"):
        metric_keys(["pesq", "mos"])


def test_dnsmos_scores_clean_speech_above_noisy_speech():
    s = speech()[: 3 * RATE]  # speechmos tiles a clip to >= 9 s and scores each 9-s window: 3 s -> 3 windows
    clean, noisy = dnsmos(s, RATE), dnsmos(add_noise(s, 0.0) * 0.5, RATE)
    assert set(clean) == set(DNSMOS_KEYS.values())
    assert all(1.0 <= v <= 5.0 for v in [*clean.values(), *noisy.values()])
    assert clean["dnsmos_bak"] > noisy["dnsmos_bak"] + 1 and clean["dnsmos_ovrl"] > noisy["dnsmos_ovrl"]
    peak_one = s / np.abs(s).max()
    assert dnsmos(peak_one * 2, RATE) == dnsmos(peak_one, RATE)  # a float estimate peaking above 1 is scaled


def test_dnsmos_without_speechmos_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "speechmos", None)
    with pytest.raises(ImportError, match="pip install -r requirements-dnsmos.txt"):
        dnsmos(speech(), RATE)
