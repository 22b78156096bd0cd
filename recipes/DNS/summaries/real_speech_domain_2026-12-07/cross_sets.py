"""Two swapped sets that tell the speech's share of the real-speech set's gap from the noise's.

``speech_swap``: the real-speech set's clean clips (LJ Speech, SpeechBrain samples) mixed with the corpus' valid noise
(ESC-10 fold 4, what the valid speakers are mixed with). ``noise_swap``: valid speakers' clean clips (every third of
``valid_set/denoise/clean``) mixed with the SpeechBrain noises of the real-speech set. Item ``i`` of both takes the SNR
of item ``i`` of the real-speech set and its noise, offset and choice of noise from ``default_rng([7, i])``, mixed as
:func:`maese.realdata.make_pair` does (one gain for both so that none passes 0.99).

    python cross_sets.py --real_set results/real/prepared/real_set/denoise \
        --valid_clean results/real/corpus/valid_set/denoise/clean --valid_noise ../../../shared/data/real/noise/valid \
        --sb_noise ../../../shared/data/speechbrain/noise --out OUT

Writes OUT/{speech_swap,noise_swap}/{noisy,clean}/fileid_<i>.wav and pairs.json (noise, snr, source per file).
"""

import argparse
import json
from pathlib import Path

import numpy as np

from maese.acoustics import joint_peak_scale, mix_at_snr
from maese.audio import load_audio, save_audio
from maese.dataio import list_audio_files, write_json
from maese.realdata import PEAK, noise_segment

RATE = 16000


def build(out, cleans, sources, noise_files, snrs):
    """Mix ``cleans[i]`` (paths) with a noise of ``noise_files`` at ``snrs[i]`` dB into ``out``."""
    noises = [load_audio(p, RATE).double() for p in noise_files]
    pairs = {}
    for i, (clean_path, source, snr) in enumerate(zip(cleans, sources, snrs)):
        rng = np.random.default_rng([7, i])
        noise_id = int(rng.integers(len(noises)))
        clean = load_audio(clean_path, RATE).double()
        noisy = mix_at_snr(clean, noise_segment(noises[noise_id], clean.numel(), rng), snr)
        (noisy, clean), _ = joint_peak_scale(noisy.numpy(), clean.numpy(), peak=PEAK)
        save_audio(out / "noisy" / f"fileid_{i}.wav", noisy, RATE)
        save_audio(out / "clean" / f"fileid_{i}.wav", clean, RATE)
        pairs[f"fileid_{i}"] = {"noise": Path(noise_files[noise_id]).name, "snr": snr, "source": source}
    write_json(out / "pairs.json", pairs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real_set", type=Path, required=True, help="the real-speech set's denoise folder")
    parser.add_argument("--valid_clean", type=Path, required=True, help="the corpus' valid_set/denoise/clean")
    parser.add_argument("--valid_noise", type=Path, required=True, help="the valid noise folder (ESC-10 fold 4)")
    parser.add_argument("--sb_noise", type=Path, required=True, help="the SpeechBrain noise folder")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    real = json.loads((args.real_set / "pairs.json").read_text())
    uids = sorted(real, key=lambda uid: int(uid.split("_")[1]))
    snrs = [real[uid]["snr"] for uid in uids]
    build(args.out / "speech_swap", [args.real_set / "clean" / f"{uid}.wav" for uid in uids],
          [real[uid]["source"] for uid in uids], list_audio_files(args.valid_noise), snrs)
    valid = sorted(args.valid_clean.glob("*.wav"))[::3][: len(uids)]
    build(args.out / "noise_swap", valid, [f"valid/{p.name}" for p in valid], list_audio_files(args.sb_noise), snrs)


if __name__ == "__main__":
    main()
