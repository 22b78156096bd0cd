"""maese.augment.gap: gap_envelope and SilenceGap (noise without speech in the training crops)."""

import pytest
import torch
from augment_fixtures import RATE

from maese.augment.gap import SilenceGap, gap_envelope


def test_the_envelope_is_zero_in_the_gap_one_outside_and_fades_without_a_step():
    env = gap_envelope(1000, torch.tensor([100, 0]), torch.tensor([500, 0]), ramp=50)
    assert torch.equal(env[1], torch.ones(1000))  # an empty gap leaves the row alone
    assert (env[0, :100] == 1).all() and (env[0, 500:] == 1).all()
    assert (env[0, 150:450] == 0).all()
    assert env[0, 100:150].diff().le(0).all() and env[0, 450:500].diff().ge(0).all()
    assert env[0].diff().abs().max() < 0.05  # 50-sample raised cosines: no step


def test_each_drawn_example_gets_one_gap_within_its_valid_samples():
    x = torch.randn(32, RATE, generator=torch.Generator().manual_seed(0))
    lengths = torch.full((32,), 0.5)
    x[:, RATE // 2:] = 0
    y, params = SilenceGap((0.1, 0.3), prob=0.5, seed=0)(x, lengths=lengths)
    applied, start, stop = params["applied"], params["start"], params["stop"]
    assert 8 <= int(applied.sum()) <= 24
    assert torch.equal(y[~applied], x[~applied]) and (stop[~applied] == 0).all()
    gap = (stop - start)[applied].float() / RATE
    assert ((gap >= 0.1 - 1e-4) & (gap <= 0.3 + 1e-4)).all()
    assert (start[applied] >= 0).all() and (stop[applied] <= RATE // 2).all()  # within the valid half
    for row in torch.nonzero(applied).squeeze(1).tolist():
        a, b = int(start[row]), int(stop[row])
        assert (y[row, a + 160:b - 160] == 0).all()  # silent past the 10 ms fades
        assert torch.equal(y[row, :a], x[row, :a]) and torch.equal(y[row, b:], x[row, b:])


def test_a_gap_longer_than_the_example_silences_all_of_it_and_bad_ranges_are_refused():
    x = torch.randn(3, RATE // 4, generator=torch.Generator().manual_seed(1))
    y, params = SilenceGap((1.0, 1.0), seed=0)(x)
    assert (params["start"] == 0).all() and (params["stop"] == RATE // 4).all()
    assert (y[:, 160:-160] == 0).all()
    with pytest.raises(ValueError, match="gap_range"):
        SilenceGap((0.0, 0.5))
    with pytest.raises(ValueError, match="gap_range"):
        SilenceGap((0.5, 0.2))
