"""A real-speech validation set from a folder laid out like ``shared/data`` (see its README).

Input layout: ``ljspeech/*.wav`` and ``speechbrain/speech/*.wav`` (clean speech, any rate),
``speechbrain/noise/*.wav`` (noise), ``speechbrain/rirs/*.wav`` (room impulse responses).
Output, all 16 kHz 16-bit mono, in the test-set layout of the embedded corpus::

    denoise/{noisy,clean}/fileid_{i}.wav    + denoise/pairs.json   (clean + real noise at an exact SNR)
    dereverb/{reverb,clean}/fileid_{i}.wav  + dereverb/pairs.json  (clean * real RIR, direct path aligned)

For validation and development checks only: never train on it.
"""

import argparse
from pathlib import Path

import numpy as np
import torch

import maese
from maese.acoustics import joint_peak_scale, mix_at_snr
from maese.audio import load_audio, save_audio
from maese.augment.reverb import convolve_aligned
from maese.dataio import write_json
from maese.simulation import layout

SAMPLE_RATE = 16000
PEAK = 0.99
REVERB_TAIL_S = 0.5
SPEECH = ("ljspeech", "speechbrain/speech")
NOISE, RIRS = "speechbrain/noise", "speechbrain/rirs"


def source_files(shared_data_dir):
    """``{"speech": [...], "noise": [...], "rirs": [...]}``: sorted wav paths; a missing part raises."""
    root = Path(shared_data_dir)
    found = {
        "speech": sorted(p for folder in SPEECH for p in (root / folder).glob("*.wav")),
        "noise": sorted((root / NOISE).glob("*.wav")),
        "rirs": sorted((root / RIRS).glob("*.wav")),
    }
    empty = [kind for kind, files in found.items() if not files]
    if empty:
        raise FileNotFoundError(
            f"{root}: no {', '.join(empty)} wav files; expected {' or '.join(SPEECH)}/*.wav, "
            f"{NOISE}/*.wav and {RIRS}/*.wav."
        )
    return found


def noise_segment(noise, num_samples, rng):
    """A random ``num_samples`` stretch of ``noise [time]``, looped when the noise is shorter."""
    reps = -(-num_samples // noise.numel()) + 1
    start = int(rng.integers(noise.numel()))
    return noise.repeat(reps)[start : start + num_samples]


def make_pair(clean, noise, rir, rng, snr_range):
    """Denoise and dereverb audio for one clean clip ``[time]`` (float64 tensors) -> (audio, metadata)."""
    snr = float(rng.uniform(*snr_range))
    noisy = mix_at_snr(clean, noise_segment(noise, clean.numel(), rng), snr)
    (noisy, dn_clean), dn_gain = joint_peak_scale(noisy.numpy(), clean.numpy(), peak=PEAK)
    dry = torch.nn.functional.pad(clean, (0, int(REVERB_TAIL_S * SAMPLE_RATE)))
    wet = convolve_aligned(dry[None], (rir / rir.abs().max())[None])[0]  # direct path at unit gain
    (wet, dry), dr_gain = joint_peak_scale(wet.numpy(), dry.numpy(), peak=PEAK)
    return {"noisy": noisy, "denoise_clean": dn_clean, "reverb": wet, "dereverb_clean": dry}, \
        {"snr": snr, "denoise_gain": dn_gain, "dereverb_gain": dr_gain}


def build_real_validation(shared_data_dir, out_dir, seed=0, snr_range=(0.0, 15.0)):
    """Write the real-speech validation set (see the module docstring) into ``out_dir``.

    Deterministic (item ``i`` draws its noise, offset, SNR and RIR from ``default_rng([seed, i])``)
    and idempotent: a finished build with the same sources and settings is left as it is; another
    one in ``out_dir`` raises :class:`maese.simulation.layout.CorpusError`.

    Returns
    -------
    Path: ``out_dir``.
    """
    root, out = Path(shared_data_dir), Path(out_dir)
    files = source_files(root)
    identity = {
        "kind": "real_validation", "size": "real", "seed": seed, "snr_range": [float(v) for v in snr_range],
        "sample_rate": SAMPLE_RATE, "maese": maese.__version__,
        "sources": {k: [p.relative_to(root).as_posix() for p in v] for k, v in files.items()},
    }
    if layout.open_corpus(out, identity):
        return out
    layout.start_corpus(out, identity)
    noises = [load_audio(p, SAMPLE_RATE).double() for p in files["noise"]]
    rirs = [load_audio(p, SAMPLE_RATE).double() for p in files["rirs"]]
    manifests = {"denoise": {}, "dereverb": {}}
    for index, path in enumerate(files["speech"]):
        rng = np.random.default_rng([seed, index])
        noise_id, rir_id = int(rng.integers(len(noises))), int(rng.integers(len(rirs)))
        clean = load_audio(path, SAMPLE_RATE).double()
        audio, meta = make_pair(clean, noises[noise_id], rirs[rir_id], rng, snr_range)
        uid, source = f"fileid_{index}", path.relative_to(root).as_posix()
        for task, noisy_key, noisy_dir in (("denoise", "noisy", "noisy"), ("dereverb", "reverb", "reverb")):
            paths = {"wav": f"{task}/{noisy_dir}/{uid}.wav", "clean_wav": f"{task}/clean/{uid}.wav"}
            save_audio(out / paths["wav"], audio[noisy_key], SAMPLE_RATE, overwrite=True)
            save_audio(out / paths["clean_wav"], audio[f"{task}_clean"], SAMPLE_RATE, overwrite=True)
            extra = (
                {"snr": meta["snr"], "noise": files["noise"][noise_id].name, "gain": meta["denoise_gain"]}
                if task == "denoise" else {"rir": files["rirs"][rir_id].name, "gain": meta["dereverb_gain"]}
            )
            manifests[task][uid] = {
                "source": source, "duration": audio[noisy_key].size / SAMPLE_RATE, **extra,
                **{k: layout.corpus_path(p) for k, p in paths.items()},
            }
    for task, entries in manifests.items():
        write_json(out / task / "pairs.json", entries)
    summary = {task: len(entries) for task, entries in manifests.items()}
    readme = (
        f"# Real-speech validation set (seed {seed}, SNR {snr_range[0]:g}-{snr_range[1]:g} dB)\n\n"
        f"Built by `python -m maese.realdata --data {root} --out DIR` from {len(files['speech'])} clean clips, "
        f"{len(noises)} noises and {len(rirs)} RIRs (listed in corpus.json). For validation only: never train on it.\n"
    )
    layout.finish_corpus(out, identity, summary, readme)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build the real-speech validation set.")
    parser.add_argument("--data", type=Path, required=True, help="folder laid out like shared/data")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--snr", type=float, nargs=2, default=(0.0, 15.0), metavar=("LOW", "HIGH"))
    args = parser.parse_args(argv)
    print(f"real validation set in {build_real_validation(args.data, args.out, args.seed, tuple(args.snr))}")


if __name__ == "__main__":
    main()
