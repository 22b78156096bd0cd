"""How the speech of several folders differs per band: its long-term spectrum and its recording floor.

Per folder and band (the bands of tools/pause_noise.py, and 4-8 kHz split at 7 kHz), over every ``--every``-th file
(any rate, read at 16 kHz mono): the spectrum level, 10·log10 of the band's mean power per bin over the mean power
per bin of 300-3000 Hz, both over the files' active frames (within 30 dB of the file's loudest); and the floor,
10·log10 of the band's mean power in the pause frames (40 dB or more under the loudest, as tools/pause_noise.py)
over its mean power in the active frames, over the files that hold a pause frame. Each file counts alike (the
means of its ratios).

    python speech_spectra.py --folders ../../../shared/data/real/speech/train ../../../shared/data/ljspeech \\
        ../../../shared/data/speechbrain/speech --every 20 1 1 --out speech_spectra.md
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from maese.audio import load_audio
from maese.dataio import list_audio_files

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tools"))
from pause_noise import PAUSE_RATIO, RATE, power_spectrogram  # noqa: E402

ACTIVE_RATIO = 1e-3  # an active frame is within 30 dB of the file's loudest
EDGES_HZ = [0, 125, 250, 500, 1000, 2000, 4000, 7000, 8000]
SPEECH_BAND_HZ = (300, 3000)  # the reference band of the spectrum levels


def band_means(power, frames, lo_hz, hi_hz):
    """Mean power per bin and frame of ``power [bins, frames]`` between ``lo_hz`` and ``hi_hz``, over ``frames``."""
    freqs = np.linspace(0, RATE / 2, power.shape[0])
    return float(power[(freqs >= lo_hz) & (freqs < hi_hz)][:, frames].mean())


def folder_profile(files):
    """``(spectrum [bands], floor [bands], files with pauses)``, dB: the spectrum the mean over ``files`` of each
    file's ratios, the floor that over the files that hold a pause frame."""
    spectrum, floor, with_pauses = np.zeros(len(EDGES_HZ) - 1), np.zeros(len(EDGES_HZ) - 1), 0
    for path in files:
        power = power_spectrogram(load_audio(path, RATE).numpy()).numpy()
        frame_power = power.sum(0)
        active = frame_power > ACTIVE_RATIO * frame_power.max()
        pause = frame_power < PAUSE_RATIO * frame_power.max()
        reference = band_means(power, active, *SPEECH_BAND_HZ)
        with_pauses += bool(pause.any())
        for i, (lo, hi) in enumerate(zip(EDGES_HZ[:-1], EDGES_HZ[1:])):
            spectrum[i] += band_means(power, active, lo, hi) / reference / len(files)
            if pause.any():
                floor[i] += band_means(power, pause, lo, hi) / band_means(power, active, lo, hi)
    return 10 * np.log10(spectrum), 10 * np.log10(floor / max(with_pauses, 1)), with_pauses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folders", nargs="+", required=True)
    parser.add_argument("--every", nargs="+", type=int, help="every N-th file of each folder (default 1)")
    parser.add_argument("--out", required=True, help="markdown table (refused if it exists)")
    args = parser.parse_args(argv)
    every = args.every or [1] * len(args.folders)
    if len(every) != len(args.folders):
        parser.error("--every takes one number per folder.")
    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"{out} exists; give another --out or remove it.")
    bands = [f"{lo}-{hi}" for lo, hi in zip(EDGES_HZ[:-1], EDGES_HZ[1:])]
    lines = ["| folder | files | what (dB) | " + " | ".join(f"{b} Hz" for b in bands) + " |",
             "| --- | ---: | --- |" + " ---: |" * len(bands)]
    for folder, n in zip(args.folders, every):
        files = list_audio_files(folder)[::n]
        spectrum, floor, with_pauses = folder_profile(files)
        lines.append(f"| {folder} | {len(files)} | spectrum re 300-3000 Hz | "
                     + " | ".join(f"{v:.1f}" for v in spectrum) + " |")
        lines.append(f"| | {with_pauses} with pauses | pause floor re active speech | "
                     + " | ".join(f"{v:.1f}" for v in floor) + " |")
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
