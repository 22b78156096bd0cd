"""maese.acoustics: SNR and DRR measures."""

import numpy as np
import pytest
import torch

from maese.acoustics import direct_path_split, direct_to_reverberant_ratio, energy_db, joint_peak_scale, snr_db


def test_snr_db_known_value():
    s = torch.ones(2, 100)
    n = 0.1 * torch.ones(2, 100)
    assert torch.allclose(snr_db(s, n), torch.tensor([20.0, 20.0]), atol=1e-4)
    assert torch.allclose(energy_db(torch.full((5,), 0.5)), torch.tensor(10 * np.log10(0.25), dtype=torch.float32), atol=1e-5)


def test_drr_known_value():
    rate = 16000
    rir = np.zeros(4000)
    rir[100] = 1.0
    rir[200:] = 0.01  # tail starts after the 2.5 ms (40 samples) direct window
    split = direct_path_split(rir, rate)
    assert split == 100 + 40 + 1
    expected = 10 * np.log10(1.0 / (0.01**2 * 3800))
    assert direct_to_reverberant_ratio(rir, rate) == pytest.approx(expected, abs=1e-6)
    assert direct_to_reverberant_ratio(torch.from_numpy(rir), rate) == pytest.approx(expected, abs=1e-6)


def test_drr_dry_and_bad_input():
    dry = np.zeros(100)
    dry[0] = 1.0
    assert direct_to_reverberant_ratio(dry, 16000) == float("inf")
    with pytest.raises(ValueError, match="1-D"):
        direct_to_reverberant_ratio(np.zeros((2, 10)), 16000)


def test_mix_at_snr_exact():
    from maese.acoustics import mix_at_snr

    torch.manual_seed(0)
    s, n = torch.randn(3, 8000), 5 * torch.randn(3, 8000)
    target = torch.tensor([-5.0, 0.0, 17.5])
    mix = mix_at_snr(s, n, target)
    assert torch.allclose(snr_db(s, mix - s), target, atol=1e-3)


def test_level_gain_brings_each_row_to_the_level_and_caps_silence():
    from maese.acoustics import level_gain

    wav = torch.randn(3, 16000) * torch.tensor([[0.5], [0.001], [0.0]])
    gain = level_gain(wav, -20.0)
    assert gain.shape == (3, 1)
    assert torch.allclose(energy_db(wav[:2] * gain[:2]), torch.full((2,), -20.0), atol=1e-3)
    assert float(gain[2]) == pytest.approx(10 ** (60 / 20))  # silence: at most +60 dB


def test_joint_peak_scale_scales_every_signal_by_one_gain_and_never_up():
    loud, quiet = np.array([0.5, -2.0, 1.0]), np.array([0.1, 0.2, -0.3])
    (a, b), gain = joint_peak_scale(loud, quiet, peak=0.99)
    assert gain == pytest.approx(0.495)
    assert np.abs(a).max() == pytest.approx(0.99) and np.allclose(b, quiet * 0.495)
    assert a.dtype == b.dtype == np.float32
    (c,), gain = joint_peak_scale(quiet, peak=0.99)
    assert gain == 1.0 and np.allclose(c, quiet)
    assert joint_peak_scale(np.zeros(4), peak=0.99)[1] == 1.0
