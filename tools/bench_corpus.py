"""Speed of the embedded corpus builder: each generator on one core, then a whole ``small`` build.

Prints, per generator, seconds of audio produced per second of wall time on one core (x real
time; for rooms, seconds of RIR), then the wall time of ``--size small`` with ``--jobs`` workers
and its audio seconds per second per core.

    python tools/bench_corpus.py --items 20 --jobs 2 [--skip-small]
"""

import argparse
import tempfile
import time

import numpy as np
import torch

from maese.simulation import corpus
from maese.simulation.layout import STAGES


def per_core_speed(maker, domain, items, plan, stage_id, key="wav"):
    """(audio seconds, wall seconds) of ``items`` calls of ``maker`` in this process (one torch thread)."""
    maker(np.random.default_rng([plan.seed, stage_id, 0]), 0, plan, domain)  # warm-up (engine, imports)
    audio, start = 0.0, time.perf_counter()
    for i in range(1, items + 1):
        files, _ = maker(np.random.default_rng([plan.seed, stage_id, i]), i, plan, domain)
        audio += files[key].size / corpus.SAMPLE_RATE
    return audio, time.perf_counter() - start


def small_build(jobs):
    """(audio seconds, wall seconds) of a fresh ``small`` corpus built with ``jobs`` workers."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        summary = corpus.build_corpus(folder, "small", seed=0, jobs=jobs)
        wall = time.perf_counter() - start
    return sum(s["hours"] for s in summary["stages"].values()) * 3600, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20, help="items timed per generator")
    parser.add_argument("--jobs", type=int, default=2, help="workers of the small build")
    parser.add_argument("--skip-small", action="store_true", help="do not time the whole small build")
    args = parser.parse_args()
    torch.set_num_threads(1)
    plan = corpus.make_plan("small", seed=0)
    rows = [
        ("speech (clean/, 2 sentences)", corpus.make_clean, "train", 1, "wav"),
        ("noise (training families, 10 s)", corpus.make_noise, "train", 2, "wav"),
        ("rooms, train (RIR seconds)", corpus.make_rir, "train", 3, "wav"),
        ("rooms, ood (RIR seconds)", corpus.make_rir, "ood", 3, "wav"),
        ("denoise pair (noisy)", corpus.make_denoise, "train", 4, "wav"),
        ("dereverb pair (reverb)", corpus.make_dereverb, "train", 5, "wav"),
    ]
    print(f"{'generator':36s} {'items':>6s} {'audio s':>9s} {'wall s':>8s} {'x RT / core':>12s}")
    for name, maker, domain, stage_id, key in rows:
        audio, wall = per_core_speed(maker, domain, args.items, plan, stage_id, key)
        print(f"{name:36s} {args.items:6d} {audio:9.1f} {wall:8.2f} {audio / wall:12.1f}")
    if not args.skip_small:
        audio, wall = small_build(args.jobs)
        files = sum(corpus.SIZES["small"].count(s) for s in STAGES)
        print(f"{'small build, ' + str(args.jobs) + ' jobs':36s} {files:6d} {audio:9.1f} {wall:8.2f} "
              f"{audio / wall / args.jobs:12.1f}")


if __name__ == "__main__":
    main()
