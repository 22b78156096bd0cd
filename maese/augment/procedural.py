"""Noise made on the fly from the procedural families of :mod:`maese.simulation.noise`.

A recorded noise pool holds a few sources; a procedural family draws its colour, pitch, rates and bands anew for
every segment, so each training example can get a noise no recording holds (hum at any mains pitch, fans, engines,
coloured and babble noise). :class:`AddNoise` uses it for a share of its examples (``procedural_prob``).
"""

import numpy as np
import torch

from maese.simulation.noise import check_families, generate_noise, split_families

TRAINING_FAMILIES = split_families()[0]  # the families the embedded corpus trains on (its OOD ones left out)


class ProceduralNoise:
    """Segments of procedural noise, one family drawn uniformly per segment.

    Arguments
    ---------
    families : sequence of str
        Names from :data:`maese.simulation.noise.NOISE_FAMILIES` (``babble`` uses synthetic talkers) or
        :data:`~maese.simulation.noise.AUGMENTATION_FAMILIES` (``whine``).
    sample_rate : int
    """

    def __init__(self, families=TRAINING_FAMILIES, sample_rate=16000):
        families = tuple(families)
        if not families:
            raise ValueError("procedural noise needs at least one family, e.g. " + ", ".join(TRAINING_FAMILIES))
        check_families(families, augmentation=True)
        self.families = families
        self.sample_rate = sample_rate

    def segments(self, count, num_samples, generator=None):
        """``count`` segments ``[count, num_samples]`` (float32, the families' RMS level); every draw (family and
        its parameters) comes from ``generator``, so a seeded generator repeats them."""
        picks = torch.randint(len(self.families), (count,), generator=generator)
        seeds = torch.randint(2**31 - 1, (count,), generator=generator)
        rows = [generate_noise(self.families[int(pick)], np.random.default_rng(int(seed)), num_samples,
                               self.sample_rate) for pick, seed in zip(picks, seeds)]
        return torch.from_numpy(np.stack(rows)) if rows else torch.zeros(0, num_samples)
