"""Deep filtering: a complex filter over neighbouring frames per frequency bin (H. Schröter et al., "DeepFilterNet:
a low complexity speech enhancement framework for full-band audio based on deep filtering", ICASSP 2022, after
W. Mack and E. Habets, "Deep filtering", IEEE SPL 2020).

A real mask scales each bin and keeps the noisy phase. At low SNR, and for noise that is itself harmonic, the
phase of a bin is the noise's as much as the speech's; a complex filter over ``order`` frames of the same bin can
also rotate it and draw on the neighbouring frames, where a voiced harmonic is predictable and the noise is not.
DeepFilterNet applies it below 5 kHz, where the harmonics are resolved; above, a gain suffices.
"""

import torch
from torch import nn
from torch.nn import functional as F


class DeepFilter(nn.Module):
    """Filter the lowest ``bins`` bins of a complex spectrogram over ``order`` frames; the other bins pass as they are.

    ``out[t, f] = sum_j coefs[t, f, j] * spec[t + j - past, f]`` for ``f < bins``, with ``past = order - 1 -
    lookahead`` (frames outside the clip are zero): tap ``past`` is the current frame. With the coefficients of
    :meth:`identity_outputs` the output is the input.

    Arguments
    ---------
    bins : int
        Lowest bins filtered (160 of a 512-point FFT at 16 kHz: up to 5 kHz).
    order : int
        Frames per filter.
    lookahead : int
        Future frames each filter sees, in ``[0, order)``.

    Example
    -------
    >>> df = DeepFilter(bins=2, order=3, lookahead=1)
    >>> spec = torch.randn(1, 4, 3, dtype=torch.cfloat)
    >>> torch.equal(df(spec, df.coefficients(df.identity_outputs().expand(1, 4, -1))), spec)
    True
    """

    def __init__(self, bins, order=5, lookahead=2):
        super().__init__()
        for name, value, low in (("bins", bins, 1), ("order", order, 1)):
            if int(value) != value or value < low:
                raise ValueError(f"DeepFilter: {name} must be a whole number >= {low}, got {value!r}.")
        if int(lookahead) != lookahead or not 0 <= lookahead < order:
            raise ValueError(f"DeepFilter: lookahead must be a whole number in [0, order={order}), got {lookahead!r}.")
        self.bins, self.order, self.lookahead = int(bins), int(order), int(lookahead)
        self.past = self.order - 1 - self.lookahead

    @property
    def num_outputs(self):
        """Real numbers per frame a network predicts for the coefficients: ``bins x order x 2``."""
        return self.bins * self.order * 2

    def coefficients(self, outputs):
        """``[B, T, num_outputs]`` (real) -> complex coefficients ``[B, T, bins, order]``."""
        return torch.view_as_complex(outputs.reshape(*outputs.shape[:2], self.bins, self.order, 2).contiguous())

    def identity_outputs(self):
        """``[num_outputs]``: the network outputs whose coefficients pass the input through (1 at the current frame)."""
        outputs = torch.zeros(self.bins, self.order, 2)
        outputs[:, self.past, 0] = 1.0
        return outputs.flatten()

    def forward(self, spec, coefs):
        """``spec [B, T, F]`` complex (F >= bins), ``coefs [B, T, bins, order]`` complex -> ``[B, T, F]`` complex."""
        if spec.shape[-1] < self.bins:
            raise ValueError(f"DeepFilter: the spectrogram has {spec.shape[-1]} bins, fewer than bins={self.bins}.")
        padded = F.pad(spec[..., : self.bins].transpose(1, 2), (self.past, self.lookahead))  # [B, bins, T + order - 1]
        frames = padded.unfold(-1, self.order, 1).transpose(1, 2)  # [B, T, bins, order]: frames[t, f, j] at t + j - past
        filtered = (coefs * frames).sum(-1)
        return torch.cat([filtered, spec[..., self.bins:]], dim=-1)
