"""Each noise of a folder (``noise*.wav``) fed alone to enhancers: per band, the output's power over the input's (dB).

The first 6 s of each noise, scaled to -30 dBFS RMS, whole (no chunks); bands and STFT as tools/pause_noise.py.

    python recipes/DNS/summaries/real_floor_2026-12-06/noise_alone.py ../shared/data/speechbrain/noise NAME=EXPERIMENT ...
"""

import sys
from pathlib import Path

import numpy as np
import torch

from maese.audio import load_audio
from maese.inference import Enhancer

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tools"))
from pause_noise import BANDS, RATE, band_sums, power_spectrogram  # noqa: E402

LEVEL_DBFS, SECONDS = -30.0, 6

noise_folder, experiments = Path(sys.argv[1]), dict(arg.split("=", 1) for arg in sys.argv[2:])
models = {name: Enhancer.from_experiment(path, chunk_seconds=None) for name, path in experiments.items()}
print("| noise | model | " + " | ".join(f"{band} Hz" for band in BANDS) + " |")
print("| --- | --- |" + " ---: |" * len(BANDS))
for path in sorted(noise_folder.glob("noise*.wav")):
    noise = load_audio(path, RATE)[: SECONDS * RATE].numpy()
    noise *= 10 ** (LEVEL_DBFS / 20) / np.sqrt(np.mean(noise**2))
    before = band_sums(power_spectrogram(noise))[:-1]
    for name, enhancer in models.items():
        out = enhancer.enhance(torch.from_numpy(noise), RATE).numpy()
        change = 10 * torch.log10(band_sums(power_spectrogram(out))[:-1] / before)
        print(f"| {path.name} | {name} | " + " | ".join(f"{value:.1f}" for value in change.tolist()) + " |")
