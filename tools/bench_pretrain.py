#!/usr/bin/env python3
"""Pre-training throughput: seconds of audio per second of training, per model size.

Times full training steps (augmentation stack, STFT features, masking, MAE forward/backward, AdamW)
on random speech-like batches, the way MAEPretrainBrain runs them.

    python tools/bench_pretrain.py --sizes tiny small --threads 2
    python tools/bench_pretrain.py --sizes paper --device cuda --batch 64 --seconds 4
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from maese.augment.stack import Stack
from maese.features import STFT, get_compression
from maese.masking import make_mask, patch_grid, unpatchify
from maese.models.mae import SpectrogramMAE, count_parameters


def synthetic_pools(folder, sample_rate):
    """Write a few noise files and exponentially decaying RIRs; return their paths."""
    rng = np.random.default_rng(0)
    noise, rirs = [], []
    for i in range(4):
        noise.append(folder / f"noise{i}.wav")
        sf.write(noise[-1], 0.1 * rng.standard_normal(sample_rate * 5), sample_rate)
        rir = rng.standard_normal(sample_rate // 2) * np.exp(-np.arange(sample_rate // 2) / (0.05 * sample_rate * (i + 1)))
        rir[0] = 3.0
        rirs.append(folder / f"rir{i}.wav")
        sf.write(rirs[-1], rir / np.abs(rir).max(), sample_rate)
    return noise, rirs


def time_steps(size, batch, seconds, steps, device, stack, sample_rate=16000):
    """Seconds of audio trained on per wall-clock second, averaged over ``steps`` after one warm-up."""
    model = SpectrogramMAE.from_preset(size, visible_skip=True).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    stft, comp = STFT().to(device), get_compression("log1p")
    gen = torch.Generator().manual_seed(0)
    wav = 0.1 * torch.randn(batch, int(seconds * sample_rate), device=device)

    def step():
        with torch.no_grad():
            aug, _ = stack(wav, generator=gen)
            x = comp.compress(stft(aug).abs()[..., :256])
            y = comp.compress(stft(wav).abs()[..., :256])
        grid = patch_grid(x.shape[1], x.shape[2], model.patch_size)
        mask = make_mask("random", batch, grid, 0.75, generator=gen, device=device)
        out = model(x, mask)
        bins = unpatchify(mask.unsqueeze(-1).float().expand(-1, -1, 256), grid, model.patch_size, *x.shape[1:])
        loss = ((out.reconstruction - y).abs() * bins).mean() + ((out.reconstruction - y).abs() * (1 - bins)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    return batch * seconds * steps / elapsed, count_parameters(model)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["tiny", "small"], choices=["tiny", "small", "paper"])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        noise, rirs = synthetic_pools(Path(tmp), 16000)
        stack = Stack.from_preset("multi-speaker", noise_files=noise, rir_files=rirs, seed=0)
        print(f"device={args.device} threads={args.threads} batch={args.batch} crop={args.seconds}s steps={args.steps}")
        print("| size | parameters | audio s / s | x real time per core |")
        print("|---|---|---|---|")
        for size in args.sizes:
            rate, params = time_steps(size, args.batch, args.seconds, args.steps, args.device, stack)
            per_core = rate / args.threads if args.device == "cpu" else rate
            print(f"| {size} | {params / 1e6:.2f} M | {rate:.1f} | {per_core:.1f} |")


if __name__ == "__main__":
    main()
