"""maese.augment.bandlimit: band_limit and BandLimit (other microphones' pass bands)."""

import math

import pytest
import torch
from augment_fixtures import RATE, band_db

from maese.augment.bandlimit import BandLimit, band_limit


def test_the_cut_offs_are_3_db_down_and_the_pass_band_is_untouched():
    white = torch.randn(2, 2 * RATE, generator=torch.Generator().manual_seed(0))
    y = band_limit(white, torch.tensor([0.0, 200.0]), torch.tensor([math.inf, 4000.0]), RATE)
    change = lambda lo, hi: band_db(y, lo, hi) - band_db(white, lo, hi)  # noqa: E731
    assert torch.allclose(y[0], white[0], atol=1e-5)  # no cut-offs: unchanged
    assert change(1000, 2000)[1] == pytest.approx(0.0, abs=0.05)
    assert change(195, 205)[1] == pytest.approx(-3.0, abs=0.3)
    assert change(3950, 4050)[1] == pytest.approx(-3.0, abs=0.3)
    # 4th order: 24 dB down one octave past each cut-off
    assert change(98, 102)[1] == pytest.approx(-24.1, abs=0.5)
    assert change(7950, 8000)[1] == pytest.approx(-24.1, abs=0.5)


def test_each_example_draws_its_cut_offs_and_keeps_its_padding_zero():
    x = torch.randn(16, RATE, generator=torch.Generator().manual_seed(1))
    lengths = torch.full((16,), 0.5)
    x[:, RATE // 2:] = 0
    y, params = BandLimit((20.0, 300.0), (3500.0, 8000.0), prob=0.5, seed=0)(x, lengths=lengths)
    applied = params["applied"]
    assert 3 <= int(applied.sum()) <= 13
    assert torch.equal(y[~applied], x[~applied]) and (params["highpass_hz"][~applied] == 0).all()
    assert ((params["highpass_hz"][applied] >= 20) & (params["highpass_hz"][applied] <= 300)).all()
    assert ((params["lowpass_hz"][applied] >= 3500) & (params["lowpass_hz"][applied] <= 8000)).all()
    assert (y[:, RATE // 2:] == 0).all()
    for row in torch.nonzero(applied).squeeze(1).tolist():
        expected = band_limit(x[row:row + 1], params["highpass_hz"][row:row + 1], params["lowpass_hz"][row:row + 1],
                              RATE)
        assert torch.allclose(y[row, : RATE // 2], expected[0, : RATE // 2], atol=1e-5)


def test_one_end_alone_and_bad_ranges_are_refused():
    x = torch.randn(4, RATE // 2, generator=torch.Generator().manual_seed(2))
    _, params = BandLimit(highpass_range=(100.0, 100.0), seed=0)(x)
    assert (params["highpass_hz"] == 100).all() and torch.isinf(params["lowpass_hz"]).all()
    with pytest.raises(ValueError, match="highpass_range, a lowpass_range or both"):
        BandLimit()
    with pytest.raises(ValueError, match="lowpass_range"):
        BandLimit(lowpass_range=(3500.0, 9000.0))
    with pytest.raises(ValueError, match="highpass_range"):
        BandLimit(highpass_range=(300.0, 20.0))
    with pytest.raises(ValueError, match="reaches lowpass_range.*could be empty"):
        BandLimit(highpass_range=(20.0, 2000.0), lowpass_range=(1500.0, 8000.0))
