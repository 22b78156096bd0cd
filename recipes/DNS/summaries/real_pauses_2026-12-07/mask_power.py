"""Enhance a folder with a model whose mask is deepened where it is below 1: mask * min(mask, 1) ** (power - 1)
(power 1: the model as trained). Whether the noise left in pauses is the tail of a mask that already suppresses
there (it would go) or a mask near 1 (it stays). The model's own chunking (maese-enhance's default).

    python summaries/real_pauses_2026-12-07/mask_power.py --model EXP --power 2 --noisy SET/noisy --out DIR
"""

import argparse
from pathlib import Path

import soundfile as sf
import torch
from torch import nn

from maese.inference import Enhancer


class DeepenedMask(nn.Module):
    """A mask head's output logits ``[B, T, freq_bins + extra]`` with the mask part deepened below 1."""

    def __init__(self, head, freq_bins, mask_max, power):
        super().__init__()
        self.head, self.freq_bins, self.mask_max, self.power = head, freq_bins, mask_max, power

    def forward(self, frames, spec):
        out = self.head(frames, spec)
        mask = self.mask_max * torch.sigmoid(out[..., : self.freq_bins])
        mask = mask * mask.clamp(max=1.0) ** (self.power - 1)
        share = (mask / self.mask_max).clamp(1e-7, 1 - 1e-7)
        return torch.cat([torch.logit(share), out[..., self.freq_bins:]], dim=-1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="fine-tuning experiment folder (a mask head)")
    parser.add_argument("--power", type=float, required=True)
    parser.add_argument("--noisy", required=True, help="folder of wav files")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    enhancer = Enhancer.from_experiment(args.model)
    model = enhancer.model
    model.head = DeepenedMask(model.head, model.freq_bins, model.mask_max, args.power)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(args.noisy).glob("*.wav")):
        wav, rate = sf.read(path, dtype="float32")
        sf.write(Path(args.out) / path.name, enhancer.enhance(torch.from_numpy(wav), rate).numpy(), rate,
                 subtype="FLOAT")


if __name__ == "__main__":
    main()
