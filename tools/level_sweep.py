#!/usr/bin/env python3
"""How an enhancer's scores move with the recording level: the noisy inputs scaled by each gain of ``--gains`` (dB)
before enhancement, as quieter and louder recordings of the same scenes.

Every wav file of ``--ref`` (clean speech, sub-folders too) needs the same relative name in ``--noisy``. For each
gain, each noisy file times ``10 ** (gain / 20)`` (in float: nothing clips) is enhanced in memory by each model
(``--model NAME=EXP``: a fine-tuning experiment or packaged model folder, at its own chunking, as maese-enhance) and
each peer (``--peers``), and the output, scaled back, is scored against the reference. PESQ, ESTOI and SI-SDR do
not depend on the output's level, so what moves is the enhancer's reaction to the input's. The table gives each
system's mean ± 95% half-width per gain, and its change from gain 0 paired over files (when 0 is among the gains).

    cd recipes/DNS && python ../../tools/level_sweep.py --ref results/real/corpus/valid_set/denoise/clean \\
        --noisy results/real/corpus/valid_set/denoise/noisy --model P100=results/real/exp/P100_snr15 \\
        --peers rnnoise --gains -20 0 10 --max_files 40
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from maese.audio import load_audio
from maese.inference import Enhancer
from maese.metrics import compute_metrics
from maese.peers import deepfilternet3, rnnoise
from maese.scoring import mean_ci, parse_named_folders, reference_names

RATE = 16000
METRICS = ("pesq", "estoi", "si_sdr")
HEADERS = {"pesq": "PESQ", "estoi": "ESTOI", "si_sdr": "SI-SDR (dB)"}
PEERS = {"rnnoise": rnnoise, "deepfilternet3": deepfilternet3}


def sweep(ref, noisy, names, enhancers, gains):
    """Scores ``{system: {gain: {metric: [per file]}}}`` of each enhancer (name -> ``f(wav [time]) -> [time]``) on the
    files ``names``, the input scaled by each gain (dB) of ``gains``."""
    scores = {name: {g: {m: [] for m in METRICS} for g in gains} for name in enhancers}
    for rel in tqdm(names, desc="level sweep", unit="file"):
        clean, wav = load_audio(Path(ref) / rel, RATE), load_audio(Path(noisy) / rel, RATE)
        length = min(clean.numel(), wav.numel())
        clean, wav = clean[:length], wav[:length]
        for gain in gains:
            scale = 10 ** (gain / 20)
            for name, enhance in enhancers.items():
                out = torch.as_tensor(enhance(wav * scale)).float()[:length] / scale
                row = compute_metrics(clean, out, RATE, METRICS, strict=False)
                for metric in METRICS:
                    scores[name][gain][metric].append(row[metric])
    return scores


def table(scores, gains):
    """Markdown lines: one row per system and gain, mean ± half-width per metric, and the change from gain 0."""
    paired = 0.0 in gains
    lines = ["| system | gain (dB) | " + " | ".join(HEADERS[m] for m in METRICS)
             + (" | " + " | ".join(f"Δ {HEADERS[m]}" for m in METRICS) if paired else "") + " |",
             "| --- | ---: |" + " ---: |" * (len(METRICS) * (2 if paired else 1))]
    for name, by_gain in scores.items():
        for gain in gains:
            cells = []
            for metric in METRICS:
                mean, half, _ = mean_ci(by_gain[gain][metric])
                cells.append(f"{mean:.3f} ± {half:.3f}" if metric != "si_sdr" else f"{mean:.2f} ± {half:.2f}")
            if paired:
                for metric in METRICS:
                    diff = np.asarray(by_gain[gain][metric]) - np.asarray(by_gain[0.0][metric])
                    mean, half, _ = mean_ci(diff)
                    cells.append("0" if gain == 0 else f"{mean:+.3f} ± {half:.3f}")
            lines.append(f"| {name} | {gain:+g} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", required=True, help="folder of clean reference speech (wav, 16 kHz or resampled)")
    parser.add_argument("--noisy", required=True, help="folder of the noisy inputs (same relative names)")
    parser.add_argument("--model", nargs="+", default=[], metavar="NAME=EXP", help="maese models (experiment folders)")
    parser.add_argument("--peers", nargs="+", default=[], choices=sorted(PEERS), help="peer enhancers")
    parser.add_argument("--gains", nargs="+", type=float, default=[-20.0, 0.0, 10.0], help="input gains in dB")
    parser.add_argument("--max_files", type=int, help="N files spread over the sorted list (every k-th); default all")
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    parser.add_argument("--overwrite", action="store_true", help="let --out replace an existing file")
    args = parser.parse_args(argv)
    if args.max_files is not None and args.max_files < 1:
        parser.error("--max_files: give 1 or more.")
    torch.set_num_threads(1)
    try:
        if args.out is not None and args.out.exists() and not args.overwrite:
            raise FileExistsError(f"{args.out} exists; refusing to overwrite it (pass --overwrite).")
        models = parse_named_folders(args.model, set(PEERS), "--model")
        if not models and not args.peers:
            raise ValueError("nothing to measure: give --model NAME=EXP and/or --peers.")
        names = reference_names(args.ref, {"noisy": args.noisy}, args.max_files)
        enhancers = {name: (lambda w, e=Enhancer.from_experiment(folder): e.enhance(w, RATE))
                     for name, folder in models.items()}
        enhancers.update({peer: (lambda w, f=PEERS[peer]: f(w.numpy(), RATE)) for peer in args.peers})
        gains = sorted(set(args.gains))
        lines = table(sweep(args.ref, args.noisy, names, enhancers, gains), gains)
    except (OSError, ValueError) as err:
        print(f"level_sweep.py: {err}", file=sys.stderr)
        return 1
    lines += ["", f"- reference: `{args.ref}`, {len(names)} files; inputs: `{args.noisy}` times each gain",
              "- mean ± half-width of the 95% confidence interval over files; Δ: the change from gain 0, paired "
              "over files"]
    print("\n".join(lines))
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
