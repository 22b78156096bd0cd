"""maese.models.deep_filter: the filter against its definition, identity, bins above the band, bad arguments."""

import pytest
import torch

from maese.models.deep_filter import DeepFilter


def reference_filter(spec, coefs, bins, order, lookahead):
    """out[t, f] = sum_j coefs[t, f, j] * spec[t + j - (order - 1 - lookahead), f], written as loops."""
    out = spec.clone()
    frames = spec.shape[1]
    for t in range(frames):
        for f in range(bins):
            total = torch.zeros((spec.shape[0],), dtype=spec.dtype)
            for j in range(order):
                source = t + j - (order - 1 - lookahead)
                if 0 <= source < frames:
                    total = total + coefs[:, t, f, j] * spec[:, source, f]
            out[:, t, f] = total
    return out


@pytest.mark.parametrize("order,lookahead", [(1, 0), (3, 1), (5, 2), (4, 0), (4, 3)])
def test_the_filter_is_the_sum_over_neighbouring_frames_of_its_definition(order, lookahead):
    torch.manual_seed(order * 10 + lookahead)
    spec = torch.randn(2, 7, 6, dtype=torch.cfloat)
    df = DeepFilter(bins=4, order=order, lookahead=lookahead)
    coefs = df.coefficients(torch.randn(2, 7, df.num_outputs))
    out = df(spec, coefs)
    assert torch.allclose(out, reference_filter(spec, coefs, 4, order, lookahead), atol=1e-5)
    assert torch.equal(out[..., 4:], spec[..., 4:])  # the bins above the band pass untouched


def test_identity_coefficients_pass_the_input_through_and_a_delay_filter_delays():
    spec = torch.randn(1, 9, 5, dtype=torch.cfloat)
    df = DeepFilter(bins=5, order=5, lookahead=2)
    assert torch.equal(df(spec, df.coefficients(df.identity_outputs().expand(1, 9, -1))), spec)
    delay = torch.zeros(1, 9, 5, 5, dtype=torch.cfloat)
    delay[..., 1] = 1j  # tap 1 (the current frame is tap 2): frame t - 1, rotated by 90 degrees
    out = df(spec, delay)
    assert torch.allclose(out[:, 1:], 1j * spec[:, :-1]) and torch.equal(out[:, 0], torch.zeros(1, 5, dtype=torch.cfloat))


def test_the_filter_is_differentiable_in_its_coefficients():
    spec = torch.randn(1, 6, 4, dtype=torch.cfloat)
    df = DeepFilter(bins=3, order=3, lookahead=1)
    outputs = df.identity_outputs().expand(1, 6, -1).clone().requires_grad_(True)
    df(spec, df.coefficients(outputs)).abs().sum().backward()
    assert outputs.grad is not None and outputs.grad.abs().sum() > 0


@pytest.mark.parametrize("kwargs,word", [({"bins": 0}, "bins"), ({"bins": 4, "order": 0}, "order"),
                                         ({"bins": 4, "order": 3, "lookahead": 3}, "lookahead"),
                                         ({"bins": 4, "lookahead": -1}, "lookahead")])
def test_bad_arguments_name_themselves(kwargs, word):
    with pytest.raises(ValueError, match=word):
        DeepFilter(**kwargs)


def test_a_spectrogram_narrower_than_the_band_is_refused():
    df = DeepFilter(bins=8)
    with pytest.raises(ValueError, match="fewer than bins=8"):
        df(torch.zeros(1, 3, 4, dtype=torch.cfloat), torch.zeros(1, 3, 8, 5, dtype=torch.cfloat))
