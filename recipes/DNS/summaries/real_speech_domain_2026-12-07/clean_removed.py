"""What enhancers take from *clean* speech, per band: in its pauses and where it is loud.

Each file of a folder (any rate, read at 16 kHz mono) goes through each system; per band, 10·log10 of the output's
power over the input's, summed over the files' pause frames (power 40 dB or more under the file's loudest frame, as
tools/pause_noise.py) and over their loud frames (within 20 dB of it). Negative: removed.

    python clean_removed.py --folders ../../../shared/data/real/speech/valid ../../../shared/data/ljspeech \
        --every 17 3 --systems rnnoise deepfilternet3 wiener --model NAME=EXPERIMENT ...
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from maese.audio import load_audio
from maese.baselines import BASELINES
from maese.dataio import list_audio_files
from maese.inference import Enhancer
from maese.scoring import parse_named_folders

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tools"))
from pause_noise import BANDS, PAUSE_RATIO, RATE, band_sums, power_spectrogram  # noqa: E402

LOUD_RATIO = 1e-2  # a loud frame is within 20 dB of the file's loudest


def removed(files, systems):
    """``{system: {"pause": [8], "loud": [8]}}``: output over input power (dB) per band (then all bins), summed over
    ``files``; each file is read and transformed once for every system."""
    sums = {name: {kind: np.zeros((2, len(BANDS) + 1)) for kind in ("pause", "loud")} for name in systems}
    for path in files:
        clean = load_audio(path, RATE).numpy()
        before = power_spectrogram(clean)
        frame_power = before.sum(0)
        frames = {"pause": frame_power < PAUSE_RATIO * frame_power.max(),
                  "loud": frame_power > LOUD_RATIO * frame_power.max()}
        for name, enhance in systems.items():
            after = power_spectrogram(np.asarray(enhance(clean), dtype=np.float32)[: clean.size])
            for kind, keep in frames.items():
                sums[name][kind] += np.stack([band_sums(before[:, keep]).numpy(), band_sums(after[:, keep]).numpy()])
    return {name: {kind: 10 * np.log10(s[1] / s[0]) for kind, s in by_kind.items()} for name, by_kind in sums.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folders", type=Path, nargs="+", required=True)
    parser.add_argument("--every", type=int, nargs="+", help="per folder: keep every N-th file (sorted)")
    parser.add_argument("--systems", nargs="*", default=[], choices=sorted(BASELINES))
    parser.add_argument("--model", nargs="*", default=[], metavar="NAME=EXPERIMENT")
    args = parser.parse_args()
    systems = {name: (lambda wav, f=BASELINES[name]: f(wav, RATE)) for name in args.systems}
    for name, path in parse_named_folders(args.model, set(systems), "--model").items():
        model = Enhancer.from_experiment(path)
        systems[name] = lambda wav, m=model: m.enhance(torch.from_numpy(wav), RATE).numpy()
    every = args.every or [1] * len(args.folders)
    print("| clean speech | files | system | frames | " + " | ".join(f"{b} Hz" for b in BANDS) + " | all |")
    print("| --- | ---: | --- | --- |" + " ---: |" * (len(BANDS) + 1))
    for folder, step in zip(args.folders, every):
        files = list_audio_files(folder)[::step]
        for name, by_kind in removed(files, systems).items():
            for kind, db in by_kind.items():
                print(f"| {folder} | {len(files)} | {name} | {kind} | " + " | ".join(f"{v:.1f}" for v in db) + " |")


if __name__ == "__main__":
    main()
