#!/usr/bin/env python3
"""Clean speech through a trained enhancer: how much it damages a clip with nothing to remove.

Per folder of clean speech, the PESQ (wide-band) of the enhanced clip against the clip itself, its drop
from the PESQ of the untouched clips (about 4.64; the inference issue's target is a drop under 0.3), and
the level change in dB (output energy over input energy; target about 0). Clips are read at 16 kHz (resampled), mono.

    python tools/check_clean_speech.py --model recipes/DNS/results/small/finetune_denoise_p0.1 \\
        --folders data/embedded_small/valid_set/denoise/clean ../shared/data/ljspeech --max-files 30

``--baselines deepfilternet3 rnnoise`` adds rows for the peers (or the classical methods) of
:data:`maese.baselines.BASELINES`, through the same clips.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from maese.audio import load_audio
from maese.baselines import BASELINES
from maese.dataio import list_audio_files
from maese.inference import Enhancer
from maese.metrics import PESQ_RATE, pesq_wb

class Identity:
    """An enhancer that returns its input: the PESQ of untouched clips, which the drop is measured from."""

    def enhance(self, wav, sample_rate):
        return wav


class Baseline:
    """A method of :data:`maese.baselines.BASELINES` (a peer or a classical method) as an enhancer."""

    def __init__(self, name):
        self.method = BASELINES[name]

    def enhance(self, wav, sample_rate):
        return torch.as_tensor(self.method(wav, sample_rate))


def clean_speech_damage(enhancer, files):
    """``(PESQ [n], level change in dB [n])`` of each file enhanced by ``enhancer``, against itself."""
    pesq, level = [], []
    for path in tqdm(files, desc="clean speech", unit="file", leave=False):
        clip = load_audio(path, PESQ_RATE)
        out = enhancer.enhance(clip, PESQ_RATE).reshape(-1)
        pesq.append(pesq_wb(clip.numpy(), out.numpy(), PESQ_RATE))
        level.append(float(10 * torch.log10(out.pow(2).sum() / clip.pow(2).sum())))
    return np.array(pesq), np.array(level)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs="+", default=[], help="experiment folders (fine-tuning outputs)")
    parser.add_argument("--baselines", nargs="+", default=[], choices=sorted(BASELINES),
                        help="peers or classical methods through the same clips (e.g. deepfilternet3 rnnoise)")
    parser.add_argument("--folders", nargs="+", required=True, help="folders of clean speech")
    parser.add_argument("--max-files", type=int, default=30, help="first N files of each folder (sorted)")
    args = parser.parse_args(argv)
    if not args.model and not args.baselines:
        parser.error("give --model EXPERIMENT ... and/or --baselines NAME ...")
    torch.set_num_threads(1)
    sets, untouched = {}, {}  # files per folder; mean PESQ of each folder's clips against themselves
    for folder in map(Path, args.folders):
        files = list_audio_files(folder)[: args.max_files]  # sub-folders too (one per speaker)
        if not files:
            sys.exit(f"{folder}: no audio files (.wav, .flac, .ogg, sub-folders included); give a folder of speech.")
        sets[folder] = files
        untouched[folder] = clean_speech_damage(Identity(), files)[0].mean()
    print("| system | clean speech | files | PESQ vs itself | PESQ drop | level change (dB) | worst level (dB) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    systems = [(model, Enhancer.from_experiment) for model in args.model] + [(name, Baseline) for name in args.baselines]
    for name, make_enhancer in systems:  # a model folder named like a baseline is still a model
        enhancer = make_enhancer(name)
        for folder, files in sets.items():
            pesq, level = clean_speech_damage(enhancer, files)
            worst = level[np.abs(level).argmax()]
            print(f"| {name} | {folder} | {len(files)} | {pesq.mean():.2f} ± {pesq.std():.2f} | "
                  f"{untouched[folder] - pesq.mean():.2f} | {level.mean():+.2f} | {worst:+.2f} |", flush=True)


if __name__ == "__main__":
    main()
