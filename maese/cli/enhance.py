"""maese-enhance: enhance audio files with a fine-tuned model (default: the denoiser maese ships).

    maese-enhance noisy.wav -o enhanced/                      # the packaged default (maese/pretrained/denoise)
    maese-enhance noisy.wav -o enhanced/ --model recipes/DNS/results/denoise/pretrained_small_p0.1/1234
    maese-enhance recordings/ 'more/**/*.flac' -r -o enhanced/ --model EXP --downmix --threads 2

Inputs are files, folders (their audio files; with -r also those of sub-folders) and glob patterns
(quoted; ``**`` recurses). Each output is ``OUTDIR/<name>.wav``, a 32-bit float wav at the input's rate
with its channels, mono or stereo (or mono with --downmix, which also takes files of more channels); files
found in a folder keep their path relative to it. Existing outputs are skipped unless --overwrite. A bad
input (missing, empty, unreadable, truncated, NaN samples, more than two channels...) or an output that
cannot be written fails alone; at the end a summary lists what was done, skipped and failed (with the
reason), and the exit status is 1 if anything failed (2 if the options are bad, the model cannot be loaded
or nothing can be written into OUTDIR).
"""

import argparse
import glob
import math
import sys
import tempfile
from functools import partial
from pathlib import Path

import torch
from tqdm import tqdm

from maese.audio import AUDIO_EXTENSIONS, read_info
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


def chunking_error(chunk_seconds, overlap_seconds):
    """Why ``--chunk-seconds`` / ``--overlap-seconds`` cannot be used (naming the option and the fix), or None.

    None for both is the model's own chunking (its training crop, overlapping by half).
    """
    if chunk_seconds is None:
        return None if overlap_seconds is None else (
            f"--overlap-seconds {overlap_seconds:g} needs --chunk-seconds too (without both, the model's training "
            "crop is the chunk and half of it the overlap)")
    if not (math.isfinite(chunk_seconds) and chunk_seconds > 0):
        return (f"--chunk-seconds {chunk_seconds:g}: give a positive number of seconds "
                "(default: the model's training crop)")
    if overlap_seconds is None:
        return None
    if not (math.isfinite(overlap_seconds) and 0 < overlap_seconds < chunk_seconds):
        return (f"--overlap-seconds {overlap_seconds:g}: give a number of seconds above 0 and below --chunk-seconds "
                f"({chunk_seconds:g}), e.g. {chunk_seconds / 8:g}")
    return None


def output_folder_error(folder):
    """Why no file can be written into ``folder`` (made if missing), naming it and the fix, or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        reason = "it is a file, not a folder" if folder.is_file() else err.strerror or str(err)
        return f"cannot write into the output folder {folder} ({reason}); choose another -o folder or fix its permissions"
    return None


def channel_error(path, channels, downmix):
    """Why ``path``, of ``channels`` channels, is not enhanced as it is (more than two without --downmix), or None."""
    if channels > 2 and not downmix:
        return (f"{path}: {channels} channels; maese-enhance takes mono or stereo files: pass --downmix to average "
                "the channels into one, or split the file into mono files")
    return None


def enhance_one(enhancer, src, out, overwrite):
    """Enhance ``src`` into ``out``; returns None, or the reason it failed (naming the file and the fix)."""
    try:
        info = read_info(src)  # its header, read once: the channel check and the enhancer take it
        reason = channel_error(src, info.channels, enhancer.downmix)
        if reason is None:
            enhancer.enhance_file(src, out, overwrite=overwrite, info=info)
        return reason
    except OSError as err:
        if err.filename is not None and Path(err.filename) == Path(src):  # the input side: gone, or no permission
            return f"cannot read {src} ({err.strerror or err}); check the file and its permissions"
        # the output side: a sub-folder taken by a file, a full disk, no permission
        where = f": {err.filename}" if err.filename else ""
        return f"cannot write {out} ({err.strerror or err}{where}); free that path or choose another -o folder"
    except Exception as err:  # noqa: BLE001 -- one bad file must not stop the batch; reported in the summary
        return str(err) or type(err).__name__


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
    parser.add_argument("--chunk-seconds", type=float,
                        help="model input length (default: the model's training crop, 2 s for the recipes' small "
                             "models)")
    parser.add_argument("--overlap-seconds", type=float,
                        help="cross-faded overlap (default: half the chunk; needs --chunk-seconds)")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's)")
    return parser


def main(argv=None):
    """Run maese-enhance on ``argv`` (None: the command line); returns the exit status."""
    parser = build_parser()
    args = parser.parse_intermixed_args(argv)
    bad_chunking = chunking_error(args.chunk_seconds, args.overlap_seconds)
    if bad_chunking:
        parser.error(bad_chunking)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        load = Enhancer.default if args.model == DEFAULT_MODEL else partial(Enhancer.from_experiment, args.model)
        chunking = {} if args.chunk_seconds is None else {"chunk_seconds": args.chunk_seconds,
                                                          "overlap_seconds": args.overlap_seconds}
        enhancer = load(**chunking, downmix=args.downmix, device=args.device)
    except (OSError, ValueError, RuntimeError) as err:
        print(f"maese-enhance: cannot load the model from {args.model}: {err}", file=sys.stderr)
        return 2
    unwritable = output_folder_error(args.out_dir)
    if unwritable:
        print(f"maese-enhance: {unwritable}", file=sys.stderr)
        return 2
    jobs, failed = plan(args.inputs, args.out_dir, args.recursive)
    done, skipped = [], []
    for src, out in tqdm(jobs, desc="maese-enhance", unit="file", disable=None):
        if out.exists() and not args.overwrite:
            skipped.append(out)
            continue
        reason = enhance_one(enhancer, src, out, args.overwrite)
        if reason:
            failed.append((str(src), reason))
        else:
            done.append(out)
    print(summary(done, skipped, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
