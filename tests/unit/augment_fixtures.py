"""Synthetic audio for the augmentation tests: noise and RIR files in a temporary folder, speech-like batches."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

RATE = 16000
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "speechbrain"


def write(path, data, rate=RATE):
    """Write ``data`` as a float wav file and return its path as a string."""
    sf.write(str(path), np.asarray(data, dtype=np.float32), rate, subtype="FLOAT")
    return str(path)


def noise_files(folder, seconds=(0.25, 1.5, 3.0), seed=0):
    """White and random-walk noises of the given durations."""
    rng = np.random.default_rng(seed)
    paths = []
    for i, duration in enumerate(seconds):
        noise = rng.standard_normal(int(duration * RATE))
        if i % 2:
            noise = np.cumsum(noise)
            noise -= noise.mean()
        paths.append(write(Path(folder) / f"noise{i}.wav", 0.5 * noise / np.abs(noise).max()))
    return paths


def synthetic_rir(peak=200, t60=0.3, length=4800, tail_gain=0.2, reflection=None, seed=0):
    """Exponentially decaying noise tail after a direct impulse (1.0) at sample ``peak``.

    ``reflection = (delay, gain)`` adds a strong early reflection ``delay`` samples after the peak.
    """
    rng = np.random.default_rng(seed)
    rir = np.zeros(length)
    t = np.arange(length - peak - 1) / RATE
    rir[peak + 1 :] = tail_gain * rng.standard_normal(len(t)) * np.exp(-6.9 * t / t60)
    rir[peak] = 1.0
    if reflection is not None:
        rir[peak + reflection[0]] = reflection[1]
    return rir


def rir_files(folder, seed=0):
    """Four RIRs with different direct-peak delays, decay times and levels."""
    specs = [(50, 0.2, 3000, 0.15), (300, 0.4, 6000, 0.2), (800, 0.6, 9600, 0.1), (120, 0.3, 4800, 0.3)]
    return [
        write(Path(folder) / f"rir{i}.wav", 0.7 * synthetic_rir(p, t60, n, g, seed=seed + i))
        for i, (p, t60, n, g) in enumerate(specs)
    ]


def speech_like(batch, time, seed=0):
    """``[batch, time]`` harmonic tones with a syllabic (4 Hz) envelope and a little noise."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(time) / RATE
    f0 = 100 + 150 * torch.rand(batch, 1, generator=g)
    phase = 2 * torch.pi * torch.rand(batch, 1, generator=g)
    voiced = sum(torch.sin(2 * torch.pi * k * f0 * t + k * phase) / k for k in range(1, 6))
    envelope = 0.5 * (1 + torch.sin(2 * torch.pi * 4 * t + phase)) ** 2
    return 0.2 * voiced * envelope + 0.005 * torch.randn(batch, time, generator=g)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Run a test module on one torch thread: the clips are small, and on a busy 2-core machine
    OpenMP's thread hand-offs cost far more than the work. The previous setting is restored."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def band_db(x, low, high):
    """Mean power (dB) of ``x [batch, time]`` at RATE between ``low`` and ``high`` Hz -> ``[batch]``."""
    power = torch.fft.rfft(x.double(), dim=-1).abs().pow(2)
    freqs = torch.fft.rfftfreq(x.shape[-1], 1.0 / RATE)
    return 10 * torch.log10(power[:, (freqs >= low) & (freqs < high)].mean(dim=-1))
