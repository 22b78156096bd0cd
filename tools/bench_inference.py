#!/usr/bin/env python3
"""Inference speed and memory: real-time factor per model size and thread count, beside the classical
baselines and the peer enhancers (RNNoise, DeepFilterNet3: single-threaded C libraries at 48 kHz, the
resampling included), and peak resident memory of ``Enhancer.enhance_file`` against the input length.

Models are randomly initialised (speed and memory do not depend on the weights), with each size's
fine-tuning settings (recipes/DNS/hparams/finetune.yaml and sizes/). RTF = processing seconds per second
of audio (lower is faster); target for small: RTF <= 0.02 on one core.

    python tools/bench_inference.py                                            # 60 s clip; 1, 10, 60 min files
    python tools/bench_inference.py --seconds 20 --memory-minutes 0.5 2 --sizes tiny small   # quick
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from maese.baselines import spectral_gating, wiener_filter
from maese.hparams import load_recipe_hparams
from maese.inference import Enhancer
from maese.peers import deepfilternet3, rnnoise

RATE = 16000
FINETUNE = Path(__file__).resolve().parents[1] / "recipes" / "DNS" / "hparams" / "finetune.yaml"
BASELINES = {"spectral gating": spectral_gating, "wiener": wiener_filter}  # the models' ratios are to these
PEERS = {"rnnoise": rnnoise, "deepfilternet3": deepfilternet3}


def random_enhancer(size, folder, chunk=None, overlap=None):
    """An Enhancer of a randomly initialised EnhancementModel with the fine-tuning settings of ``size``, in chunks of
    ``chunk`` seconds (None: the size's training crop, as maese-enhance uses a fine-tuned model) overlapping by
    ``overlap`` (None: half a chunk)."""
    hparams = load_recipe_hparams(FINETUNE, {"size": size, "output_folder": str(folder)})
    return Enhancer(hparams["model"], RATE, hparams["segment_seconds"] if chunk is None else chunk, overlap)


def noisy(seconds, seed=0):
    """A speech-like test signal: 4-Hz modulated harmonics in white noise, float32 ``[time]``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    voiced = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 20)) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
    return (0.05 * voiced + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def rtf(run, wav):
    """Seconds of processing per second of audio of ``run(wav)``, after a 1-s warm-up."""
    run(wav[:RATE])
    start = time.perf_counter()
    run(wav)
    return (time.perf_counter() - start) / (len(wav) / RATE)


def speed_table(sizes, threads, seconds, chunk, overlap):
    """Markdown rows: RTF per method and thread count, models also as a ratio to each baseline."""
    wav = noisy(seconds)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        enhancers = {size: random_enhancer(size, Path(tmp) / size, chunk, overlap) for size in sizes}
        for n in threads:
            torch.set_num_threads(n)
            for name, method in {**BASELINES, **PEERS}.items():
                results[name, n] = rtf(lambda x, m=method: m(x, RATE), wav)
            for size, enhancer in enhancers.items():
                results[size, n] = rtf(lambda x, e=enhancer: e.enhance(torch.from_numpy(x), RATE), wav)
    head = " | ".join(f"RTF {n} thr | x gating | x wiener" for n in threads)
    chunking = ", ".join(f"{size} {e.chunk_seconds:g} s / {e.overlap_seconds:g} s" for size, e in enhancers.items())
    lines = [f"Speed on a {seconds:g}-s clip (chunks / overlap: {chunking}):", "",
             f"| method | {head} |", "|---|" + "---|---|---|" * len(threads)]
    for name in [*BASELINES, *PEERS, *sizes]:
        cells = []
        for n in threads:
            ratios = [f"{results[name, n] / results[b, n]:.2f}" for b in BASELINES]
            cells.append(f"{results[name, n]:.4f} | " + " | ".join(ratios))
        label = f"maese {name}" if name in sizes else name
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if "small" in sizes and 1 in threads:
        verdict = "met" if results["small", 1] <= 0.02 else "NOT met"
        lines += ["", f"Target small RTF <= 0.02 on one core: {results['small', 1]:.4f}, {verdict}."]
    return lines


def write_long_file(path, minutes, block_seconds=60):
    """A 16-bit wav of ``minutes`` of :func:`noisy` audio, written block by block."""
    with sf.SoundFile(path, "w", RATE, 1, "PCM_16") as out:
        left = minutes * 60
        while left > 0:
            out.write(noisy(min(block_seconds, left), seed=int(left)))
            left -= block_seconds


def peak_rss_mib():
    """Peak resident memory of this process (VmHWM; unlike ru_maxrss, not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("No VmHWM in /proc/self/status: the memory table needs Linux.")


def child(args):
    """Subprocess: enhance one file with 1 thread; print peak resident memory (MiB) before/after and the RTF."""
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        enhancer = random_enhancer(args.size, Path(tmp) / "model", args.chunk_seconds, args.overlap_seconds)
        loaded = peak_rss_mib()
        start = time.perf_counter()
        enhancer.enhance_file(args.child, Path(tmp) / "out.wav")
        elapsed = time.perf_counter() - start
    peak = peak_rss_mib()
    print(json.dumps({"loaded": loaded, "peak": peak, "rtf": elapsed / sf.info(args.child).duration}))


def memory_table(size, minutes, chunk, overlap):
    """Markdown rows: peak resident memory of enhance_file per input length (a fresh process each)."""
    lines = [f"Memory of enhance_file, maese {size}, 1 thread, 16-kHz mono 16-bit wav (a fresh process each):", "",
             "| input | file | peak RSS after model load | peak RSS | growth | RTF |", "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for m in minutes:
            path = Path(tmp) / f"{m}min.wav"
            write_long_file(path, m)
            cmd = [sys.executable, __file__, "--child", str(path), "--sizes", size]
            cmd += [] if chunk is None else ["--chunk-seconds", str(chunk)]
            cmd += [] if overlap is None else ["--overlap-seconds", str(overlap)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            lines.append(f"| {m:g} min | {path.stat().st_size / 2**20:.0f} MiB | {r['loaded']:.0f} MiB | "
                         f"{r['peak']:.0f} MiB | {r['peak'] - r['loaded']:.0f} MiB | {r['rtf']:.4f} |")
            path.unlink()
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["tiny", "small", "paper"], choices=["tiny", "small", "paper"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--seconds", type=float, default=60.0, help="clip length of the speed table")
    parser.add_argument("--memory-minutes", nargs="*", type=float, default=[1, 10, 60],
                        help="input lengths of the memory table (none: skip it)")
    parser.add_argument("--memory-size", default="small", choices=["tiny", "small", "paper"])
    parser.add_argument("--chunk-seconds", type=float,
                        help="default: each size's training crop, as maese-enhance uses a fine-tuned model")
    parser.add_argument("--overlap-seconds", type=float, help="default: half the chunk, as maese-enhance's")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.size = args.sizes[0]
        return child(args)
    print("\n".join(speed_table(args.sizes, args.threads, args.seconds, args.chunk_seconds, args.overlap_seconds)))
    if args.memory_minutes:
        print()
        print("\n".join(memory_table(args.memory_size, args.memory_minutes, args.chunk_seconds, args.overlap_seconds)))


if __name__ == "__main__":
    main()
