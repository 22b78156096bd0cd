"""maese.simulation.noise: procedural noise families."""

import numpy as np
import pytest
from scipy import signal

from maese.simulation.noise import (
    NOISE_FAMILIES,
    NOISE_RMS_DBFS,
    OOD_NOISE_FAMILIES,
    TALKER_FAMILIES,
    generate_noise,
    split_families,
)

RATE = 16000


def _noise(family, seed, num_samples=RATE, rate=RATE, talkers=None):
    return generate_noise(family, np.random.default_rng(seed), num_samples, rate, talkers=talkers)


def _rms_db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _slope(x):
    """Log-log slope of the power spectrum between 50 Hz and 4 kHz (0 white, -1 pink, -2 brown)."""
    freqs, power = signal.welch(x, RATE, nperseg=2048)
    band = (freqs >= 50) & (freqs <= 4000)
    return np.polyfit(np.log10(freqs[band]), np.log10(power[band]), 1)[0]


def _quiet_share(x, frame=160):
    """Share of 10 ms frames 20 dB or more below the mean frame energy."""
    energy = np.mean(x[: x.size // frame * frame].reshape(-1, frame).astype(np.float64) ** 2, axis=1)
    return np.mean(energy < 0.01 * energy.mean())


@pytest.mark.parametrize("family", NOISE_FAMILIES)
def test_family_level_length_and_determinism(family):
    for num_samples, rate in ((RATE, RATE), (12345, 8000)):
        x = _noise(family, 0, num_samples, rate)
        assert x.dtype == np.float32 and x.shape == (num_samples,)
        assert np.all(np.isfinite(x))
        assert np.max(np.abs(x)) <= 1.0
        assert _rms_db(x) == pytest.approx(NOISE_RMS_DBFS, abs=0.05)
    np.testing.assert_array_equal(_noise(family, 1), _noise(family, 1))
    a, b = _noise(family, 1), _noise(family, 2)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.5


def test_coloured_noise_slopes_are_ordered():
    for seed in range(5):
        white, pink, brown = (_slope(_noise(f, seed)) for f in ("white", "pink", "brown"))
        assert -0.4 < white < 0.4
        assert -1.4 < pink < -0.6
        assert -2.4 < brown < -1.6


def test_hum_is_a_low_tone():
    for seed in range(5):
        freqs, power = signal.welch(_noise("hum", seed), RATE, nperseg=8192)
        assert 40 <= freqs[np.argmax(power)] <= 125
        assert 10 * np.log10(power.max() / np.median(power)) > 40


@pytest.mark.parametrize("family", ["clicks", "keyboard", "bursts"])
def test_transient_families_are_sparse(family):
    for seed in range(5):
        x = _noise(family, seed)
        assert _quiet_share(x) > 0.15
    assert _quiet_share(_noise("white", 0)) == 0


def test_clicks_have_high_crest_factor():
    for family in ("clicks", "keyboard"):
        x = _noise(family, 3)
        assert 20 * np.log10(np.max(np.abs(x))) - _rms_db(x) > 20


def _syllabic_ratio(x):
    """Envelope (300-3400 Hz, 10 ms frames) modulation power at 2-8 Hz over that at 15-45 Hz."""
    band = signal.sosfilt(signal.butter(4, [300, 3400], "bandpass", fs=RATE, output="sos"), x.astype(np.float64))
    envelope = np.sqrt(np.mean(band.reshape(-1, 160) ** 2, axis=1))
    freqs = np.fft.rfftfreq(envelope.size, 0.01)
    power = np.abs(np.fft.rfft(envelope / envelope.mean() - 1)) ** 2
    return power[(freqs >= 2) & (freqs <= 8)].mean() / power[(freqs >= 15) & (freqs <= 45)].mean()


def test_procedural_babble_is_syllabic():
    for seed in range(3):
        assert _syllabic_ratio(_noise("babble", seed, 2 * RATE)) > 5
    assert _syllabic_ratio(_noise("pink", 0, 2 * RATE)) < 2.5


def test_babble_and_street_use_given_talkers():
    sizes = {200: 5000, 330: 7000, 470: 40000}  # Hz: samples, some shorter than the noise
    talkers = [np.sin(2 * np.pi * f * np.arange(size) / RATE) for f, size in sizes.items()]
    assert set(TALKER_FAMILIES) == {"babble", "street"}
    for family in TALKER_FAMILIES:
        x = _noise(family, 0, talkers=talkers)
        assert x.shape == (RATE,) and np.all(np.isfinite(x))
        assert _rms_db(x) == pytest.approx(NOISE_RMS_DBFS, abs=0.05)
        assert not np.allclose(x, _noise(family, 0))
    # babble made of pure tones: all its energy sits at those three frequencies
    freqs, power = signal.welch(_noise("babble", 0, talkers=talkers), RATE, nperseg=4096)
    near = np.min(np.abs(freqs[:, None] - np.array([200, 330, 470])[None]), axis=1) < 60
    assert power[near].sum() > 0.9 * power.sum()


def test_unknown_family_and_split():
    with pytest.raises(ValueError, match="'thunder'.*white, pink"):
        _noise("thunder", 0)
    train, ood = split_families()
    assert ood == OOD_NOISE_FAMILIES and not set(train) & set(ood)
    assert set(train) | set(ood) == set(NOISE_FAMILIES)
    assert split_families(("hum",)) == (tuple(f for f in NOISE_FAMILIES if f != "hum"), ("hum",))
    with pytest.raises(ValueError, match="'rain'"):
        split_families(("rain",))
