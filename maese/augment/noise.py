"""Additive noise at an exact SNR: ``d(s) = s + g n``."""

import math

import torch

from maese.acoustics import noise_gain_for_snr
from maese.augment.base import Distortion, add_at_ratio, check_prob, check_range, is_silent, uniform
from maese.augment.procedural import ProceduralNoise
from maese.augment.sources import as_pool
from maese.augment.speed import change_speed, check_factors
from maese.augment.tilt import spectral_tilt


class AddNoise(Distortion):
    """Add a random noise segment at an SNR drawn uniformly from ``snr_range``.

    The SNR is exact over the whole clip: ``snr_db(x, y - x) == snr_db`` (padding excluded when
    ``lengths`` is given, as the noise is zero there too). Silent examples (mean power <= 1e-12)
    have no SNR: they are left untouched and reported with ``applied = False``.

    Arguments
    ---------
    noise_files : manifest, folder, list of files, or AudioPool (see :class:`AudioPool`)
    snr_range : (float, float) dB
    prob : float
        Chance per example.
    sample_rate : int
    max_cache_seconds : float
        Memory bound of the noise pool.
    seed : int or None
    tilt_range : (float, float) or None
        Spectral tilt of the noise, dB per octave (:func:`maese.augment.tilt.spectral_tilt`), drawn uniformly per
        example before the noise is scaled to its SNR; None: the noise as recorded (and no draws for it).
    tilt_prob : float
        Chance per example that its noise is tilted (with ``tilt_range``).
    procedural_prob : float
        Chance per example that its noise is made on the fly by a procedural family (:class:`ProceduralNoise`)
        instead of cut from ``noise_files``; 0: never (and no draws for it).
    procedural_families : sequence of str or None
        The families it draws from; None: :data:`maese.augment.procedural.TRAINING_FAMILIES`.
    background_prob : float
        Chance per example with a recorded noise that a procedural noise (of ``procedural_families``) is laid under
        it as a background, before the sum is tilted and scaled to the SNR: recordings seldom hold one source alone
        (a dog barking over a fan); 0: never (and no draws for it).
    background_range : (float, float) dB
        Level of that background relative to the recorded noise's, drawn uniformly per example.
    speed_factors : sequence of float or None
        Each recorded noise played this many times faster (:func:`maese.augment.speed.change_speed`), one factor
        drawn per example, e.g. (0.5, 0.7, 1.0, 1.4, 2.0): a bark an octave lower, a drone an octave higher, so that
        a few recordings give more sources; None: as recorded (and no draws for it).
    speed_prob : float
        Chance per example that its recorded noise is sped up or slowed down (with ``speed_factors``).
    """

    def __init__(
        self, noise_files, snr_range=(-5.0, 20.0), prob=1.0, sample_rate=16000, max_cache_seconds=3600.0, seed=None,
        tilt_range=None, tilt_prob=1.0, procedural_prob=0.0, procedural_families=None, background_prob=0.0,
        background_range=(-10.0, 5.0), speed_factors=None, speed_prob=1.0,
    ):
        super().__init__(prob, seed)
        self.snr_range = check_range("snr_range", snr_range)
        self.pool = as_pool(noise_files, sample_rate, max_cache_seconds, "noise pool")
        self.sample_rate = sample_rate
        self.tilt_range = None if tilt_range is None else check_range("tilt_range", tilt_range)
        self.tilt_prob = check_prob("tilt_prob", tilt_prob)
        self.procedural_prob = check_prob("procedural_prob", procedural_prob)
        self.background_prob = check_prob("background_prob", background_prob)
        self.background_range = check_range("background_range", background_range)
        self.speed_factors = None if speed_factors is None else check_factors(speed_factors)
        self.speed_prob = check_prob("speed_prob", speed_prob)
        self.procedural = None
        if self.procedural_prob > 0 or self.background_prob > 0:
            families = {} if procedural_families is None else {"families": procedural_families}
            self.procedural = ProceduralNoise(sample_rate=sample_rate, **families)

    def __call__(self, x, generator=None, lengths=None):
        """Distort ``x [batch, time]``.

        Returns
        -------
        (``[batch, time]``, params): ``applied`` bool, ``snr_db`` (inf where untouched), ``noise_index`` (-1 where
        untouched or procedural), ``procedural`` bool, ``tilt_db`` (dB per octave; 0 where not tilted),
        ``background_db`` (the background's level relative to the recorded noise; -inf where none), ``speed`` (the
        recorded noise's speed factor; 1 where not changed), each ``[batch]`` on ``x``'s device.
        """
        generator, mask, applied = self.begin(x, generator, lengths)
        batch, time = x.shape
        snr = uniform(generator, self.snr_range, batch)
        index = torch.randint(len(self.pool), (batch,), generator=generator)
        position = torch.rand(batch, generator=generator)
        tilt = torch.zeros(batch)
        if self.tilt_range is not None:
            drawn = uniform(generator, self.tilt_range, batch)
            tilt = torch.where(torch.rand(batch, generator=generator) < self.tilt_prob, drawn, 0.0)
        procedural = torch.zeros(batch, dtype=torch.bool)
        if self.procedural_prob > 0:
            procedural = torch.rand(batch, generator=generator) < self.procedural_prob
        background = torch.full((batch,), -math.inf)
        speed = torch.ones(batch)
        if self.speed_factors is not None:
            drawn = torch.tensor(self.speed_factors)[torch.randint(len(self.speed_factors), (batch,),
                                                                   generator=generator)]
            speed = torch.where(torch.rand(batch, generator=generator) < self.speed_prob, drawn, 1.0)
        speed = torch.where(procedural, 1.0, speed)
        applied &= ~is_silent(x).cpu()
        y = x.clone()
        rows = applied.nonzero().squeeze(1)
        if len(rows):
            made = procedural[rows]
            noise = torch.empty(len(rows), time, dtype=x.dtype, device=x.device)
            if not made.all():
                recorded = rows[~made]
                noise[~made] = self.recorded_segments(index[recorded], position[recorded], speed[recorded], time).to(x)
            if made.any():
                noise[made] = self.procedural.segments(int(made.sum()), time, generator).to(x)
            if self.background_prob > 0:  # drawn last: the other rows get what they get without the option
                drawn = uniform(generator, self.background_range, batch)
                chosen = (torch.rand(batch, generator=generator) < self.background_prob) & ~procedural
                background = torch.where(chosen, drawn, -math.inf)
            layered = torch.isfinite(background[rows])
            if layered.any():
                under = self.procedural.segments(int(layered.sum()), time, generator).to(x)
                noise[layered] += noise_gain_for_snr(noise[layered], under, -background[rows][layered].to(x)) * under
            if self.tilt_range is not None:
                noise = spectral_tilt(noise, tilt[rows], self.sample_rate)
            add_at_ratio(y, x, rows, noise, snr[rows], mask, applied)
        params = {
            "applied": applied,
            "snr_db": torch.where(applied, snr, math.inf),
            "noise_index": torch.where(applied & ~procedural, index, -1),
            "procedural": applied & procedural,
            "tilt_db": torch.where(applied, tilt, 0.0),
            "background_db": torch.where(applied, background, -math.inf),
            "speed": torch.where(applied, speed, 1.0),
        }
        return y, {key: value.to(x.device) for key, value in params.items()}

    def recorded_segments(self, index, position, speed, time):
        """``[n, time]`` segments of the recorded clips ``index [n]`` placed by ``position [n]``, each played
        ``speed [n]`` times faster: a segment of about ``speed x time`` samples resampled to ``time``."""
        out = torch.empty(len(index), time)
        for factor in speed.unique().tolist():
            rows = speed == factor
            length = time if factor == 1.0 else math.ceil(time * factor) + 1  # resampled: at least time samples
            out[rows] = change_speed(self.pool.segments(index[rows], position[rows], length), factor)[:, :time]
        return out
