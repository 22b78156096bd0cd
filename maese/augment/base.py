"""Shared pieces of the distortions: argument checks, random draws, the per-example Bernoulli gate.

Randomness: every draw comes from a CPU ``torch.Generator`` (so CPU and CUDA batches get the same
numbers for the same seed) and is moved to the batch's device afterwards.
"""

import math

import torch

from maese.acoustics import EPS, noise_gain_for_snr
from maese.audio import check_finite


def check_range(name, value, low=-math.inf, high=math.inf, low_open=False):
    """``value`` as a ``(lo, hi)`` float pair with ``low <= lo <= hi <= high``; ValueError naming ``name``."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair [low, high] of numbers, got {value!r}.") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"{name} must be finite with low <= high, got {value!r}.")
    if lo < low or (low_open and lo <= low) or hi > high:
        bounds = f"{'(' if low_open else '['}{low}, {high}]"
        raise ValueError(f"{name} must lie within {bounds}, got {value!r}.")
    return lo, hi


def check_prob(name, value):
    """``value`` as a float in [0, 1]; ValueError naming ``name`` otherwise."""
    try:
        prob = float(value)
    except (TypeError, ValueError):
        prob = math.nan
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}.")
    return prob


def check_batch(x, lengths=None):
    """Validate a batch ``[batch, time]`` (finite floats) and optional relative ``lengths [batch]``.

    Returns
    -------
    torch.Tensor ``[batch, time]`` float mask of the valid samples, or ``None`` without ``lengths``.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"Augmentation input must be a float tensor [batch, time], got {type(x).__name__}.")
    if x.dim() != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(
            f"Augmentation input must be [batch, time] with batch, time > 0, got shape {tuple(x.shape)} "
            "(use x.unsqueeze(0) for one clip)."
        )
    if not torch.isfinite(x.sum()):  # NaN/Inf propagate through a sum: one cheap reduction
        check_finite(x, "augmentation input batch")
    if lengths is None:
        return None
    lengths = torch.as_tensor(lengths, device=x.device)
    if lengths.shape != x.shape[:1] or not ((lengths > 0) & (lengths <= 1)).all():
        raise ValueError(f"lengths must be [batch] relative lengths in (0, 1], got {lengths.tolist()}.")
    valid = torch.round(lengths * x.shape[1]).unsqueeze(1)
    return (torch.arange(x.shape[1], device=x.device) < valid).to(x.dtype)


def uniform(generator, value_range, n):
    """``[n]`` float32 draws, uniform in ``value_range = (lo, hi)``, on the CPU."""
    lo, hi = value_range
    return lo + (hi - lo) * torch.rand(n, generator=generator)


def resolve_generator(generator, default):
    """A ``torch.Generator`` from a generator, an int seed, or ``None`` (-> ``default``)."""
    if generator is None:
        return default
    if isinstance(generator, torch.Generator):
        return generator
    return torch.Generator().manual_seed(int(generator))


def seeded_generator(seed):
    """A CPU generator seeded with ``seed``, or from torch's global RNG when ``seed`` is None."""
    if seed is None:
        seed = int(torch.randint(2**62, (1,)))
    return torch.Generator().manual_seed(int(seed))


def is_silent(x):
    """``[batch, time]`` -> ``[batch]`` bool: mean power at or below ``acoustics.EPS``."""
    return x.pow(2).mean(dim=-1) <= EPS


def add_at_ratio(y, x, rows, source, ratio_db, mask, applied):
    """Add ``source`` to the rows ``rows`` of ``y``, ``ratio_db`` below those rows of ``x``, in place.

    Arguments
    ---------
    y, x : torch.Tensor ``[batch, time]``: the output being built, and the signal the ratio refers to
    rows : torch.Tensor ``[n]`` (CPU) indices of the rows to distort
    source : torch.Tensor ``[n, time]`` on ``x``'s device
    ratio_db : torch.Tensor ``[n]``: signal-to-source ratio (SNR, SIR)
    mask : torch.Tensor ``[batch, time]`` valid-sample mask, or None
    applied : torch.Tensor ``[batch]`` bool (CPU); rows whose source is silent are set to False
    """
    on_device = rows.to(x.device)
    if mask is not None:
        source = source * mask[on_device]
    ok = ~is_silent(source)
    y[on_device] += noise_gain_for_snr(x[on_device], source, ratio_db.to(x)) * ok.unsqueeze(1) * source
    applied[rows] = ok.cpu()


class Distortion:
    """Base of the distortions: a per-example probability and a seeded generator.

    Arguments
    ---------
    prob : float
        Chance in [0, 1] that each example is distorted (a Bernoulli draw per example).
    seed : int or None
        Seed of the generator used when a call passes none; ``None`` draws it from torch's
        global RNG, so a global ``torch.manual_seed`` makes runs reproducible.
    """

    def __init__(self, prob=1.0, seed=None):
        self.prob = check_prob(f"{type(self).__name__} prob", prob)
        self.generator = seeded_generator(seed)

    def begin(self, x, generator, lengths):
        """Check the batch and draw which examples to distort.

        Arguments
        ---------
        x : torch.Tensor ``[batch, time]``
        generator : torch.Generator, int seed, or None (the distortion's own generator)
        lengths : torch.Tensor ``[batch]`` relative lengths, or None

        Returns
        -------
        (generator, valid mask ``[batch, time]`` or None, applied ``[batch]`` bool on the CPU)
        """
        mask = check_batch(x, lengths)
        generator = resolve_generator(generator, self.generator)
        applied = torch.rand(x.shape[0], generator=generator) < self.prob
        return generator, mask, applied


def zero_phase_filter(x, response, sample_rate):
    """Each row of ``x [batch, time]`` through a zero-phase magnitude ``response``: a function of the FFT bins'
    frequencies (Hz, float64 ``[bins]`` on ``x``'s device) -> gains ``[batch, bins]``. Returns ``[batch, time]``,
    ``x``'s dtype and device."""
    time = x.shape[-1]
    freqs = torch.fft.rfftfreq(time, d=1.0 / sample_rate, device=x.device, dtype=torch.float64)
    spectrum = torch.fft.rfft(x.to(torch.float64), dim=-1)
    return torch.fft.irfft(spectrum * response(freqs), n=time, dim=-1).to(x.dtype)


def transform_rows(x, applied, mask, transform):
    """``x [batch, time]`` with only its ``applied`` rows (``[batch]`` bool) through ``transform`` (``[n, time]`` ->
    ``[n, time]``), their padding (``mask``, or None) kept zero; the other rows untouched."""
    y, rows = x.clone(), applied.to(x.device)
    if rows.any():
        changed = transform(x[rows])
        y[rows] = changed if mask is None else changed * mask[rows]
    return y
