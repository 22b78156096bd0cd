"""maese-enhance: enhance audio files with a fine-tuned model (default: the denoiser maese ships).

    maese-enhance noisy.wav -o enhanced/                      # the packaged default (maese/pretrained/denoise)
    maese-enhance noisy.wav -o enhanced/ --model recipes/DNS/results/denoise/pretrained_small_p0.1/1234
    maese-enhance recordings/ 'more/**/*.flac' -r -o enhanced/ --model EXP --downmix --threads 2

Inputs are files, folders (their audio files; with -r also those of sub-folders) and glob patterns
(quoted; ``**`` recurses). Each output is ``OUTDIR/<name>.wav``, a 32-bit float wav at the input's rate
with its channels (or mono with --downmix); files found in a folder keep their path relative to it.
Existing outputs are skipped unless --overwrite. A bad input (missing, empty, unreadable, NaN samples...)
fails alone; at the end a summary lists what was done, skipped and failed (with the reason), and the
exit status is 1 if anything failed (2 if the model cannot be loaded).
"""

import argparse
import glob
import sys
from functools import partial
from pathlib import Path

import torch
from tqdm import tqdm

from maese.audio import AUDIO_EXTENSIONS
from maese.dataio import list_audio_files
from maese.inference import DEFAULT_MODEL, Enhancer


def _audio_in(folder, recursive):
    """Audio files of ``folder`` (and its sub-folders if ``recursive``), sorted."""
    if recursive:
        return list_audio_files(folder)
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())


def _sources(item, recursive):
    """(list of (input file, output name relative to OUTDIR), reason when the list is empty) of one argument."""
    path = Path(item)
    if path.is_dir():
        hint = "" if recursive else " (sub-folders are searched with -r)"
        return [(p, p.relative_to(path)) for p in _audio_in(path, recursive)], f"no audio files{hint}"
    if path.exists():
        return [(path, Path(path.name))], None
    if any(c in item for c in "*?["):
        matches = sorted(Path(p) for p in glob.glob(item, recursive=True))
        files = [p for p in matches if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS]
        return [(p, Path(p.name)) for p in files], "the pattern matches no audio files"
    return [], "no such file or folder"


def plan(inputs, out_dir, recursive=False):
    """Jobs and early failures of the command-line inputs.

    Returns
    -------
    jobs : list of (input Path, output Path), each input once.
    failed : list of (name, reason): inputs that give no file, and files whose output another input takes.
    """
    jobs, failed, owner = [], [], {}
    for item in inputs:
        sources, reason = _sources(item, recursive)
        if not sources:
            failed.append((item, f"{reason}; audio is {', '.join(AUDIO_EXTENSIONS)}"))
        for src, name in sources:
            out = Path(out_dir) / name.with_suffix(".wav")
            if out.resolve() == src.resolve():
                failed.append((str(src), "its output would replace it; choose another -o folder"))
                continue
            if out in owner:
                if owner[out].resolve() != src.resolve():
                    reason = f"its output {out} is already the output of {owner[out]}; enhance them separately"
                    failed.append((str(src), reason))
                continue
            owner[out] = src
            jobs.append((src, out))
    return jobs, failed


def summary(done, skipped, failed):
    """The end-of-run report: counts, then each failure with its reason."""
    lines = [f"maese-enhance: {len(done)} done, {len(skipped)} skipped (output exists; --overwrite to redo), "
             f"{len(failed)} failed" + (":" if failed else ".")]
    lines += [f"  {reason}" if name in reason else f"  {name}: {reason}" for name, reason in failed]
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(prog="maese-enhance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", metavar="IN", help="audio files, folders or quoted glob patterns")
    parser.add_argument("-o", "--out-dir", type=Path, required=True, help="folder of the enhanced files")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL,
                        help="fine-tuning experiment folder (holds save/CKPT* and inference.json or hyperparams.yaml) "
                             "or a packaged model's folder (default: the denoiser maese ships, maese/pretrained/denoise)")
    parser.add_argument("-r", "--recursive", action="store_true", help="also enhance the sub-folders of folders")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--downmix", action="store_true", help="average the channels (mono output)")
    parser.add_argument("--chunk-seconds", type=float, default=4.0, help="model input length (default: 4)")
    parser.add_argument("--overlap-seconds", type=float, default=0.5, help="cross-faded overlap (default: 0.5)")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's)")
    return parser


def main(argv=None):
    """Run maese-enhance on ``argv`` (None: the command line); returns the exit status."""
    args = build_parser().parse_intermixed_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        load = Enhancer.default if args.model == DEFAULT_MODEL else partial(Enhancer.from_experiment, args.model)
        enhancer = load(chunk_seconds=args.chunk_seconds, overlap_seconds=args.overlap_seconds, downmix=args.downmix,
                        device=args.device)
    except (OSError, ValueError, RuntimeError) as err:
        print(f"maese-enhance: cannot load the model from {args.model}: {err}", file=sys.stderr)
        return 2
    jobs, failed = plan(args.inputs, args.out_dir, args.recursive)
    done, skipped = [], []
    for src, out in tqdm(jobs, desc="maese-enhance", unit="file", disable=None):
        if out.exists() and not args.overwrite:
            skipped.append(out)
            continue
        try:
            enhancer.enhance_file(src, out, overwrite=args.overwrite)
            done.append(out)
        except Exception as err:  # noqa: BLE001 -- one bad file must not stop the batch; reported below
            failed.append((str(src), str(err) or type(err).__name__))
    print(summary(done, skipped, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
