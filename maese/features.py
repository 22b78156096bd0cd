"""Spectral features: STFT <-> ISTFT, magnitude/phase, and magnitude compressions with exact inverses."""

import torch
from torch import nn


class STFT(nn.Module):
    """Short-time Fourier transform and its inverse (overlap-add), Hann window by default.

    Arguments
    ---------
    sample_rate : int
        Kept for reference (frame times); the transform itself is rate-agnostic.
    n_fft : int
        FFT size; ``n_fft // 2 + 1`` frequency bins.
    hop_length : int
    win_length : int
    window : str
        ``hann`` or ``hamming``.
    """

    WINDOWS = {"hann": torch.hann_window, "hamming": torch.hamming_window}

    def __init__(self, sample_rate=16000, n_fft=512, hop_length=128, win_length=512, window="hann"):
        super().__init__()
        if window not in self.WINDOWS:
            raise ValueError(f"Unknown STFT window {window!r}; use one of {sorted(self.WINDOWS)}.")
        if not 0 < hop_length <= win_length <= n_fft:
            raise ValueError(
                f"STFT sizes must satisfy 0 < hop_length ({hop_length}) <= win_length ({win_length}) <= n_fft ({n_fft})."
            )
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.register_buffer("window", self.WINDOWS[window](win_length), persistent=False)

    @property
    def n_freq(self):
        """Number of frequency bins."""
        return self.n_fft // 2 + 1

    def num_frames(self, num_samples):
        """Frames produced for ``num_samples`` samples (centred frames)."""
        return num_samples // self.hop_length + 1

    def forward(self, wav):
        """``[batch, time]`` (or ``[time]``) float -> complex ``[batch, frames, freq]`` (or ``[frames, freq]``)."""
        spec = torch.stft(
            wav,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window.to(wav.device),
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        return spec.transpose(-1, -2)

    def inverse(self, spec, length):
        """Complex ``[batch, frames, freq]`` -> ``[batch, length]`` by windowed overlap-add."""
        return torch.istft(
            spec.transpose(-1, -2),
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window.to(spec.device),
            center=True,
            length=length,
        )


def magnitude_phase(spec):
    """Complex spectrogram -> ``(magnitude, phase)``, both real with the same shape."""
    return spec.abs(), spec.angle()


def polar(magnitude, phase):
    """``(magnitude, phase)`` -> complex spectrogram (inverse of :func:`magnitude_phase`)."""
    return torch.polar(magnitude, phase)


class Compression:
    """A magnitude compression ``c = f(|X|)`` and its exact inverse ``|X| = f^-1(c)``."""

    name = "none"

    def compress(self, magnitude):
        """Magnitude ``[...]`` (>= 0) -> compressed ``[...]``."""
        return magnitude

    def decompress(self, compressed):
        """Compressed ``[...]`` -> magnitude ``[...]``."""
        return compressed


class Log1pCompression(Compression):
    """``log(1 + |X|)`` as in the paper."""

    name = "log1p"

    def compress(self, magnitude):
        return torch.log1p(magnitude)

    def decompress(self, compressed):
        return torch.expm1(compressed).clamp_min(0.0)


class LogCompression(Compression):
    """``log(|X| + eps)``."""

    name = "log"

    def __init__(self, eps=1e-5):
        if eps <= 0:
            raise ValueError(f"log compression needs eps > 0, got {eps}.")
        self.eps = eps

    def compress(self, magnitude):
        return torch.log(magnitude + self.eps)

    def decompress(self, compressed):
        return (torch.exp(compressed) - self.eps).clamp_min(0.0)


class PowerCompression(Compression):
    """Power law ``|X| ** exponent`` (0 < exponent <= 1), e.g. 0.3."""

    name = "power"

    def __init__(self, exponent=0.3):
        if not 0 < exponent <= 1:
            raise ValueError(f"power compression needs 0 < exponent <= 1, got {exponent}.")
        self.exponent = exponent

    def compress(self, magnitude):
        return magnitude.clamp_min(0.0).pow(self.exponent)

    def decompress(self, compressed):
        return compressed.clamp_min(0.0).pow(1.0 / self.exponent)


COMPRESSIONS = {c.name: c for c in (Compression, Log1pCompression, LogCompression, PowerCompression)}


def get_compression(name, **kwargs):
    """Build a compression by name: ``log1p``, ``log``, ``power`` or ``none``."""
    if name not in COMPRESSIONS:
        raise ValueError(f"Unknown compression {name!r}; use one of {sorted(COMPRESSIONS)}.")
    return COMPRESSIONS[name](**kwargs)
