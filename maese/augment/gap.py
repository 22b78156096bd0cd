"""Silent gaps: a stretch of each drawn example faded out, so that a training crop holds noise alone.

Applied to clean speech before noise is added (the target alike), the gap's target is silence under the noise of
the input. Measured once on the real-speech denoisers (RESULTS.md, "The noise left in pauses", 2026-12-07): at
12 of 36 epochs it did not lower the noise they leave in pauses; off by default.
"""

import torch

from maese.augment.base import Distortion, check_range, uniform


def gap_envelope(num_samples, starts, stops, ramp):
    """Gains ``[batch, num_samples]``: 0 from ``starts`` to ``stops`` (``[batch]`` sample indices), 1 outside, raised
    cosine ramps of ``ramp`` samples inside the gap's ends (no click); ``starts == stops``: all ones."""
    t = torch.arange(num_samples, dtype=torch.float64).unsqueeze(0)
    starts, stops = starts.double().unsqueeze(1), stops.double().unsqueeze(1)
    ramp = max(int(ramp), 1)
    into = ((t - starts + 0.5) / ramp).clamp(0, 1)  # 0 before the gap, 1 a ramp into it
    out_of = ((stops - 0.5 - t) / ramp).clamp(0, 1)  # 1 until a ramp before its end
    depth = torch.minimum(into, out_of) * (t >= starts) * (t < stops)
    return (0.5 + 0.5 * torch.cos(torch.pi * depth)).float()


class SilenceGap(Distortion):
    """One stretch of each drawn example silenced: its length drawn from ``gap_range`` (seconds, at most the valid
    length), its start uniform over the valid samples, 10 ms fades at its ends.

    Arguments
    ---------
    gap_range : (float, float)
        Seconds, e.g. (0.2, 1.0).
    prob : float
        Chance per example.
    sample_rate : int
    ramp_seconds : float
        Fade at each end of the gap, inside it.
    seed : int or None
    """

    def __init__(self, gap_range, prob=1.0, sample_rate=16000, ramp_seconds=0.01, seed=None):
        super().__init__(prob, seed)
        self.gap_range = check_range("gap_range", gap_range, 0.0, low_open=True)
        self.sample_rate = sample_rate
        self.ramp = round(ramp_seconds * sample_rate)

    def __call__(self, x, generator=None, lengths=None):
        """Silence a stretch of ``x [batch, time]`` in the drawn rows; the padding past ``lengths`` stays as it is.

        Returns
        -------
        (``[batch, time]``, params): ``applied`` bool, ``start`` and ``stop`` sample indices (``[batch]``, both 0
        where untouched), on ``x``'s device.
        """
        generator, mask, applied = self.begin(x, generator, lengths)
        batch, time = x.shape
        valid = torch.full((batch,), float(time)) if mask is None else mask.sum(dim=1).cpu().double()
        seconds = uniform(generator, self.gap_range, batch).double()
        gap = torch.minimum(torch.round(seconds * self.sample_rate), valid)
        start = torch.floor(torch.rand(batch, generator=generator).double() * (valid - gap + 1))
        start, stop = torch.where(applied, start, 0.0).long(), torch.where(applied, start + gap, 0.0).long()
        y = x * gap_envelope(time, start, stop, self.ramp).to(x)
        return y, {"applied": applied.to(x.device), "start": start.to(x.device), "stop": stop.to(x.device)}
