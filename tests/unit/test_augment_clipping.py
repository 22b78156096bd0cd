"""maese.augment.Clip."""

import pytest
import torch
from augment_fixtures import RATE, one_torch_thread, speech_like  # noqa: F401

from maese.augment import Clip


def test_output_never_exceeds_g_times_peak():
    x = speech_like(32, RATE) * torch.linspace(0.01, 3, 32).unsqueeze(1)
    y, params = Clip((0.2, 0.7), seed=0)(x)
    g = params["g"]
    assert params["applied"].all() and ((g >= 0.2) & (g <= 0.7)).all()
    level = g * x.abs().amax(dim=1)
    assert (y.abs().amax(dim=1) <= level).all()
    assert torch.allclose(y.abs().amax(dim=1), level)
    inside = x.abs() <= level.unsqueeze(1)
    assert torch.equal(y[inside], x[inside])


def test_g_one_is_identity_and_silence_is_safe():
    x = speech_like(4, 1000)
    assert torch.equal(Clip((1.0, 1.0), seed=0)(x)[0], x)
    y, _ = Clip(seed=0)(torch.zeros(2, 100))
    assert torch.equal(y, torch.zeros(2, 100))


def test_determinism_and_probability():
    x = speech_like(8, 4000)
    clip = Clip()
    assert torch.equal(clip(x, generator=1)[0], clip(x, generator=1)[0])
    assert not torch.equal(clip(x, generator=1)[0], clip(x, generator=2)[0])
    y, params = Clip(prob=0.0)(x)
    assert torch.equal(y, x) and (params["g"] == 1).all() and not params["applied"].any()
    y, params = Clip((0.5, 0.5), prob=1.0)(x)
    assert params["applied"].all() and (y.abs().amax(1) < x.abs().amax(1)).all()


@pytest.mark.parametrize("bad", [(0.0, 0.5), (0.5, 1.2), (0.8, 0.2), (0.5,), "loud"])
def test_bad_range_names_the_hparam(bad):
    with pytest.raises(ValueError, match="clip_range"):
        Clip(bad)


def test_bad_probability_and_input():
    with pytest.raises(ValueError, match="prob.*-0.1"):
        Clip(prob=-0.1)
    with pytest.raises(ValueError, match=r"\[batch, time\]"):
        Clip()(torch.zeros(2, 3, 100))
    with pytest.raises(ValueError, match="float tensor"):
        Clip()(torch.zeros(2, 100, dtype=torch.int16))
