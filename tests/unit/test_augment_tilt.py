"""maese.augment.tilt: spectral_tilt, the tilted noise of AddNoise, and Tilt (the colouring of clean speech)."""

import math

import pytest
import torch
from augment_fixtures import RATE, band_db, noise_files, one_torch_thread, speech_like  # noqa: F401

from maese.acoustics import snr_db
from maese.augment import AddNoise
from maese.augment.tilt import Tilt, spectral_tilt


def test_the_tilt_changes_band_levels_by_the_tilt_per_octave():
    white = torch.randn(3, 4 * RATE, generator=torch.Generator().manual_seed(0))
    tilt = torch.tensor([-6.0, 0.0, 3.0])
    y = spectral_tilt(white, tilt, RATE)
    # 500-707 Hz and 4000-5657 Hz: half an octave wide each, three octaves apart
    change = (band_db(y, 4000, 5657) - band_db(y, 500, 707)) - (band_db(white, 4000, 5657) - band_db(white, 500, 707))
    assert torch.allclose(change, 3 * tilt.double(), atol=0.3)
    assert torch.allclose(band_db(y, 900, 1100), band_db(white, 900, 1100), atol=0.3)  # 0 dB at 1 kHz
    assert torch.allclose(y[1], white[1], atol=1e-5) and y.dtype == white.dtype


def test_the_gain_is_flat_below_its_lowest_frequency():
    white = torch.randn(1, 4 * RATE, generator=torch.Generator().manual_seed(1))
    y = spectral_tilt(white, torch.tensor([-9.0]), RATE, min_hz=100.0)
    below = band_db(y, 20, 100) - band_db(white, 20, 100)
    assert torch.allclose(below, torch.full_like(below, -9.0 * math.log2(100 / 1000)), atol=0.5)


@pytest.fixture(scope="module")
def noises(tmp_path_factory):
    return noise_files(tmp_path_factory.mktemp("tilt_noise"))


def test_tilted_noise_keeps_the_exact_snr_and_reports_its_tilt(noises):
    x = speech_like(32, RATE)
    y, params = AddNoise(noises, snr_range=(0, 10), seed=0, tilt_range=(-9.0, 3.0), tilt_prob=0.5)(x)
    assert (snr_db(x, y - x) - params["snr_db"]).abs().max() < 0.1
    tilted = params["tilt_db"] != 0
    assert 4 <= int(tilted.sum()) <= 28  # about half
    assert ((params["tilt_db"][tilted] >= -9.0) & (params["tilt_db"][tilted] <= 3.0)).all()
    plain, plain_params = AddNoise(noises, snr_range=(0, 10), seed=0)(x)
    assert (plain_params["tilt_db"] == 0).all()
    # the draws of the untilted noise are those of an AddNoise without tilt_range (runs stay reproducible)
    assert torch.equal(plain_params["noise_index"], params["noise_index"])


def test_the_noise_is_tilted_as_reported(noises):
    x = speech_like(8, RATE)
    dark = AddNoise(noises, snr_range=(5, 5), seed=3, tilt_range=(-9.0, -9.0))
    flat = AddNoise(noises, snr_range=(5, 5), seed=3, tilt_range=(0.0, 0.0))
    (y_dark, _), (y_flat, _) = dark(x), flat(x)
    ratio = lambda n: band_db(n, 4000, 5657) - band_db(n, 500, 707)  # noqa: E731
    assert (ratio(y_flat - x) - ratio(y_dark - x) > 20).all()  # 27 dB at -9 dB per octave over 3 octaves


def test_bad_tilt_options_are_refused(noises):
    with pytest.raises(ValueError, match="tilt_range"):
        AddNoise(noises, tilt_range=(3.0, -9.0))
    with pytest.raises(ValueError, match="tilt_prob"):
        AddNoise(noises, tilt_range=(-9.0, 3.0), tilt_prob=1.5)


def test_fine_tuning_hands_its_tilt_options_to_the_noise(noises):
    from maese.brains.finetune import make_distortion

    tilted = make_distortion("denoise", noises, None, (0.0, 10.0), RATE, 0, noise_tilt_range=[-9.0, 3.0],
                             noise_tilt_prob=0.25)
    assert tuple(tilted.tilt_range) == (-9.0, 3.0) and tilted.tilt_prob == 0.25
    assert make_distortion("denoise", noises, None, (0.0, 10.0), RATE, 0).tilt_range is None


def test_tilt_colours_a_share_of_the_examples_by_the_reported_slope():
    x = speech_like(32, RATE)
    y, params = Tilt((-3.0, 3.0), prob=0.5, seed=0)(x)
    applied, tilt = params["applied"], params["tilt_db"]
    assert 4 <= int(applied.sum()) <= 28  # about half
    assert ((tilt[applied] >= -3.0) & (tilt[applied] <= 3.0)).all() and (tilt[~applied] == 0).all()
    assert (tilt[applied].abs() > 0.1).any()
    assert torch.allclose(y[applied], spectral_tilt(x[applied], tilt[applied], RATE), atol=1e-6)
    assert torch.equal(y[~applied], x[~applied])
    again, _ = Tilt((-3.0, 3.0), prob=0.5, seed=0)(x)
    assert torch.equal(again, y)


def test_tilt_leaves_the_padding_silent_and_refuses_a_bad_range():
    x = speech_like(2, RATE)
    x[0, x.shape[1] // 2:] = 0
    y, _ = Tilt((6.0, 6.0), seed=0)(x, lengths=torch.tensor([0.5, 1.0]))
    assert (y[0, x.shape[1] // 2:] == 0).all() and y[0, : x.shape[1] // 2].abs().max() > 0
    with pytest.raises(ValueError, match="tilt_range"):
        Tilt((3.0, -3.0))
