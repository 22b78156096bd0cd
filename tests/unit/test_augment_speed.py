"""maese.augment.speed: SpeedPerturb (other voices' pitch and formants from the same speech)."""

import pytest
import torch
from augment_fixtures import RATE

from maese.augment.speed import SpeedPerturb, change_speed, check_factors


def sine(hz, seconds=1.0):
    """``[time]`` sine at ``hz``."""
    return torch.sin(2 * torch.pi * hz * torch.arange(int(seconds * RATE)) / RATE)


def peak_hz(x):
    """The frequency of the strongest FFT bin of ``x [time]``."""
    return float(torch.fft.rfftfreq(x.shape[-1], 1.0 / RATE)[torch.fft.rfft(x).abs().argmax()])


def test_a_faster_factor_raises_the_pitch_and_shortens_the_signal():
    x = sine(200.0).unsqueeze(0)
    fast, slow = change_speed(x, 1.1), change_speed(x, 0.9)
    assert fast.shape[1] == pytest.approx(RATE / 1.1, abs=1) and slow.shape[1] == pytest.approx(RATE / 0.9, abs=1)
    assert peak_hz(fast[0]) == pytest.approx(220.0, abs=2) and peak_hz(slow[0]) == pytest.approx(180.0, abs=2)
    assert change_speed(x, 1.0) is x


def test_each_example_gets_a_drawn_factor_and_keeps_the_batch_shape():
    x = sine(300.0).repeat(24, 1)
    y, params = SpeedPerturb((0.9, 1.1), seed=0)(x)
    assert y.shape == x.shape and sorted(set(params["factor"].tolist())) == pytest.approx([0.9, 1.1])
    for row, factor in zip(y, params["factor"].tolist()):
        assert peak_hz(row) == pytest.approx(300.0 * factor, abs=3)
    faster = params["factor"] > 1
    # sped up: shorter, zero-padded and reported so; slowed down: its end cut at the batch's length
    assert torch.allclose(params["lengths"][faster], torch.full((int(faster.sum()),), 1 / 1.1), atol=1e-3)
    assert (y[faster, RATE - 100:] == 0).all() and (params["lengths"][~faster] == 1).all()


def test_the_padding_is_not_resampled_into_the_speech():
    x = torch.zeros(2, RATE)
    x[:, : RATE // 2] = sine(250.0, 0.5)
    y, params = SpeedPerturb((0.9,), seed=0)(x, lengths=torch.tensor([0.5, 0.5]))
    assert torch.allclose(params["lengths"], torch.full((2,), 0.5 / 0.9), atol=1e-3)
    assert (y[:, round(RATE * 0.5 / 0.9) + 1:] == 0).all()
    assert peak_hz(y[0, : RATE // 2]) == pytest.approx(225.0, abs=3)


def test_draws_follow_the_seed_and_prob_zero_leaves_the_batch_alone():
    x = torch.randn(16, RATE // 4, generator=torch.Generator().manual_seed(0))
    first, again = SpeedPerturb((0.9, 1.0, 1.1), seed=3)(x), SpeedPerturb((0.9, 1.0, 1.1), seed=3)(x)
    assert torch.equal(first[0], again[0]) and torch.equal(first[1]["factor"], again[1]["factor"])
    untouched, params = SpeedPerturb((0.9, 1.1), prob=0.0, seed=3)(x)
    assert torch.equal(untouched, x) and (params["factor"] == 1).all() and not params["applied"].any()


@pytest.mark.parametrize("factors", [[], [0.4], [1.005], ["fast"], None])
def test_bad_factors_are_refused(factors):
    with pytest.raises(ValueError, match="speed factors"):
        check_factors(factors)
