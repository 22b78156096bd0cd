"""Clipping ``d(s) = max(min(s, g * peak), -g * peak)`` with ``g`` relative to each example's peak."""

import torch

from maese.augment.base import Distortion, check_range, uniform


class Clip(Distortion):
    """Clip each example at ``g`` times its own peak, ``g`` uniform in ``clip_range``.

    Arguments
    ---------
    clip_range : (float, float) within (0, 1]
        Range of ``g``; 1 leaves the signal unchanged.
    prob : float
        Chance per example.
    seed : int or None
    """

    def __init__(self, clip_range=(0.1, 1.0), prob=1.0, seed=None):
        super().__init__(prob, seed)
        self.clip_range = check_range("clip_range", clip_range, low=0.0, high=1.0, low_open=True)

    def __call__(self, x, generator=None, lengths=None):
        """Distort ``x [batch, time]``; ``lengths`` is only checked (padding is zero and stays so).

        Returns
        -------
        (``[batch, time]``, params): ``applied`` bool and ``g`` (1 where untouched), each
        ``[batch]`` on ``x``'s device. ``|output| <= g * peak`` holds exactly.
        """
        generator, _, applied = self.begin(x, generator, lengths)
        g = torch.where(applied, uniform(generator, self.clip_range, x.shape[0]), 1.0).to(x)
        level = (g * x.abs().amax(dim=-1)).unsqueeze(-1)
        return torch.clamp(x, -level, level), {"applied": applied.to(x.device), "g": g}
