"""Miniature plain folders of speech, noise and impulse responses (laid out like shared/data/real), for the tests
of maese.simulation.folders and of run.sh --speech_folder."""

import numpy as np
import soundfile as sf

from maese.simulation import folders

RATE = 16000


def write(path, seconds, seed, rate=RATE, kind="speech"):
    """A 16-bit file: broadband syllables ("speech": a sharp autocorrelation peak), white noise ("noise") or a
    decaying RIR ("rir")."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    if kind == "speech":
        wav = rng.normal(0, 1, n) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
    elif kind == "noise":
        wav = rng.normal(0, 1, n)
    else:
        wav = rng.normal(0, 0.3, n) * np.exp(-t / 0.05)
        wav[0] = 1.0
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.5 * wav / np.abs(wav).max()).astype(np.float32), rate, subtype="PCM_16")


def speech_folder(root, speakers=(3, 1, 1), files=2, split_folders=True, rate=RATE):
    """``root/{train,valid,test}/spk<k>/<i>.flac`` (or ``root/spk<k>/...`` without split folders)."""
    k = 0
    for split, count in zip(folders.SPLITS, speakers):
        for _ in range(count):
            for i in range(files):
                where = root / split if split_folders else root
                write(where / f"spk{k}" / f"{i}.flac", 1.2, seed=100 * k + i, rate=rate)
            k += 1
    return root


def noise_folder(root, counts=(3, 2, 2)):
    for split, count in zip(folders.SPLITS, counts):
        for i in range(count):
            write(root / split / f"{split}_noise_{i}.flac", 1.5, seed=1000 + i + 10 * len(split), kind="noise")
    return root
