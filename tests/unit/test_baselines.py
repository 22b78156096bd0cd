"""maese.baselines: each classical enhancer improves its distortion; enhance_folder writes, skips, refuses."""

import numpy as np
import pytest
import soundfile as sf
import torch

from maese.baselines import BASELINES, enhance_folder, noise_psd_min_stats, spectral_gating, wiener_filter, wpe
from maese.features import STFT
from maese.metrics import pesq_wb, si_sdr
from scoring_fixtures import RATE, add_noise, reverberate, speech, write


@pytest.fixture(scope="module")
def noisy_pair():
    clean = speech()
    return clean, add_noise(clean, 5.0).astype(np.float32)


@pytest.mark.parametrize("enhance", [spectral_gating, wiener_filter], ids=["spectral_gating", "wiener"])
def test_denoisers_improve_a_stationary_5db_mix(enhance, noisy_pair):
    clean, noisy = noisy_pair
    out = enhance(torch.from_numpy(noisy), RATE)
    assert out.dtype == np.float32 and out.shape == noisy.shape and np.isfinite(out).all()
    assert si_sdr(clean, out) > si_sdr(clean, noisy) + 1.0
    assert pesq_wb(clean, out) > pesq_wb(clean, noisy) + 0.05


def test_stationary_spectral_gating_also_denoises(noisy_pair):
    clean, noisy = noisy_pair
    out = spectral_gating(noisy, RATE, stationary=True)
    assert out.shape == noisy.shape and pesq_wb(clean, out) > pesq_wb(clean, noisy) + 0.1


def test_minimum_statistics_is_unbiased_on_white_noise():
    noise = torch.from_numpy(np.random.default_rng(3).standard_normal(20 * RATE).astype(np.float32)) * 0.1
    power = STFT(RATE).forward(noise).abs().double().numpy() ** 2
    estimate = noise_psd_min_stats(power, RATE / 128)
    ratio_db = 10 * np.log10(estimate[:, 1:-1].mean() / power[:, 1:-1].mean())
    assert abs(ratio_db) < 0.5


def test_wpe_reduces_reverberation():
    clean = speech()
    reverb = reverberate(clean).astype(np.float32)
    out = wpe(reverb, RATE)
    assert out.shape == reverb.shape and np.isfinite(out).all()
    assert si_sdr(clean, out) > si_sdr(clean, reverb) + 0.3


def test_baselines_take_one_waveform():
    assert set(BASELINES) == {"spectral_gating", "wiener", "wpe", "rnnoise", "deepfilternet3"}
    with pytest.raises(ValueError, match=r"one waveform \[time\], got shape \(2, 100\)"):
        wiener_filter(np.zeros((2, 100)))


def test_enhance_folder_keeps_names_skips_existing_and_overwrites_on_request(tmp_path, noisy_pair):
    noisy = noisy_pair[1][: RATE]
    write(tmp_path / "in" / "a.wav", noisy)
    write(tmp_path / "in" / "sub" / "b.flac", noisy[::-1].copy(), subtype="PCM_16")
    out = tmp_path / "out"
    write(out / "a.wav", np.zeros(10))  # already there: kept
    paths = enhance_folder("wiener", tmp_path / "in", out)
    assert paths == [out / "a.wav", out / "sub" / "b.wav"]
    assert sf.info(str(out / "a.wav")).frames == 10
    data, rate = sf.read(str(out / "sub" / "b.wav"))
    assert rate == RATE and data.size == RATE and sf.info(str(out / "sub" / "b.wav")).subtype == "PCM_16"
    assert not list(out.rglob(".*"))  # no temporary files left
    enhance_folder("wiener", tmp_path / "in", out, overwrite=True)
    assert sf.info(str(out / "a.wav")).frames == RATE
    with pytest.raises(ValueError, match="Unknown baseline 'mmse'"):
        enhance_folder("mmse", tmp_path / "in", out)
    with pytest.raises(FileNotFoundError, match="no audio files"):
        enhance_folder("wiener", tmp_path / "empty", out)
