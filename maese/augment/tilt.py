"""Spectral tilt: a first-order colouring of a signal's spectrum, ``|Y(f)| = |X(f)| (f / ref_hz) ** (tilt / 6.02)``.

A tilt of -6 dB per octave turns white noise into brown-like noise, +3 dB per octave into blue-like noise.
Drawn per example, it spreads a small set of recorded noises over many spectral shapes (real noises such as
engines, fans and traffic are far more low-frequency heavy than most environmental sound clips).
"""

import math

import torch

from maese.augment.base import Distortion, check_range, transform_rows, uniform, zero_phase_filter

DB_PER_OCTAVE_PER_EXPONENT = 20.0 * math.log10(2.0)  # a magnitude exponent of 1 is 6.02 dB per octave


def spectral_tilt(x, tilt_db_per_octave, sample_rate, ref_hz=1000.0, min_hz=50.0):
    """Tilt the spectrum of each row of ``x [batch, time]`` by ``tilt_db_per_octave [batch]``.

    The gain is 1 (0 dB) at ``ref_hz`` and constant below ``min_hz`` (no boost of DC and rumble); a tilt of 0
    returns the row unchanged (up to the FFT round trip). Returns ``[batch, time]``, ``x``'s dtype and device.
    """
    exponent = tilt_db_per_octave.to(x.device, torch.float64).unsqueeze(1) / DB_PER_OCTAVE_PER_EXPONENT

    def response(freqs):
        return torch.exp2(exponent * torch.log2(freqs.clamp(min=min_hz) / ref_hz))  # [batch, bins]

    return zero_phase_filter(x, response, sample_rate)


class Tilt(Distortion):
    """Another microphone's response: each example's spectrum tilted by a slope drawn uniformly from ``tilt_range``
    (dB per octave around 1 kHz, :func:`spectral_tilt`). Applied to clean speech before it is distorted, it gives
    the fine-tuning the colourings of other microphones and rooms, the target coloured alike.

    Arguments
    ---------
    tilt_range : (float, float)
        dB per octave, e.g. (-3, 3).
    prob : float
        Chance per example.
    sample_rate : int
    seed : int or None
    """

    def __init__(self, tilt_range, prob=1.0, sample_rate=16000, seed=None):
        super().__init__(prob, seed)
        self.tilt_range = check_range("tilt_range", tilt_range, low=-24.0, high=24.0)
        self.sample_rate = sample_rate

    def __call__(self, x, generator=None, lengths=None):
        """Tilt ``x [batch, time]``; the padding past ``lengths`` stays zero.

        Returns
        -------
        (``[batch, time]``, params): ``applied`` bool and ``tilt_db`` (0 where untouched), each ``[batch]`` on ``x``'s
        device.
        """
        generator, mask, applied = self.begin(x, generator, lengths)
        tilt = torch.where(applied, uniform(generator, self.tilt_range, x.shape[0]), 0.0)
        y = transform_rows(x, applied, mask, lambda rows: spectral_tilt(rows, tilt[applied], self.sample_rate))
        return y, {"applied": applied.to(x.device), "tilt_db": tilt.to(x.device)}
