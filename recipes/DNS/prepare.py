"""Data preparation for the DNS recipe: the pre-training manifests from a DNS-Challenge-layout folder.

With no ``data_folder``, the embedded synthetic corpus (same layout) is built once and used.

Pre-training sees only noisy speech. From a DNS layout the noisy input is mixed once from the
``clean/`` folder and one half of the ``noise/`` folder; the other half feeds the augmentation
stack, so the noise the stack adds is never the noise already in its input. A folder of the user's
own noisy recordings (``unlabeled_folder``, any rate) can be used instead.

Writes into ``save_folder``:
  pretrain_train.json, pretrain_valid.json   noisy utterances (the pre-training input and target)
  stack_noise.json, stack_rirs.json          the augmentation stack's noise and impulse responses

The layout and its resampling cache are in ``dns_layout.py``, the fine-tuning manifests in ``dns_paired.py``,
the release's synthetic test sets in ``dns_test_sets.py`` (the command line below prepares them too).
"""

import logging
from pathlib import Path

from dns_layout import dns_folder, dns_part
from dns_test_sets import prepare_test_sets

from maese.dataio import check_audio_entries
from maese.dataprep import (
    PreparationError,
    audio_files,
    audio_manifest,
    is_prepared,
    mark_prepared,
    mix_noisy_copies,
    split_entries,
    split_files,
    write_audio_manifest,
)
from maese.shards import write_shards

logger = logging.getLogger(__name__)


def prepare_dns(
    save_folder,
    data_folder=None,
    unlabeled_folder=None,
    corpus_folder=None,
    corpus_size="small",
    valid_fraction=0.05,
    mix_noise_fraction=0.5,
    mix_snr_range=(20.0, 40.0),
    min_duration=2.0,
    sample_rate=16000,
    seed=1234,
):
    """Write the pre-training manifests (see the module docstring); idempotent.

    Arguments
    ---------
    save_folder : str
    data_folder : str or None
        A DNS-layout folder; ``None`` builds/uses the embedded corpus in ``corpus_folder``.
    unlabeled_folder : str or None
        The user's own noisy recordings (no clean needed); replaces the mixed noisy input.
    corpus_folder, corpus_size : str
        Where and at which size the embedded corpus is built when ``data_folder`` is None.
    valid_fraction : float
        Share of noisy utterances held out for validation.
    mix_noise_fraction : float
        Share of the noise files used to make the noisy input; the rest feed the stack.
    mix_snr_range : (float, float)
        SNR (dB) range of the one-off noisy mixes.
    min_duration : float
        Utterances shorter than this (s) are left out (pre-training crops fixed-length segments).
    sample_rate : int
    seed : int
    """
    options = {k: v for k, v in locals().items() if k != "save_folder"}
    if data_folder is not None:  # the embedded corpus is not used: its options do not matter
        options = {k: v for k, v in options.items() if k not in ("corpus_folder", "corpus_size")}
    save_folder = Path(save_folder)
    if is_prepared(save_folder, options):
        logger.info("%s already prepared; skipping.", save_folder)
        return
    data_folder = dns_folder(data_folder, corpus_folder, corpus_size)  # a wrong folder fails before any write
    save_folder.mkdir(parents=True, exist_ok=True)

    noise_files, noise_roots = dns_part(data_folder, "noise", save_folder, sample_rate)
    rir_files, rir_roots = dns_part(data_folder, "impulse_responses", save_folder, sample_rate)
    if unlabeled_folder is not None:
        folder = Path(unlabeled_folder)
        noisy, dropped = audio_manifest(audio_files(folder, "noisy recordings"), root=folder, min_duration=min_duration)
        stack_noise = noise_files
    else:
        mix_noise, stack_noise = split_files(noise_files, mix_noise_fraction, seed)
        if not mix_noise or not stack_noise:
            raise PreparationError(f"{noise_roots[0]}: need at least 2 noise files, found {len(noise_files)}.")
        clean_files, clean_roots = dns_part(data_folder, "clean", save_folder, sample_rate)
        clean, dropped = audio_manifest(clean_files, root=clean_roots, min_duration=min_duration)
        check_audio_entries(clean, manifest_name=str(clean_roots[0]))
        noisy = mix_noisy_copies(clean, mix_noise, save_folder / "noisy_input", mix_snr_range, seed, sample_rate)
    if dropped:
        logger.warning("Left out %d utterances shorter than min_duration=%.1f s.", dropped, min_duration)
    if len(noisy) < 2:
        raise PreparationError(f"Only {len(noisy)} utterances of at least {min_duration} s; lower min_duration or add data.")
    check_audio_entries(noisy, manifest_name="noisy pre-training input")

    stack_noise_entries, _ = audio_manifest(stack_noise, root=noise_roots)
    rir_entries, _ = audio_manifest(rir_files, root=rir_roots)
    check_audio_entries(stack_noise_entries, manifest_name=str(noise_roots[0]))
    check_audio_entries(rir_entries, manifest_name=str(rir_roots[0]))

    train, valid = split_entries(noisy, valid_fraction, seed)
    write_audio_manifest(save_folder / "pretrain_train.json", train)
    write_audio_manifest(save_folder / "pretrain_valid.json", valid)
    write_audio_manifest(save_folder / "stack_noise.json", stack_noise_entries)
    write_audio_manifest(save_folder / "stack_rirs.json", rir_entries)
    mark_prepared(save_folder, options)


def main(argv=None):
    """``python prepare.py --save_folder P [--data_folder D | --corpus_folder C] [--shards DIR]``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--save_folder", required=True, help="where the manifests (and resampled copies) go")
    parser.add_argument("--data_folder", help="a DNS layout: datasets/ or datasets_fullband/ of the release")
    parser.add_argument("--corpus_folder", help="without --data_folder: the embedded corpus (built if missing)")
    parser.add_argument("--corpus_size", default="small", choices=("tiny", "small", "paper"))
    parser.add_argument("--unlabeled_folder", help="your own noisy recordings instead of mixing clean/ and noise/")
    parser.add_argument("--sample_rate", type=int, default=16000)
    parser.add_argument("--min_duration", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--shards", help="also write the pre-training audio as WebDataset tar shards here")
    parser.add_argument("--num_shards", type=int, help="how many shards (a multiple of the DDP process count)")
    parser.add_argument("--utterances_per_shard", type=int, default=1000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        prepare_dns(args.save_folder, data_folder=args.data_folder, unlabeled_folder=args.unlabeled_folder,
                    corpus_folder=args.corpus_folder, corpus_size=args.corpus_size, min_duration=args.min_duration,
                    sample_rate=args.sample_rate, seed=args.seed)
        if args.data_folder:
            prepare_test_sets(args.save_folder, args.data_folder, args.sample_rate)
        if args.shards:
            write_shards(Path(args.save_folder) / "pretrain_train.json", args.shards, args.sample_rate,
                         args.num_shards, args.utterances_per_shard, args.seed)
    except (PreparationError, ValueError) as err:
        raise SystemExit(f"prepare.py: {err}") from None


if __name__ == "__main__":
    main()
