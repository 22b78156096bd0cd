"""Throughput of the augmentation stack: each distortion alone, then the full stacks.

Builds synthetic pools (noise, RIRs of 0.3-1 s, speech) in a temporary folder, times batches of
clips at 16 kHz and prints seconds of audio processed per second, in all and per core (divided
by the torch threads); per core, that number is the speed in x real time.

    python tools/bench_augment.py --batch 16 --seconds 4 --threads 1 --repeats 5
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from maese.augment import AddInterferer, AddNoise, Clip, Reverberate, Stack

RATE = 16000
ALL_ON = {"reverb_prob": 1.0, "interferer_prob": 1.0, "noise_prob": 1.0, "clip_prob": 1.0}


def write_pools(folder, rng):
    """Noise, RIR and speech files under ``folder``; returns their path lists."""
    folder = Path(folder)
    noise, rirs, speech = [], [], []
    for i in range(10):
        path = folder / f"noise{i}.wav"
        sf.write(path, 0.1 * rng.standard_normal(int(rng.uniform(2, 10) * RATE)), RATE)
        noise.append(str(path))
    for i in range(20):
        length, peak, t60 = int(rng.uniform(0.3, 1.0) * RATE), int(rng.integers(20, 400)), rng.uniform(0.2, 0.8)
        t = np.arange(length - peak - 1) / RATE
        rir = np.zeros(length)
        rir[peak] = 1.0
        rir[peak + 1 :] = 0.2 * rng.standard_normal(len(t)) * np.exp(-6.9 * t / t60)
        path = folder / f"rir{i}.wav"
        sf.write(path, 0.5 * rir, RATE)
        rirs.append(str(path))
    for i in range(10):
        t = np.arange(int(rng.uniform(2, 6) * RATE)) / RATE
        path = folder / f"speech{i}.wav"
        sf.write(path, 0.3 * np.sin(2 * np.pi * rng.uniform(90, 250) * t) * np.sin(2 * np.pi * 4 * t) ** 2, RATE)
        speech.append(str(path))
    return noise, rirs, speech


def seconds_per_batch(augment, x, repeats):
    """Median wall time of ``augment(x)`` over ``repeats`` calls, after one warm-up call."""
    augment(x, generator=0)
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        augment(x, generator=seed + 1)
        if x.is_cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        noise, rirs, speech = write_pools(folder, rng)
        pools = {"noise_files": noise, "rir_files": rirs}
        cases = {
            "AddNoise": AddNoise(noise, seed=0),
            "Reverberate": Reverberate(rirs, seed=0),
            "Clip": Clip(seed=0),
            "AddInterferer (batch)": AddInterferer(rirs, seed=0),
            "AddInterferer (pool)": AddInterferer(rirs, speech, seed=0),
            "single-speaker, p=1": Stack.from_preset("single-speaker", **pools, **ALL_ON),
            "multi-speaker, p=1": Stack.from_preset("multi-speaker", **pools, **ALL_ON),
            "single-speaker preset": Stack.from_preset("single-speaker", **pools),
            "multi-speaker preset": Stack.from_preset("multi-speaker", **pools),
        }
        x = torch.from_numpy(0.1 * rng.standard_normal((args.batch, int(args.seconds * RATE)))).float()
        x = x.to(args.device)
        audio = args.batch * args.seconds
        print(f"batch {args.batch} x {args.seconds:g} s at {RATE} Hz, {args.threads} torch thread(s), {args.device}")
        print(f"{'case':<24}{'ms/batch':>10}{'audio s/s':>12}{'per core (x RT)':>17}")
        for name, augment in cases.items():
            elapsed = seconds_per_batch(augment, x, args.repeats)
            speed = audio / elapsed
            print(f"{name:<24}{1000 * elapsed:>10.1f}{speed:>12.0f}{speed / args.threads:>17.0f}")


if __name__ == "__main__":
    main()
