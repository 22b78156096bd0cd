#!/usr/bin/env python3
"""Noise left in the pauses of speech, per frequency band: how much of the noisy input's power each enhancer
removes where the clean speech is silent, and how loud what is left is against the speech.

Pause frames of a file are its STFT frames (512-point Hann window, hop 128, 16 kHz) whose clean power is 40 dB
or more under the file's loudest frame. Per system and band, the suppression is 10·log10 of the output's power
over the noisy input's, each summed over the files and their pause frames (negative: removed). The pause level
is the mean over files of the output's mean pause-frame power over the clean speech's mean active-frame power,
in dB. Every file of ``--ref`` (16-kHz mono wav, sub-folders too) needs the same relative name in ``--noisy``
and in each ``--est`` folder; outputs are cut to the reference's length. ``--peers`` enhances the noisy files
in memory with RNNoise / DeepFilterNet3 (maese.peers). ``--out`` is refused if it exists, unless ``--overwrite``.

    cd recipes/DNS && python ../../tools/pause_noise.py --ref results/real/prepared/real_set/denoise/clean \\
        --noisy results/real/prepared/real_set/denoise/noisy \\
        --est long12_tilt=results/real/exp/long12_tilt/enhanced/real/denoise --peers rnnoise --max_files 20
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from maese.peers import deepfilternet3, rnnoise
from maese.scoring import parse_named_folders, reference_names

RATE = 16000
N_FFT, HOP = 512, 128
PAUSE_RATIO = 1e-4  # a pause frame's clean power is under this times the file's loudest frame (-40 dB)
BAND_EDGES = [0, 4, 8, 16, 32, 64, 128, 257]  # STFT bin indices (31.25 Hz per bin)
BANDS = ["0-125", "125-250", "250-500", "500-1k", "1k-2k", "2k-4k", "4k-8k"]  # Hz
PEERS = {"rnnoise": rnnoise, "deepfilternet3": deepfilternet3}
NOISY = "noisy"  # the noisy input's label, not a system's


def read_wav(path, length=None):
    """The 16-kHz mono wav ``path`` as float32 ``[time]``, cut to ``length`` samples."""
    wav, rate = sf.read(str(path), dtype="float32")
    if rate != RATE or wav.ndim != 1:
        raise ValueError(f"{path}: {rate} Hz, shape {wav.shape}; pause_noise.py reads 16-kHz mono wav files.")
    return wav[:length]


def power_spectrogram(wav):
    """``|STFT|²`` of float32 ``[time]``: ``[257 bins, frames]``."""
    spec = torch.stft(torch.from_numpy(wav), n_fft=N_FFT, hop_length=HOP, window=torch.hann_window(N_FFT),
                      return_complex=True)
    return spec.abs() ** 2


def band_sums(power):
    """Power ``[257, frames]`` summed per band and over all bins: ``[8]`` (the 7 bands, then all)."""
    bands = [power[lo:hi].sum() for lo, hi in zip(BAND_EDGES[:-1], BAND_EDGES[1:])]
    return torch.stack([*bands, power.sum()]).double()


def pause_stats(clean, noisy, out):
    """One file's pause power of ``out`` and of ``noisy`` per band (``[8]`` each, over the first frames the three
    spectrograms ``[257, frames]`` share), and the pause level of ``out`` in dB re speech (nan: no pauses)."""
    frames = min(clean.shape[1], noisy.shape[1], out.shape[1])
    clean_frame = clean[:, :frames].sum(0)
    pause = clean_frame < PAUSE_RATIO * clean_frame.max()
    out, noisy = out[:, :frames], noisy[:, :frames]
    level = 10 * torch.log10(out.sum(0)[pause].mean() / clean_frame[~pause].mean())
    return band_sums(out[:, pause]), band_sums(noisy[:, pause]), float(level)


def measure(ref, noisy, systems, peers, names):
    """Pause noise of each system (label -> folder) and peer (names of PEERS) on the files ``names``.

    Returns ``(suppression, level, share, noisy_level)``: dicts label -> ``[8]`` suppression in dB (the 7 bands,
    then all) and label -> pause level in dB re speech; the noisy input's share of its pause power per band
    ``[8]`` (in %), and its own pause level.
    """
    labels = [*systems, *peers, NOISY]
    out_sums = {label: torch.zeros(8, dtype=torch.float64) for label in labels}
    noisy_sums = {label: torch.zeros(8, dtype=torch.float64) for label in labels}
    levels = {label: [] for label in labels}
    for name in tqdm(names, desc="pause noise", unit="file", leave=False):
        clean_wav = read_wav(Path(ref) / name)
        noisy_wav = read_wav(Path(noisy) / name, clean_wav.size)
        outputs = {label: read_wav(Path(folder) / name, clean_wav.size) for label, folder in systems.items()}
        outputs.update({peer: PEERS[peer](noisy_wav, RATE) for peer in peers})
        outputs[NOISY] = noisy_wav
        clean, powers = power_spectrogram(clean_wav), {label: power_spectrogram(w) for label, w in outputs.items()}
        for label, out in powers.items():
            out_sum, noisy_sum, level = pause_stats(clean, powers[NOISY], out)
            out_sums[label] += out_sum
            noisy_sums[label] += noisy_sum
            levels[label].append(level)
    suppression = {label: (10 * torch.log10(out_sums[label] / noisy_sums[label])).numpy() for label in labels}
    level = {label: float(np.nanmean(levels[label])) for label in labels}
    share = (100 * out_sums[NOISY] / out_sums[NOISY][-1]).numpy()
    noisy_level = level.pop(NOISY)
    suppression.pop(NOISY)
    return suppression, level, share, noisy_level


def table(ref, n_files, suppression, level, share, noisy_level):
    """Markdown lines: a row per system (suppression per band, all, pause level), the noisy share, notes."""
    lines = ["| system | " + " | ".join(f"{band} Hz" for band in BANDS) + " | all | pause level (dB re speech) |",
             "| --- |" + " ---: |" * (len(BANDS) + 2)]
    for label, values in suppression.items():
        lines.append(f"| {label} | " + " | ".join(f"{v:+.1f}" for v in values) + f" | {level[label]:+.1f} |")
    lines += ["| noisy share | " + " | ".join(f"{v:.1f}%" for v in share) + f" | {noisy_level:+.1f} |", "",
              f"- reference: `{ref}`, {n_files} files",
              "- suppression in pauses (dB, negative = removed): 10·log10 of the output's power over the noisy "
              "input's, summed over files and pause frames (STFT 512/128 Hann at 16 kHz; pause: clean frame power "
              "40 dB or more under the file's loudest frame); pause level: mean over files of the output's mean "
              "pause-frame power over the clean speech's mean active-frame power (dB); noisy share: the band's "
              "share of the noisy input's pause power, with the noisy input's own pause level"]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", required=True, help="folder of clean reference speech (16-kHz mono wav)")
    parser.add_argument("--noisy", required=True, help="folder of the noisy inputs (same relative names)")
    parser.add_argument("--est", nargs="+", default=[], metavar="NAME=DIR", help="enhanced outputs per system")
    parser.add_argument("--peers", nargs="+", default=[], choices=sorted(PEERS), help="peers run on the noisy files")
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
        systems = parse_named_folders(args.est, {NOISY, *args.peers}, "--est")
        if not systems and not args.peers:
            raise ValueError("nothing to measure: give --est NAME=DIR and/or --peers.")
        names = reference_names(args.ref, {NOISY: args.noisy, **systems}, args.max_files)
        lines = table(args.ref, len(names), *measure(args.ref, args.noisy, systems, args.peers, names))
    except (OSError, ValueError) as err:
        print(f"pause_noise.py: {err}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
