"""The noise left in pauses by the pause's length and by the distance to speech. Per system: (1) the mean output
power over the frames of pauses shorter than 128 ms, 128-500 ms and longer, in dB re the file's active speech power;
(2) the output power over the noisy input's in pause frames 1-4, 5-16, 17-48 and more frames (8 ms) from the nearest
speech frame (suppression, dB). Sums over the files; pause frames as in tools/pause_noise.py (clean power under -40
dB re the file's loudest frame).

    python summaries/real_pauses_2026-12-07/pause_runs.py --ref SET/clean --noisy SET/noisy \
        --est rnnoise=DIR NAME=DIR ... --out pause_runs.md
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tools"))
from pause_noise import PAUSE_RATIO, power_spectrogram  # noqa: E402

RUNS = ((1, 15, "< 128 ms"), (16, 62, "128-500 ms"), (63, None, "> 500 ms"))  # pause lengths, frames of 8 ms
DISTANCES = ((1, 4), (5, 16), (17, 48), (49, None))  # frames from the nearest speech frame


def classes(values, bounds):
    """``[frames]`` ints -> index into ``bounds`` ((lo, hi or None), inclusive) of each value, -1 where none."""
    label = np.full(len(values), -1)
    for k, (lo, hi) in enumerate(bounds):
        label[(values >= lo) & (values <= (np.inf if hi is None else hi))] = k
    return label


def run_lengths(pause):
    """Pause frames ``[frames]`` bool -> ``[frames]``: the length of the pause each frame is in, 0 on speech."""
    lengths = np.zeros(len(pause), dtype=int)
    start = None
    for i, is_pause in enumerate([*pause.tolist(), False]):
        if is_pause and start is None:
            start = i
        elif not is_pause and start is not None:
            lengths[start:i], start = i - start, None
    return lengths


def speech_distance(pause):
    """``[frames]`` bool -> frames to the nearest speech frame (0 on speech; a large number without speech)."""
    speech = np.flatnonzero(~pause)
    if not len(speech):
        return np.full(len(pause), 10**9)
    return np.abs(np.arange(len(pause))[:, None] - speech[None, :]).min(axis=1)


def read_power(path):
    """Frame power ``[frames]`` of a wav file."""
    return power_spectrogram(sf.read(path, dtype="float32")[0]).sum(0).numpy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", required=True, help="folder of the clean references (wav)")
    parser.add_argument("--noisy", required=True, help="folder of the noisy inputs (same names)")
    parser.add_argument("--est", nargs="+", required=True, help="NAME=FOLDER of each system's outputs (same names)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    systems = {"noisy": args.noisy, **dict(item.split("=", 1) for item in args.est)}
    by_run = {name: np.zeros(len(RUNS)) for name in systems}
    by_distance = {name: np.zeros(len(DISTANCES)) for name in systems}
    run_frames, distance_frames = np.zeros(len(RUNS), dtype=int), np.zeros(len(DISTANCES), dtype=int)
    refs = sorted(Path(args.ref).glob("*.wav"))
    for ref in refs:
        clean = read_power(ref)
        pause = clean < PAUSE_RATIO * clean.max()
        outputs = {name: read_power(Path(folder) / ref.name) for name, folder in systems.items()}
        n = min(len(clean), *(len(out) for out in outputs.values()))
        active = clean[~pause].mean()
        run = np.where(pause, classes(run_lengths(pause), [(lo, hi) for lo, hi, _ in RUNS]), -1)[:n]
        distance = np.where(pause, classes(speech_distance(pause), DISTANCES), -1)[:n]
        run_frames += [(run == k).sum() for k in range(len(RUNS))]
        distance_frames += [(distance == k).sum() for k in range(len(DISTANCES))]
        for name, out in outputs.items():
            by_run[name] += [out[:n][run == k].sum() / active for k in range(len(RUNS))]
            by_distance[name] += [out[:n][distance == k].sum() for k in range(len(DISTANCES))]
    dist_names = [f"{lo}-{hi}" if hi else f"{lo} or more" for lo, hi in DISTANCES]
    lines = [f"Noise left in pauses ({len(refs)} files of `{args.ref}`)", "",
             "By the pause's length: mean power in dB re active speech", "",
             "| system | " + " | ".join(f"pauses {text}" for *_, text in RUNS) + " |", "| --- |" + " ---: |" * len(RUNS),
             "| pause frames | " + " | ".join(str(n) for n in run_frames) + " |"]
    lines += [f"| {name} | " + " | ".join(f"{10 * np.log10(p / max(n, 1)):.1f}" for p, n in zip(by_run[name],
                                                                                            run_frames)) + " |"
              for name in systems]
    lines += ["", "By the distance to the nearest speech frame (8-ms frames): power over the noisy input's, dB", "",
              "| system | " + " | ".join(f"{text} frames" for text in dist_names) + " |",
              "| --- |" + " ---: |" * len(DISTANCES),
              "| pause frames | " + " | ".join(str(n) for n in distance_frames) + " |"]
    lines += [f"| {name} | " + " | ".join("" if not d else f"{10 * np.log10(p / d):.1f}" for p, d in
                                         zip(by_distance[name], by_distance["noisy"])) + " |"
              for name in systems if name != "noisy"]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
