"""Reverberation ``d(s) = s * r`` with a room impulse response, kept time-aligned with the dry signal."""

import math

import torch
import torch.nn.functional as F
import torchaudio.functional as AF

from maese.acoustics import EPS, drr_db
from maese.augment.base import Distortion
from maese.augment.sources import as_pool


def fast_length(n):
    """Smallest 5-smooth integer >= ``n``: an FFT size without a slow prime factor."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def convolve_aligned(x, rirs):
    """Convolve each row with its RIR and advance it by the RIR's direct-peak index.

    Arguments
    ---------
    x : torch.Tensor ``[batch, time]``
    rirs : torch.Tensor ``[batch, rir_time]`` (zero-padded at the end)

    Returns
    -------
    torch.Tensor ``[batch, time]``: the direct path lines up with ``x`` (lag 0), the tail beyond
    ``time`` is cropped.
    """
    time = x.shape[-1]
    # Zero-pad the RIRs so that torchaudio's FFT size is 5-smooth (several times faster).
    rirs = F.pad(rirs, (0, fast_length(time + rirs.shape[-1] - 1) - time + 1 - rirs.shape[-1]))
    full = AF.fftconvolve(x, rirs)
    start = rirs.abs().argmax(dim=-1, keepdim=True)
    return full.gather(-1, start + torch.arange(time, device=x.device))


def match_power(y, x):
    """Scale each row of ``y [batch, time]`` to the mean power of ``x``'s row (silent rows stay silent)."""
    gain = (x.pow(2).mean(dim=-1) / y.pow(2).mean(dim=-1).clamp_min(EPS)).sqrt()
    return y * gain.unsqueeze(-1)


class Reverberate(Distortion):
    """Convolve with an RIR drawn from a pool.

    Arguments
    ---------
    rir_files : manifest, folder, list of files, or AudioPool (measured or simulated RIRs as they are)
    prob : float
        Chance per example.
    preserve_level : bool
        Rescale the output to the input's mean power.
    sample_rate : int
    direct_window_ms : float
        Direct part of an RIR for its DRR (see :func:`maese.acoustics.direct_path_split`).
    max_cache_seconds : float
        Memory bound of the RIR pool.
    seed : int or None
    """

    def __init__(
        self, rir_files, prob=1.0, preserve_level=True, sample_rate=16000, direct_window_ms=2.5,
        max_cache_seconds=3600.0, seed=None,
    ):
        super().__init__(prob, seed)
        self.pool = as_pool(rir_files, sample_rate, max_cache_seconds, "RIR pool")
        self.preserve_level = preserve_level
        self.sample_rate = sample_rate
        self.direct_window_ms = direct_window_ms

    def __call__(self, x, generator=None, lengths=None):
        """Distort ``x [batch, time]``.

        Returns
        -------
        (``[batch, time]``, params): ``applied`` bool, ``rir_index`` (-1 where untouched) and
        ``drr_db`` of the RIR (inf, i.e. dry, where untouched), each ``[batch]`` on ``x``'s device.
        """
        generator, mask, applied = self.begin(x, generator, lengths)
        index = torch.randint(len(self.pool), (x.shape[0],), generator=generator)
        drr = torch.full((x.shape[0],), math.inf)
        y = x.clone()
        rows = applied.nonzero().squeeze(1)
        if len(rows):
            on_device = rows.to(x.device)
            rirs = self.pool.clips(index[rows]).to(x)
            dry = x[on_device] if mask is None else x[on_device] * mask[on_device]
            wet = convolve_aligned(dry, rirs)
            if mask is not None:
                wet = wet * mask[on_device]
            y[on_device] = match_power(wet, dry) if self.preserve_level else wet
            drr[rows] = drr_db(rirs, self.sample_rate, self.direct_window_ms).float().cpu()
        params = {"applied": applied, "rir_index": torch.where(applied, index, -1), "drr_db": drr}
        return y, {key: value.to(x.device) for key, value in params.items()}
