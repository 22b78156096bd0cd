"""Procedural noise families for the embedded corpus.

Every family is a function ``(rng, num_samples, sample_rate) -> np.float32 [num_samples]``
whose output is at ``NOISE_RMS_DBFS`` RMS with peak <= 1 (the rare samples of sparse families
that would pass 1 are clipped). Internal parameters (colour, pitch, rates, bands,
levels, ...) are drawn from ``rng``, so two draws differ a lot. ``babble`` and ``street``
also take ``talkers`` (speech at ``sample_rate``); call all families through
:func:`generate_noise`.

Out-of-domain split: ``OOD_NOISE_FAMILIES`` (``music``, ``street``, ``keyboard``) are never
used for training. ``street`` mixes ingredients that exist in training families (rumble,
babble), but as a new kind of scene; ``keyboard`` is a clustered typing pattern that the
random ``clicks`` family does not produce; ``music`` is the only tonal, note-structured
family.
"""

import numpy as np
import scipy.fft
from scipy import signal

NOISE_RMS_DBFS = -25.0
OOD_NOISE_FAMILIES = ("music", "street", "keyboard")

_NYQUIST_SHARE = 0.45  # highest synthesized frequency, as a share of the sample rate
# Peterson & Barney (1952) average adult male formants F1-F3 (Hz), one row per vowel.
_VOWELS = np.array(
    [[730, 1090, 2440], [270, 2290, 3010], [300, 870, 2240], [530, 1840, 2480],
     [570, 840, 2410], [660, 1720, 2410], [440, 1020, 2240], [490, 1350, 1690]],
    dtype=float,
)
_HIGH_FORMANTS = np.array([3500.0, 4500.0])  # fixed F4, F5 (Hz), before vocal-tract scaling
_FORMANT_BANDWIDTHS = np.array([80.0, 120.0, 180.0, 250.0, 300.0])
_SCALES = (
    (0, 2, 4, 5, 7, 9, 11),  # major
    (0, 2, 3, 5, 7, 8, 10),  # natural minor
    (0, 2, 4, 7, 9),  # major pentatonic
    (0, 2, 3, 5, 7, 9, 10),  # dorian
    (0, 3, 5, 6, 7, 10),  # blues
)
_SPEED_OF_SOUND = 343.0


# ----------------------------------------------------------------------------- helpers
def _normalise(x, rms_dbfs=NOISE_RMS_DBFS):
    """``x`` at ``rms_dbfs`` RMS with peak <= 1 (the few samples that would pass 1 are clipped) -> float32."""
    x = np.asarray(x, dtype=np.float32)
    energy = float(np.dot(x, x))
    if energy == 0:
        return x
    target = 10 ** (rms_dbfs / 20)
    gain = target / np.sqrt(energy / x.size)
    if gain * max(x.max(), -x.min()) > 1:
        gain = _clipping_gain(np.abs(x), target)
    return np.clip(x * np.float32(gain), -1.0, 1.0)


def _clipping_gain(magnitudes, target):
    """Gain ``g`` with ``mean(min(g * magnitudes, 1) ** 2) == target ** 2`` (exact, via the sorted magnitudes)."""
    m = np.sort(magnitudes.astype(np.float64))[::-1]
    tail = np.cumsum(m[::-1] ** 2)[::-1]  # tail[k]: energy of all but the k largest
    with np.errstate(divide="ignore", invalid="ignore"):
        gains = np.sqrt((m.size * target**2 - np.arange(m.size)) / tail)  # if exactly the k largest clip
        return float(gains[np.argmax(gains * m <= 1)])


def _rms(x):
    """Root mean square of ``x`` (never exactly 0)."""
    return np.sqrt(np.mean(np.square(x))) + 1e-12


def _hz(freq, sample_rate):
    """``freq`` (Hz) capped below Nyquist."""
    return np.minimum(freq, _NYQUIST_SHARE * sample_rate)


def _slow(rng, n, sample_rate, rate_hz):
    """Smooth random control curve ``[n]``: N(0, 1) knots every ``1/rate_hz`` s, linearly interpolated."""
    step = max(sample_rate / rate_hz, 1.0)
    knots = rng.standard_normal(int(n / step) + 2)
    return np.interp(np.arange(n) / step, np.arange(knots.size), knots)


def _coloured(rng, n, sample_rate, alpha, f_low=20.0):
    """Gaussian noise ``[n]`` (float32) with power spectrum ~ 1/f^alpha (flat below ``f_low`` Hz, no DC)."""
    m = scipy.fft.next_fast_len(n, real=True)
    bins = m // 2 + 1
    spec = rng.standard_normal(2 * bins, dtype=np.float32).view(np.complex64)
    freqs = np.arange(bins, dtype=np.float32) * np.float32(sample_rate / m)
    spec *= np.maximum(freqs, np.float32(f_low)) ** np.float32(-alpha / 2)
    spec[0] = 0
    return scipy.fft.irfft(spec, m)[:n]


def _filter(x, sample_rate, band, order=2):
    """Butterworth filter of ``x``: ``band`` = (lo, hi) Hz, ``lo`` None -> lowpass, ``hi`` None -> highpass."""
    lo, hi = band
    if lo is None:
        sos = signal.butter(order, _hz(hi, sample_rate), "lowpass", fs=sample_rate, output="sos")
    elif hi is None:
        sos = signal.butter(order, _hz(lo, sample_rate), "highpass", fs=sample_rate, output="sos")
    else:
        hi = _hz(hi, sample_rate)
        sos = signal.butter(order, [min(lo, 0.5 * hi), hi], "bandpass", fs=sample_rate, output="sos")
    return signal.sosfilt(sos, x)


def _harmonics(phase, amplitudes, rng):
    """Sum of ``amplitudes[k] sin((k+1) phase + random)``; ``phase`` ``[n]`` in radians."""
    offsets = rng.uniform(0, 2 * np.pi, len(amplitudes))
    return sum(a * np.sin((k + 1) * phase + o) for k, (a, o) in enumerate(zip(amplitudes, offsets)))


def _harmonic_count(f0_max, sample_rate, most):
    """How many harmonics of ``f0_max`` Hz (at most ``most``) stay below Nyquist."""
    return int(np.clip(_NYQUIST_SHARE * sample_rate // f0_max, 1, most))


def _segments(rng, n, sample_rate, durations_s):
    """Index and relative position (0..1) of the segment each sample falls in.

    ``durations_s`` ``[k]`` (s) tile the time axis from a random start before 0.
    Returns (index ``[n]`` int, position ``[n]`` float).
    """
    lengths = np.asarray(durations_s) * sample_rate
    bounds = np.concatenate([[0.0], np.cumsum(lengths)]) - rng.uniform(0, lengths[0])
    t = np.arange(n)
    index = np.clip(np.searchsorted(bounds, t, side="right") - 1, 0, len(lengths) - 1)
    return index, (t - bounds[index]) / lengths[index]


def _sparse(n, positions, amplitudes, kernel):
    """Impulses at ``positions`` with ``amplitudes`` convolved with ``kernel`` -> ``[n]``."""
    impulses = np.zeros(n)
    keep = positions < n
    np.add.at(impulses, positions[keep], amplitudes[keep])
    return signal.oaconvolve(impulses, kernel)[:n]


def _decaying_burst(rng, sample_rate, tau_s, band):
    """Noise burst ``exp(-t / tau_s)`` filtered to ``band`` (see :func:`_filter`), 6 tau long."""
    t = np.arange(max(int(6 * tau_s * sample_rate), 2)) / sample_rate
    return _filter(rng.standard_normal(t.size), sample_rate, band) * np.exp(-t / tau_s)


# ----------------------------------------------------------------------------- coloured
def white(rng, num_samples, sample_rate):
    """White noise; spectral slope alpha ~ U(-0.2, 0.2)."""
    return _normalise(_coloured(rng, num_samples, sample_rate, rng.uniform(-0.2, 0.2)))


def pink(rng, num_samples, sample_rate):
    """Pink (1/f^alpha) noise, alpha ~ U(0.75, 1.25)."""
    return _normalise(_coloured(rng, num_samples, sample_rate, rng.uniform(0.75, 1.25)))


def brown(rng, num_samples, sample_rate):
    """Brown (1/f^alpha) noise, alpha ~ U(1.75, 2.25)."""
    return _normalise(_coloured(rng, num_samples, sample_rate, rng.uniform(1.75, 2.25)))


# ----------------------------------------------------------------------------- babble
def _formant_sos(formants, sample_rate):
    """Cascade of unit-DC-gain 2-pole resonators (Klatt style) at 5 ``formants`` Hz -> sos ``[5, 6]``."""
    freqs = _hz(formants, sample_rate)
    r = np.exp(-np.pi * _FORMANT_BANDWIDTHS / sample_rate)
    a1, a2 = -2 * r * np.cos(2 * np.pi * freqs / sample_rate), r**2
    zeros = np.zeros_like(a1)
    return np.stack([1 + a1 + a2, zeros, zeros, np.ones_like(a1), a1, a2], axis=1)


def _rosenberg(frac, open_share):
    """Rosenberg glottal flow at cycle phase ``frac`` (0..1): 60% opening, 40% closing, abrupt closure."""
    rise, fall = 0.6 * open_share, 0.4 * open_share
    opening = 0.5 * (1 - np.cos(np.pi * frac / rise))
    closing = np.cos(0.5 * np.pi * (frac - rise) / fall)
    return np.where(frac < rise, opening, np.where(frac < open_share, closing, 0.0))


def _synthetic_talker(rng, n, sample_rate, num_vowels=3):
    """One speech-like talker ``[n]``.

    Rosenberg glottal pulses with a wandering, jittered f0 feed a few vowel formant
    filters; each 3-6 Hz syllable picks one vowel (switching where the syllable envelope
    is zero), some start with a fricative, about 20% are pauses.
    """
    semitones = rng.uniform(1, 4) * _slow(rng, n, sample_rate, 3) + 0.15 * _slow(rng, n, sample_rate, 150)
    f0 = rng.uniform(85, 250) * 2 ** (semitones / 12)
    frac = np.cumsum(f0 / sample_rate) % 1
    source = np.diff(_rosenberg(frac, rng.uniform(0.4, 0.7)), prepend=0.0)
    source += 0.01 * rng.standard_normal(n, dtype=np.float32)
    tract = rng.uniform(0.9, 1.25)  # vocal-tract scaling of the formants
    picked = _VOWELS[rng.choice(len(_VOWELS), num_vowels, replace=False)]
    vowels = np.hstack([picked, np.broadcast_to(_HIGH_FORMANTS, (num_vowels, 2))]) * tract
    voiced = np.stack([signal.sosfilt(_formant_sos(v, sample_rate), source) for v in vowels])

    rate = rng.uniform(3, 6)
    count = int(n / sample_rate * rate / 0.6) + 2  # enough syllables even if all are the shortest
    index, pos = _segments(rng, n, sample_rate, rng.uniform(0.6, 1.4, count) / rate)
    level = rng.uniform(0.4, 1.0, count) * (rng.random(count) > 0.2)
    envelope = level[index] * np.sqrt(np.sin(np.pi * pos))
    vowel = rng.integers(num_vowels, size=count)[index]
    speech = envelope * voiced[vowel, np.arange(n)]
    fricative = (rng.random(count) < 0.3)[index] * (pos < 0.15) * level[index]
    hiss = _filter(rng.standard_normal(n, dtype=np.float32), sample_rate, (rng.uniform(2500, 4500), None))
    return speech / _rms(speech) + 0.3 * fricative * hiss / _rms(hiss)


def _talker_segment(rng, talkers, n):
    """``n`` samples of a random talker from a random offset (wrapping around) -> ``[n]``."""
    talker = np.asarray(talkers[rng.integers(len(talkers))], dtype=np.float64)
    return np.take(talker, rng.integers(talker.size) + np.arange(n), mode="wrap")


def babble(rng, num_samples, sample_rate, talkers=None):
    """3-8 talkers at levels within +-6 dB.

    ``talkers``: optional list of 1-D speech arrays at ``sample_rate``; random segments of
    them are mixed. None (or empty) synthesizes the talkers procedurally.
    """
    count = rng.integers(3, 9)
    mix = np.zeros(num_samples)
    for gain_db in rng.uniform(-6, 6, count):
        if talkers:
            voice = _talker_segment(rng, talkers, num_samples)
        else:
            voice = _synthetic_talker(rng, num_samples, sample_rate)
        mix += 10 ** (gain_db / 20) * voice / _rms(voice)
    return _normalise(mix)


# ----------------------------------------------------------------------------- machines
def hum(rng, num_samples, sample_rate):
    """Mains hum (50/60 Hz, or a random 40-120 Hz fundamental) with drifting harmonics and a little noise."""
    f0 = rng.choice([50.0, 60.0]) if rng.random() < 0.8 else rng.uniform(40, 120)
    freq = f0 * (1 + 0.003 * _slow(rng, num_samples, sample_rate, 0.5))
    count = _harmonic_count(f0 * 1.01, sample_rate, rng.integers(4, 13))
    amplitudes = np.arange(1, count + 1) ** -rng.uniform(0.7, 1.5) * rng.uniform(0.3, 1.0, count)
    amplitudes[0] = 1.0  # the fundamental dominates
    tone = _harmonics(2 * np.pi * np.cumsum(freq) / sample_rate, amplitudes, rng)
    noise = _coloured(rng, num_samples, sample_rate, rng.uniform(0, 1.5))
    return _normalise(tone / _rms(tone) + 10 ** (rng.uniform(-35, -20) / 20) * noise / _rms(noise))


def fan(rng, num_samples, sample_rate):
    """Fan: noise crossfading slowly between two bands, slow amplitude swell and a weak blade-pass tone."""
    n = num_samples
    base = _coloured(rng, n, sample_rate, rng.uniform(0.5, 1.5))
    low = _filter(base, sample_rate, (None, rng.uniform(300, 1500)))
    mid = _filter(base, sample_rate, (rng.uniform(200, 600), rng.uniform(1500, 5000)))
    mixer = 0.5 + 0.5 * np.tanh(_slow(rng, n, sample_rate, rng.uniform(0.1, 0.5)))
    swell = np.maximum(1 + rng.uniform(0.05, 0.25) * _slow(rng, n, sample_rate, rng.uniform(0.2, 1.0)), 0)
    noise = swell * (mixer * low / _rms(low) + (1 - mixer) * mid / _rms(mid))
    blade = rng.uniform(60, 300) * (1 + 0.01 * _slow(rng, n, sample_rate, 0.3))
    tone = _harmonics(2 * np.pi * np.cumsum(blade) / sample_rate, [1.0, 0.5, 0.25], rng)
    return _normalise(noise + 10 ** (rng.uniform(-25, -10) / 20) * tone / _rms(tone))


def engine(rng, num_samples, sample_rate):
    """Engine: firing pulses at a drifting rpm (lowpass rumble) and pulse-modulated combustion noise."""
    n = num_samples
    rpm = rng.uniform(700, 2500) * 2 ** (rng.uniform(0.2, 0.8) * _slow(rng, n, sample_rate, rng.uniform(0.1, 0.5)))
    firing = rpm / 60 * rng.choice([2, 3, 4])  # 4, 6 or 8 cylinders, two revolutions per cycle
    pulses = np.exp(-(np.cumsum(firing / sample_rate) % 1) * rng.uniform(3, 10))
    rumble = _filter(pulses - pulses.mean(), sample_rate, (None, rng.uniform(150, 600)))
    combustion = _filter(rng.standard_normal(n), sample_rate, (rng.uniform(80, 200), rng.uniform(800, 3000)))
    combustion *= 0.3 + pulses
    mix = rumble / _rms(rumble) + 10 ** (rng.uniform(-12, 0) / 20) * combustion / _rms(combustion)
    return _normalise(mix * np.maximum(1 + 0.1 * _slow(rng, n, sample_rate, 0.5), 0))


# ----------------------------------------------------------------------------- transients
def clicks(rng, num_samples, sample_rate):
    """Sparse clicks (2-10 per second), two decaying burst shapes, over a noise floor 30-45 dB down."""
    n = num_samples
    count = max(1, rng.poisson(rng.uniform(2, 10) * n / sample_rate))
    positions = rng.integers(0, n, count)
    amplitudes = rng.uniform(0.3, 1.0, count) * rng.choice([-1.0, 1.0], count)
    shape = rng.integers(2, size=count)
    kernels = [
        _decaying_burst(rng, sample_rate, rng.uniform(0.3e-3, 4e-3), (rng.uniform(100, 2000), None)),
        _decaying_burst(rng, sample_rate, rng.uniform(0.3e-3, 4e-3), (None, rng.uniform(2000, 7000))),
    ]
    x = sum(_sparse(n, positions[shape == k], amplitudes[shape == k], kernel / np.max(np.abs(kernel)))
            for k, kernel in enumerate(kernels))
    return _normalise(x + 10 ** (-rng.uniform(30, 45) / 20) * _rms(x) * rng.standard_normal(n))


def keyboard(rng, num_samples, sample_rate):
    """Typing: words of 2-8 keystrokes (press + softer release), spacebar between words, a floor 30-45 dB down."""
    n, duration = num_samples, num_samples / sample_rate
    words = int(duration / 0.3) + 2
    keys_per_word = rng.integers(2, 9, words)
    gaps = rng.uniform(0.06, 0.22, keys_per_word.sum())
    word_starts = np.cumsum(keys_per_word) - keys_per_word
    gaps[word_starts] += rng.uniform(0.2, 0.9, words)
    press = ((np.cumsum(gaps) - rng.uniform(0, 0.5)) * sample_rate).astype(int)
    is_space = np.zeros(press.size, dtype=bool)
    is_space[word_starts] = True
    release = press + (rng.uniform(0.04, 0.12, press.size) * sample_rate).astype(int)
    positions = np.concatenate([press, release])
    keep = positions >= 0
    loud = np.concatenate([rng.uniform(0.5, 1.0, press.size), rng.uniform(0.15, 0.4, press.size)])
    space = np.concatenate([is_space, is_space])
    key_band = (rng.uniform(1000, 2000), rng.uniform(4000, 7000))
    space_band = (rng.uniform(100, 200), rng.uniform(500, 1200))
    key = _decaying_burst(rng, sample_rate, rng.uniform(2e-3, 6e-3), key_band)
    thock = _decaying_burst(rng, sample_rate, rng.uniform(6e-3, 15e-3), space_band)
    x = (_sparse(n, positions[keep & ~space], loud[keep & ~space], key / np.max(np.abs(key)))
         + _sparse(n, positions[keep & space], loud[keep & space], thock / np.max(np.abs(thock))))
    return _normalise(x + 10 ** (-rng.uniform(30, 45) / 20) * _rms(x) * rng.standard_normal(n))


def bursts(rng, num_samples, sample_rate):
    """Intermittent noise bursts (0.05-0.6 s on, 0.1-1 s off) of two random colours and levels, faded."""
    n = num_samples
    count = int(n / sample_rate / 0.05) + 2  # enough segments even if all are the shortest
    lengths = np.where(np.arange(count) % 2 == 0, rng.uniform(0.05, 0.6, count), rng.uniform(0.1, 1.0, count))
    index, _ = _segments(rng, n, sample_rate, lengths)
    on = index % 2 == 0
    level = 10 ** (rng.uniform(-10, 0, count) / 20)
    colour = rng.random(count) < 0.5
    first = _coloured(rng, n, sample_rate, rng.uniform(-0.5, 1.0))
    second = _coloured(rng, n, sample_rate, rng.uniform(1.0, 2.0))
    source = np.where(colour[index], first / _rms(first), second / _rms(second))
    fade = max(int(rng.uniform(0.005, 0.02) * sample_rate), 1)
    gate = signal.oaconvolve(on * level[index], np.hanning(fade + 2)[1:-1] / (fade / 2), mode="same")
    return _normalise(gate * source + 10 ** (-60 / 20) * rng.standard_normal(n))


# ----------------------------------------------------------------------------- scenes
def _adsr(length, sample_rate, rng):
    """Attack-decay-sustain-release envelope ``[length]``, random times shrunk to fit the note."""
    attack, decay, release = rng.uniform(0.005, 0.05), rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.3)
    end = length / sample_rate
    shrink = min(1.0, 0.95 * end / (attack + decay + release))
    attack, decay, release = shrink * attack, shrink * decay, shrink * release
    sustain = rng.uniform(0.3, 0.8)
    times = [0.0, attack, attack + decay, end - release, end]
    return np.interp(np.arange(length) / sample_rate, times, [0.0, 1.0, sustain, sustain, 0.0])


def _note(midi, length, sample_rate, timbre, rng):
    """Harmonic tone ``[length]`` at MIDI pitch ``midi``, ADSR envelope; ``timbre``: harmonic amplitudes."""
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    count = _harmonic_count(f0, sample_rate, len(timbre))
    phase = 2 * np.pi * f0 * np.arange(length) / sample_rate
    return _adsr(length, sample_rate, rng) * _harmonics(phase, timbre[:count], rng)


def _add_at(out, tone, onset):
    """Add ``tone`` into ``out`` from sample ``onset`` (may be negative), cropped to ``out``."""
    start, stop = max(onset, 0), min(onset + tone.size, out.size)
    if stop > start:
        out[start:stop] += tone[start - onset:stop - onset]


def _line(rng, out, sample_rate, notes, beat, chord_share, gain):
    """Add one line of notes into ``out``: ``notes`` = (lengths in beats ``[k]``, MIDI of each scale degree)."""
    lengths, pitches = notes
    timbre = gain * np.arange(1, rng.integers(3, 11) + 1) ** -rng.uniform(0.7, 2.0)
    onset = -int(rng.uniform(0, beat) * sample_rate)
    for length in (lengths * beat * sample_rate).astype(int):
        if onset >= out.size:
            break
        for degree in rng.integers(len(pitches), size=3 if rng.random() < chord_share else 1):
            _add_at(out, _note(pitches[degree], length, sample_rate, timbre, rng), onset)
        onset += length


def music(rng, num_samples, sample_rate):
    """Tonal music: a melody and a bass/chord line on a random scale, tempo and timbre."""
    scale = np.array(_SCALES[rng.integers(len(_SCALES))])
    pitches = rng.integers(45, 60) + np.concatenate([scale, scale + 12])  # two octaves from a random root
    beat = 60 / rng.uniform(70, 160)  # s
    count = int(num_samples / sample_rate / (0.25 * beat)) + 2  # enough notes even if all are the shortest
    out = np.zeros(num_samples)
    _line(rng, out, sample_rate, (rng.choice([0.25, 0.5, 1.0], count), pitches + 12), beat, 0.0, 1.0)
    _line(rng, out, sample_rate, (np.full(count, 2.0), pitches - 12), beat, 0.5, 0.6)
    return _normalise(out)


def _vehicle(rng, n, sample_rate):
    """One passing vehicle ``[n]``: Doppler-shifted engine harmonics plus tyre noise, 1/r level."""
    t = np.arange(n) / sample_rate - rng.uniform(-2.0, n / sample_rate + 2.0)
    speed, closest = rng.uniform(5, 20), rng.uniform(3, 20)
    distance = np.hypot(closest, speed * t)
    doppler = _SPEED_OF_SOUND / (_SPEED_OF_SOUND + speed**2 * t / distance)
    f_engine = rng.uniform(25, 90)
    phase = 2 * np.pi * np.cumsum(f_engine * doppler) / sample_rate
    engine_tone = _harmonics(phase, 0.7 ** np.arange(_harmonic_count(f_engine * 1.1, sample_rate, 6)), rng)
    tyres = _filter(rng.standard_normal(n), sample_rate, (rng.uniform(300, 700), rng.uniform(1500, 3000)))
    return (engine_tone / _rms(engine_tone) + tyres / _rms(tyres)) / distance


def _horns(rng, n, sample_rate):
    """0-2 two-tone car horns of 0.2-0.8 s at random times and -12..0 dB (re unit RMS) ``[n]``."""
    out = np.zeros(n)
    for _ in range(rng.integers(0, 3)):
        length = min(int(rng.uniform(0.2, 0.8) * sample_rate), n)
        start = rng.integers(0, n - length + 1)
        f0 = rng.uniform(350, 500)
        phase = 2 * np.pi * f0 * np.arange(length) / sample_rate
        count = _harmonic_count(1.25 * f0, sample_rate, 5)
        timbre = 0.6 ** np.arange(count)
        tone = _harmonics(phase, timbre, rng) + _harmonics(1.25 * phase, timbre, rng)
        out[start:start + length] += 10 ** (rng.uniform(-12, 0) / 20) * tone / _rms(tone) * np.hanning(length)
    return out


def street(rng, num_samples, sample_rate, talkers=None):
    """Street scene: traffic rumble, passing vehicles, occasional horns and distant babble."""
    n = num_samples
    rumble = _filter(_coloured(rng, n, sample_rate, 2.0), sample_rate, (None, rng.uniform(150, 400)))
    rumble *= np.maximum(1 + 0.3 * _slow(rng, n, sample_rate, 0.2), 0)
    count = 1 + rng.poisson(rng.uniform(0.1, 0.5) * n / sample_rate)
    vehicles = sum(_vehicle(rng, n, sample_rate) for _ in range(count))
    crowd = _filter(babble(rng, n, sample_rate, talkers), sample_rate, (None, rng.uniform(1000, 2500)))
    mix = (rumble / _rms(rumble) + 10 ** (rng.uniform(-6, 6) / 20) * vehicles / _rms(vehicles)
           + 10 ** (rng.uniform(-20, -8) / 20) * crowd / _rms(crowd))
    return _normalise(mix + _horns(rng, n, sample_rate) * _rms(mix))


# ----------------------------------------------------------------------------- augmentation only
def whine(rng, num_samples, sample_rate):
    """Tonal machine noise (motor whine, spin-up, siren, transformer): a 100-1500 Hz fundamental drifting by a few
    percent or (half the draws) gliding by up to an octave, 1-6 harmonics, its level swelling and fading at 0.3-4 Hz by
    up to 24 dB, over coloured noise 20-35 dB below. Not a corpus family (see ``AUGMENTATION_FAMILIES``)."""
    n = num_samples
    f0 = np.exp(rng.uniform(np.log(100.0), np.log(1500.0)))
    octaves = rng.uniform(0.003, 0.07) if rng.random() < 0.5 else rng.uniform(0.1, 1.0)
    freq = f0 * 2 ** (octaves * np.tanh(_slow(rng, n, sample_rate, rng.uniform(0.1, 1.0))))
    count = _harmonic_count(f0 * 1.06, sample_rate, rng.integers(1, 7))
    amplitudes = np.arange(1, count + 1) ** -rng.uniform(0.5, 2.0)
    tone = _harmonics(2 * np.pi * np.cumsum(freq) / sample_rate, amplitudes, rng)
    depth_db = rng.uniform(0, 24)
    envelope = 10 ** (depth_db * (np.tanh(_slow(rng, n, sample_rate, rng.uniform(0.3, 4.0))) - 1) / 40)
    noise = _coloured(rng, n, sample_rate, rng.uniform(0, 2))
    return _normalise(envelope * tone / _rms(tone) + 10 ** (rng.uniform(-35, -20) / 20) * noise / _rms(noise))


# ----------------------------------------------------------------------------- registry
_FAMILIES = {
    "white": white,
    "pink": pink,
    "brown": brown,
    "babble": babble,
    "hum": hum,
    "fan": fan,
    "engine": engine,
    "clicks": clicks,
    "keyboard": keyboard,
    "bursts": bursts,
    "music": music,
    "street": street,
}
TALKER_FAMILIES = ("babble", "street")
NOISE_FAMILIES = tuple(_FAMILIES)
# Families for on-the-fly training noise only (maese.augment.procedural), never drawn for the embedded corpus, whose
# files stay those of NOISE_FAMILIES.
_AUGMENTATION_FAMILIES = {"whine": whine}
AUGMENTATION_FAMILIES = tuple(_AUGMENTATION_FAMILIES)
_ALL_FAMILIES = {**_FAMILIES, **_AUGMENTATION_FAMILIES}


def check_families(families, augmentation=False):
    """Raise ValueError naming the unknown ones of ``families`` (corpus families; with ``augmentation``, also
    :data:`AUGMENTATION_FAMILIES`)."""
    known = NOISE_FAMILIES + (AUGMENTATION_FAMILIES if augmentation else ())
    unknown = [f for f in families if f not in known]
    if unknown:
        raise ValueError(f"Unknown noise family {', '.join(map(repr, unknown))}; valid: {', '.join(known)}.")


def split_families(ood_families=OOD_NOISE_FAMILIES):
    """Disjoint (train, ood) tuples of family names; ``ood_families`` are held out of training."""
    check_families(ood_families)
    return tuple(f for f in NOISE_FAMILIES if f not in ood_families), tuple(ood_families)


def generate_noise(family, rng, num_samples, sample_rate, talkers=None):
    """One noise draw of ``family``.

    Arguments
    ---------
    family : str
        One of ``NOISE_FAMILIES``.
    rng : np.random.Generator
    num_samples : int
    sample_rate : int
        Hz.
    talkers : list of np.ndarray, optional
        Speech ``[time]`` at ``sample_rate`` for ``babble`` and ``street``; ignored by the others.

    Returns
    -------
    np.ndarray float32 ``[num_samples]`` at ``NOISE_RMS_DBFS`` RMS, peak <= 1.
    """
    check_families([family], augmentation=True)
    if num_samples < 1 or sample_rate <= 0:
        raise ValueError(f"Need num_samples >= 1 and sample_rate > 0, got {num_samples}, {sample_rate}.")
    kwargs = {"talkers": talkers} if family in TALKER_FAMILIES else {}
    return _ALL_FAMILIES[family](rng, int(num_samples), int(sample_rate), **kwargs)
