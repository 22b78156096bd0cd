"""Speed perturbation: each example resampled so that it plays ``factor`` times faster, its pitch and formants
shifted alike (Ko et al., 2015, "Audio augmentation for speech recognition"; the 0.9 / 1.0 / 1.1 of Kaldi and
ESPnet). Applied to clean speech before it is distorted, it gives a fine-tuning on a few speakers other voices: a
child's formants brought down towards an adult's, a low voice raised.
"""

import torch
import torchaudio

from maese.augment.base import Distortion


def check_factors(factors):
    """``factors`` as a tuple of speeds in [0.5, 2], each a whole number of hundredths; ValueError otherwise."""
    try:
        speeds = tuple(float(f) for f in factors)
    except (TypeError, ValueError):
        raise ValueError(f"speed factors must be a list of numbers, e.g. [0.9, 1.0, 1.1], got {factors!r}.") from None
    if not speeds or any(not 0.5 <= f <= 2.0 or abs(f * 100 - round(f * 100)) > 1e-6 for f in speeds):
        raise ValueError(f"speed factors must lie within [0.5, 2.0] in steps of 0.01, e.g. [0.9, 1.0, 1.1], "
                         f"got {factors!r}.")
    return speeds


def change_speed(x, factor):
    """``x [n, time]`` played ``factor`` times faster (torchaudio's band-limited resampling) -> ``[n, time']`` with
    ``time' = ceil(time / factor)``."""
    # the rates in whole hundredths: torchaudio.functional.speed truncates factor x rate to an int, so a float32
    # factor such as 1.15 (1.1499999762) would give 18399 / 16000 Hz, an odd ratio with a long kernel
    hundredths = round(factor * 100)
    return x if hundredths == 100 else torchaudio.functional.resample(x, orig_freq=hundredths, new_freq=100)


class SpeedPerturb(Distortion):
    """Each example sped up or slowed down by a factor drawn uniformly from ``factors``.

    The batch keeps its shape ``[batch, time]``: an example made longer than ``time`` loses its end, a shorter one is
    padded with zeros, and the new relative lengths are returned with the draws.

    Arguments
    ---------
    factors : sequence of float
        Speeds, e.g. (0.9, 1.0, 1.1): 0.9 plays 10% slower and lower.
    prob : float
        Chance per example (an example not drawn keeps factor 1).
    seed : int or None
    """

    def __init__(self, factors, prob=1.0, seed=None):
        super().__init__(prob, seed)
        self.factors = check_factors(factors)

    def __call__(self, x, generator=None, lengths=None):
        """Perturb ``x [batch, time]``.

        Returns
        -------
        (``[batch, time]``, params): ``applied`` bool, ``factor`` (1 where untouched) and ``lengths`` (the new
        relative lengths, in (0, 1]), each ``[batch]`` on ``x``'s device.
        """
        generator, _, applied = self.begin(x, generator, lengths)
        choice = torch.randint(len(self.factors), (x.shape[0],), generator=generator)
        factor = torch.where(applied, torch.tensor(self.factors)[choice], 1.0)
        samples = torch.full((x.shape[0],), x.shape[1]) if lengths is None else torch.round(
            torch.as_tensor(lengths).cpu() * x.shape[1]).long()
        y, new_samples = x.clone(), samples.clone()
        for row in torch.nonzero(factor != 1.0).squeeze(1).tolist():  # each over its own length, not the padding
            changed = change_speed(x[row, : samples[row]], float(factor[row]))[: x.shape[1]]
            y[row] = 0.0
            y[row, : changed.shape[0]] = changed
            new_samples[row] = changed.shape[0]
        params = {"applied": applied, "factor": factor, "lengths": new_samples.float() / x.shape[1]}
        return y, {name: value.to(x.device) for name, value in params.items()}
