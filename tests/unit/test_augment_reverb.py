"""maese.augment.Reverberate, convolve_aligned and the batched DRR of maese.acoustics."""

import numpy as np
import pytest
import torch
from augment_fixtures import RATE, SHARED, one_torch_thread, rir_files, speech_like, synthetic_rir, write  # noqa: F401

from maese.acoustics import direct_to_reverberant_ratio, drr_db
from maese.augment import AudioPool, Reverberate


@pytest.fixture(scope="module")
def rirs(tmp_path_factory):
    return rir_files(tmp_path_factory.mktemp("rirs"))


def lag_of_peak(x, y, max_lag=2000):
    """Lag (samples) of the largest |cross-correlation| of ``y`` against ``x`` (1-D)."""
    n = len(x) + len(y)
    xc = torch.fft.irfft(torch.fft.rfft(y, n) * torch.fft.rfft(x, n).conj(), n)
    lags = torch.cat([torch.arange(max_lag + 1), torch.arange(-max_lag, 0)])
    return int(lags[torch.cat([xc[: max_lag + 1], xc[-max_lag:]]).abs().argmax()])


def test_output_stays_time_aligned(tmp_path):
    rir = synthetic_rir(peak=700, t60=0.3, reflection=(400, 0.6))
    x = torch.randn(3, RATE, generator=torch.Generator().manual_seed(0))  # broadband: one clear peak
    y, params = Reverberate([write(tmp_path / "late_peak.wav", rir)], seed=0)(x)
    for row in range(3):
        assert lag_of_peak(x[row], y[row]) == 0
    assert params["rir_index"].tolist() == [0, 0, 0]


def test_matches_direct_convolution_and_level(rirs):
    x = speech_like(4, 8000)
    raw, params = Reverberate(rirs, preserve_level=False, seed=1)(x)
    pool = AudioPool(rirs)
    for row, index in enumerate(params["rir_index"].tolist()):
        h = pool.clips(torch.tensor([index]))[0].numpy()
        full = np.convolve(x[row].numpy(), h)
        peak = int(np.argmax(np.abs(h)))
        np.testing.assert_allclose(raw[row].numpy(), full[peak : peak + 8000], atol=1e-5)
        assert params["drr_db"][row] == pytest.approx(direct_to_reverberant_ratio(h, RATE), abs=1e-4)
    kept, _ = Reverberate(rirs, preserve_level=True, seed=1)(x)
    assert torch.allclose(kept.pow(2).mean(1), x.pow(2).mean(1), rtol=1e-4)


def test_batched_drr_matches_the_reference():
    rirs = [synthetic_rir(p, t60, n, g, seed=p) for p, t60, n, g in [(10, 0.2, 2000, 0.1), (500, 0.5, 6000, 0.4)]]
    rirs.append(np.eye(1, 3000, 100)[0])  # dry: no tail
    padded = torch.zeros(3, 7000)
    for row, h in enumerate(rirs):
        padded[row, : len(h)] = torch.from_numpy(h)
    expected = [direct_to_reverberant_ratio(h, RATE) for h in rirs]
    assert drr_db(padded, RATE)[:2].tolist() == pytest.approx(expected[:2], abs=1e-4)
    assert drr_db(padded, RATE)[2] == float("inf") == expected[2]


def test_determinism_probability_and_padding(rirs):
    x = speech_like(8, 8000)
    aug = Reverberate(rirs)
    assert torch.equal(aug(x, generator=3)[0], aug(x, generator=3)[0])
    assert not torch.allclose(aug(x, generator=3)[0], aug(x, generator=4)[0])
    y, params = Reverberate(rirs, prob=0.0)(x)
    assert torch.equal(y, x) and torch.isinf(params["drr_db"]).all() and (params["rir_index"] == -1).all()
    y, params = Reverberate(rirs, prob=1.0, seed=0)(x, lengths=torch.full((8,), 0.5))
    assert params["applied"].all() and torch.isfinite(params["drr_db"]).all()
    assert (y[:, 4000:] == 0).all()


@pytest.mark.skipif(not (SHARED / "rirs").is_dir(), reason="no shared measured RIRs")
def test_measured_rirs_plug_in():
    aug = Reverberate(str(SHARED / "rirs"), seed=0)
    x = torch.randn(8, RATE, generator=torch.Generator().manual_seed(0))
    y, params = aug(x)
    assert torch.isfinite(y).all() and params["applied"].all()
    for row in range(8):  # rir3.wav has two equal taps at its peak, so allow one sample
        assert abs(lag_of_peak(x[row], y[row])) <= 1
