"""Waveform augmentation stack of MAE pre-training: reverberation, interferer, noise, clipping.

Every distortion works on batches ``[batch, time]`` (CPU or CUDA), draws all its randomness from a
CPU ``torch.Generator`` (passed per call, as an int seed, or its own), and returns
``(augmented [batch, time], params)`` with per-example ``[batch]`` tensors.
"""

from maese.augment.clipping import Clip
from maese.augment.interferer import AddInterferer
from maese.augment.noise import AddNoise
from maese.augment.reverb import Reverberate, convolve_aligned
from maese.augment.sources import AudioPool
from maese.augment.stack import Stack

__all__ = ["AddInterferer", "AddNoise", "AudioPool", "Clip", "Reverberate", "Stack", "convolve_aligned"]
