"""Minimum-statistics noise floor of a spectrogram: a noise-aware input for the enhancement head.

A steady noise (hum, whine, rumble) looks, frame by frame, like a voiced harmonic; what gives it away is that
it never stops. Per bin, the minimum over a window of about a second of the (lightly smoothed) magnitude
tracks the noise and ignores speech, which leaves gaps between syllables: the idea of minimum statistics
(R. Martin, "Noise power spectral density estimation based on optimal smoothing and minimum statistics",
IEEE TSAP 2001), given to the network as a noise estimate as in noise-aware training (M. Seltzer, D. Yu and
Y. Wang, "An investigation of deep neural networks for noise robust speech recognition", ICASSP 2013).
"""

import torch
from torch import nn
from torch.nn import functional as F


class NoiseFloor(nn.Module):
    """``[B, T, F]`` -> ``[B, T, F]``: per bin, the minimum over ``window_frames`` frames (centred) of the input
    averaged over ``smooth_frames`` frames (centred). No parameters.

    Any monotonic compression commutes with the minimum, so it may run on the compressed magnitude. At the
    edges the windows are cut short (an input shorter than a window gets its minimum over what there is).

    Arguments
    ---------
    window_frames : int
        Odd number of frames of the minimum's window (187 frames: 1.5 s at a 128-sample hop at 16 kHz).
    smooth_frames : int
        Odd number of frames of the moving average before the minimum (keeps single weak frames out).

    Example
    -------
    >>> floor = NoiseFloor(window_frames=5, smooth_frames=1)
    >>> floor(torch.tensor([[[3.0], [1.0], [4.0], [1.0], [5.0], [9.0], [2.0], [6.0]]]))[0, :, 0].tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, window_frames=187, smooth_frames=5):
        super().__init__()
        for name, value in (("window_frames", window_frames), ("smooth_frames", smooth_frames)):
            if int(value) != value or value < 1 or value % 2 == 0:
                raise ValueError(f"NoiseFloor: {name} must be an odd whole number >= 1, got {value!r}.")
        self.window_frames, self.smooth_frames = int(window_frames), int(smooth_frames)

    def forward(self, spec):
        """``spec [B, T, F]`` (T >= 1) -> its noise floor ``[B, T, F]``."""
        x = spec.transpose(1, 2)  # [B, F, T]
        if self.smooth_frames > 1:
            x = F.avg_pool1d(x, self.smooth_frames, stride=1, padding=self.smooth_frames // 2,
                             count_include_pad=False)
        x = -F.max_pool1d(-x, self.window_frames, stride=1, padding=self.window_frames // 2)
        return x.transpose(1, 2)
