"""Band limits: another microphone's or channel's pass band, a Butterworth high-pass and low-pass magnitude response
applied in the frequency domain (zero phase), ``|H(f)| = (1 + (f_hp / f)^(2n))^-1/2 (1 + (f / f_lp)^(2n))^-1/2``.

Recordings differ most at the ends of the band: a headset's or a studio's low cut (LJ Speech holds about 30 dB less
below 125 Hz than speechocean762), a codec's or an old microphone's roll-off above 4-7 kHz. Applied to clean speech
before noise is added (the target alike), it teaches a model that what lies outside the speech's band is noise.
"""

import torch

from maese.augment.base import Distortion, check_range, transform_rows, uniform, zero_phase_filter


def band_limit(x, highpass_hz, lowpass_hz, sample_rate, order=4):
    """Each row of ``x [batch, time]`` through a high-pass at ``highpass_hz [batch]`` and a low-pass at
    ``lowpass_hz [batch]`` (Butterworth magnitudes of ``order``, zero phase); a cut-off of 0 (high-pass) or inf
    (low-pass) leaves that end alone. Returns ``[batch, time]``, ``x``'s dtype and device."""
    high = highpass_hz.to(x.device, torch.float64).unsqueeze(1)
    low = lowpass_hz.to(x.device, torch.float64).unsqueeze(1)

    def response(freqs):
        below = (high / freqs.clamp(min=1e-3)) ** (2 * order)  # [batch, bins]; DC: a high-pass removes it
        return torch.rsqrt((1 + below) * (1 + (freqs / low) ** (2 * order)))

    return zero_phase_filter(x, response, sample_rate)


class BandLimit(Distortion):
    """Each example's pass band limited by cut-offs drawn uniformly from ``highpass_range`` and ``lowpass_range`` (Hz).

    Arguments
    ---------
    highpass_range : (float, float) or None
        Low cut-off, e.g. (20, 300), within [0, sample_rate / 4]; None: no high-pass.
    lowpass_range : (float, float) or None
        High cut-off, e.g. (3500, 8000), within [1000, sample_rate / 2] (a narrower band leaves little speech);
        None: no low-pass.
    prob : float
        Chance per example.
    sample_rate : int
    seed : int or None
    """

    def __init__(self, highpass_range=None, lowpass_range=None, prob=1.0, sample_rate=16000, seed=None):
        super().__init__(prob, seed)
        if highpass_range is None and lowpass_range is None:
            raise ValueError("BandLimit needs a highpass_range, a lowpass_range or both, e.g. [20, 300] and "
                             "[3500, 8000] (Hz).")
        nyquist = sample_rate / 2
        self.highpass_range = None if highpass_range is None else check_range("highpass_range", highpass_range, 0.0,
                                                                               nyquist / 2)
        self.lowpass_range = None if lowpass_range is None else check_range("lowpass_range", lowpass_range, 1000.0,
                                                                            nyquist)
        if self.highpass_range is not None and self.lowpass_range is not None \
                and self.highpass_range[1] >= self.lowpass_range[0]:
            raise ValueError(f"highpass_range {highpass_range!r} reaches lowpass_range {lowpass_range!r}: a band "
                             "could be empty; keep every high-pass cut-off under every low-pass one.")
        self.sample_rate = sample_rate

    def __call__(self, x, generator=None, lengths=None):
        """Band-limit ``x [batch, time]``; the padding past ``lengths`` stays zero.

        Returns
        -------
        (``[batch, time]``, params): ``applied`` bool, ``highpass_hz`` (0 where untouched) and ``lowpass_hz`` (inf
        where untouched), each ``[batch]`` on ``x``'s device.
        """
        generator, mask, applied = self.begin(x, generator, lengths)
        batch = x.shape[0]
        high = torch.zeros(batch) if self.highpass_range is None else uniform(generator, self.highpass_range, batch)
        low = torch.full((batch,), torch.inf) if self.lowpass_range is None else uniform(generator,
                                                                                         self.lowpass_range, batch)
        high, low = torch.where(applied, high, 0.0), torch.where(applied, low, torch.inf)
        y = transform_rows(x, applied, mask,
                           lambda rows: band_limit(rows, high[applied], low[applied], self.sample_rate))
        params = {"applied": applied, "highpass_hz": high, "lowpass_hz": low}
        return y, {name: value.to(x.device) for name, value in params.items()}
