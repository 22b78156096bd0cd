"""The mask a model puts on the noisy input in pause frames and in speech frames, per band: the mean of the mask
(linear) over those frames and that band's bins, in dB (20 log10). Whole files in one pass (no chunking); frames as
in tools/pause_noise.py (clean power under -40 dB re the file's loudest frame).

    python summaries/real_pauses_2026-12-07/mask_bands.py --model EXP --ref SET/clean --noisy SET/noisy --out F.md
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tools"))
from pause_noise import PAUSE_RATIO, power_spectrogram  # noqa: E402

from maese.inference import Enhancer  # noqa: E402

EDGES_HZ = (0, 125, 250, 500, 1000, 2000, 4000, 8000)


def band_means(mask, edges_hz=EDGES_HZ, bin_hz=31.25):
    """``[frames, bins]`` -> ``[frames, bands]``: the mean over each band's bins."""
    bins = [min(round(hz / bin_hz), mask.shape[1]) for hz in edges_hz]
    return np.stack([mask[:, lo:hi].mean(axis=1) for lo, hi in zip(bins[:-1], bins[1:])], axis=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="fine-tuning experiment folder (a mask head)")
    parser.add_argument("--ref", required=True)
    parser.add_argument("--noisy", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model = Enhancer.from_experiment(args.model).model
    sums = {"pause": 0.0, "speech": 0.0}
    counts = dict.fromkeys(sums, 0)
    refs = sorted(Path(args.ref).glob("*.wav"))
    for ref in refs:
        clean = power_spectrogram(sf.read(ref, dtype="float32")[0]).sum(0).numpy()
        pause = clean < PAUSE_RATIO * clean.max()
        noisy = torch.from_numpy(sf.read(Path(args.noisy) / ref.name, dtype="float32")[0])
        with torch.inference_mode():
            mask = band_means(model(noisy[None]).mask[0].numpy())
        n = min(len(pause), len(mask))
        for kind, frames in (("pause", pause[:n]), ("speech", ~pause[:n])):
            sums[kind] = sums[kind] + mask[:n][frames].sum(axis=0)
            counts[kind] += int(frames.sum())
    names = [f"{lo}-{hi} Hz" for lo, hi in zip(EDGES_HZ[:-1], EDGES_HZ[1:])]
    lines = [f"Mean mask of `{args.model}` per band, dB ({len(refs)} files of `{args.noisy}`)", "",
             "| frames | count | " + " | ".join(names) + " |", "| --- | ---: |" + " ---: |" * len(names)]
    lines += [f"| {kind} | {counts[kind]} | " + " | ".join(f"{20 * np.log10(v / counts[kind]):.1f}"
                                                          for v in sums[kind]) + " |" for kind in sums]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
