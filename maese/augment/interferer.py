"""An interfering speaker placed farther from the microphone than the target (lower DRR)."""

import math

import torch

from maese.acoustics import drr_floor_db, set_drr
from maese.augment.base import Distortion, add_at_ratio, check_range, is_silent, uniform
from maese.augment.reverb import convolve_aligned
from maese.augment.sources import as_pool


class AddInterferer(Distortion):
    """Add a second utterance, reverberated with an RIR whose direct part is scaled to a lower DRR.

    The interferer's DRR is always below the target's: for a reverberant target (finite
    ``target_drr_db``) it is ``target_drr_db - delta``, ``delta`` uniform in ``drr_delta_range``;
    for a dry target (DRR +inf) it is uniform in ``drr_range``. The RIR is drawn among those that
    reach that DRR with their direct peak still the largest sample (``drr_floor_db`` + 0.05 dB,
    as in Bryan's DRR augmentation), so the DRR measured on the modified RIR is the requested one;
    an example no RIR of the pool can serve is left untouched (``applied = False``). The
    interferer is added at a signal-to-interferer ratio uniform in ``sir_range``, exact over the
    whole clip. Silent targets or interferers are left untouched too.

    Arguments
    ---------
    rir_files : manifest, folder, list of files, or AudioPool
        RIRs; each is read once at construction to find its DRR floor (RIRs without a tail are
        never used).
    speech_files : manifest, folder, list of files, AudioPool, or None
        Interfering utterances (random crop, or zero-padded at a random offset when short).
        ``None`` takes another example of the batch instead (``others`` rolled by one); a batch of
        one is then left untouched.
    sir_range : (float, float) dB
    drr_delta_range : (float, float) dB, > 0
    drr_range : (float, float) dB, for dry targets
    prob : float
        Chance per example.
    sample_rate : int
    direct_window_ms : float
        Direct part of an RIR (see :func:`maese.acoustics.direct_path_split`).
    max_cache_seconds : float
        Memory bound of each pool.
    seed : int or None
    """

    FLOOR_MARGIN_DB = 0.05

    def __init__(
        self, rir_files, speech_files=None, sir_range=(0.0, 15.0), drr_delta_range=(3.0, 10.0),
        drr_range=(-6.0, 6.0), prob=1.0, sample_rate=16000, direct_window_ms=2.5,
        max_cache_seconds=3600.0, seed=None,
    ):
        super().__init__(prob, seed)
        self.sir_range = check_range("sir_range", sir_range)
        self.drr_delta_range = check_range("drr_delta_range", drr_delta_range, low=0.0, low_open=True)
        self.drr_range = check_range("drr_range", drr_range)
        self.rirs = as_pool(rir_files, sample_rate, max_cache_seconds, "RIR pool")
        self.speech = None
        if speech_files is not None:
            self.speech = as_pool(speech_files, sample_rate, max_cache_seconds, "speech pool")
        self.sample_rate = sample_rate
        self.direct_window_ms = direct_window_ms
        # One pass over the RIR pool: the lowest DRR each RIR reaches with its direct peak kept.
        chunks = torch.arange(len(self.rirs)).split(64)
        self.drr_floor = torch.cat([drr_floor_db(self.rirs.clips(c), sample_rate, direct_window_ms) for c in chunks])
        if torch.isinf(self.drr_floor).all():
            raise ValueError("RIR pool: no RIR has a reverberant tail, so no interferer can be placed farther.")

    def __call__(self, x, generator=None, lengths=None, target_drr_db=None, others=None):
        """Distort ``x [batch, time]``.

        Arguments
        ---------
        target_drr_db : torch.Tensor ``[batch]`` or None
            DRR of each target (inf = dry); ``None``: all dry.
        others : torch.Tensor ``[batch, time]`` or None
            Batch the interferers come from when there is no speech pool (default ``x``); the
            stack passes the batch before any distortion.

        Returns
        -------
        (``[batch, time]``, params): ``applied`` bool, ``sir_db`` (inf where untouched),
        ``drr_db`` of the interferer (NaN where untouched), ``target_drr_db``, ``rir_index``
        (-1 where untouched), each ``[batch]`` on ``x``'s device.
        """
        generator, mask, applied = self.begin(x, generator, lengths)
        batch, time = x.shape
        target = torch.full((batch,), math.inf) if target_drr_db is None else target_drr_db.float().cpu()
        sir = uniform(generator, self.sir_range, batch)
        drr = torch.where(
            torch.isfinite(target),
            target - uniform(generator, self.drr_delta_range, batch),
            uniform(generator, self.drr_range, batch),
        )
        feasible = self.drr_floor + self.FLOOR_MARGIN_DB <= drr.unsqueeze(1)
        reachable = feasible.any(dim=1)
        weights = feasible.float() + ~reachable.unsqueeze(1)
        rir_index = torch.multinomial(weights, 1, generator=generator).squeeze(1)
        applied &= reachable
        if self.speech is None:
            applied &= batch > 1
        else:
            speech_index = torch.randint(len(self.speech), (batch,), generator=generator)
            position = torch.rand(batch, generator=generator)
        applied &= ~is_silent(x).cpu()
        y = x.clone()
        rows = applied.nonzero().squeeze(1)
        if len(rows):
            on_device = rows.to(x.device)
            if self.speech is None:
                source = (x if others is None else others).roll(1, dims=0)[on_device]
            else:
                source = self.speech.segments(speech_index[rows], position[rows], time, tile=False).to(x)
            rirs = self.rirs.clips(rir_index[rows]).to(x)
            rirs = set_drr(rirs, drr[rows].to(x.device), self.sample_rate, self.direct_window_ms)
            add_at_ratio(y, x, rows, convolve_aligned(source, rirs), sir[rows], mask, applied)
        params = {
            "applied": applied,
            "sir_db": torch.where(applied, sir, math.inf),
            "drr_db": torch.where(applied, drr, math.nan),
            "target_drr_db": target,
            "rir_index": torch.where(applied, rir_index, -1),
        }
        return y, {key: value.to(x.device) for key, value in params.items()}
