#!/usr/bin/env python3
"""DNS recipe training entry point: one script, the stage picked by the hparams' ``task``.

    python train.py hparams/pretrain.yaml [--size tiny|small|paper] [--device cpu] [--batch_size 8]
    torchrun --nproc_per_node=2 train.py hparams/pretrain.yaml --distributed_backend gloo   # DDP on CPU
    python train.py hparams/finetune_denoise.yaml [--paired_fraction 0.01]   # also finetune_dereverb, scratch_*

A stage file may be thin: ``base: <file>`` plus plain values, which override the base file's
(command-line overrides win over both).
"""

import sys

from dns_paired import paired_manifest, prepare_paired
from dns_test_sets import REAL_SET, enhancement_splits, prepare_test_sets
from prepare import prepare_dns
from speechbrain.utils.distributed import run_on_main

from maese import recipe
from maese.brains.finetune import check_finetune_hparams, paired_dataset
from maese.brains.pretrain import MAEPretrainBrain, check_pretrain_hparams
from maese.dataio import audio_dataset
from maese.realdata import build_real_validation
from maese.shards import shard_train_data


def prepare_pretrain(hparams):
    """Pre-training manifests on the main process (others wait)."""
    run_on_main(
        prepare_dns,
        kwargs={
            "save_folder": hparams["prep_folder"],
            "data_folder": hparams["data_folder"],
            "unlabeled_folder": hparams["unlabeled_folder"],
            "corpus_folder": hparams["corpus_folder"],
            "corpus_size": hparams["corpus_size"],
            "valid_fraction": hparams["valid_fraction"],
            "mix_noise_fraction": hparams["mix_noise_fraction"],
            "mix_snr_range": hparams["mix_snr_range"],
            "min_duration": hparams["min_duration"],
            "sample_rate": hparams["sample_rate"],
            "seed": hparams["data_seed"],
        },
    )


def prepare_finetune(hparams):
    """Paired manifests (from a DNS release, its synthetic test sets too; with ``real_data_folder``, the real-speech
    validation set) on the main process (others wait)."""
    run_on_main(
        prepare_paired,
        kwargs={
            "save_folder": hparams["prep_folder"],
            "enhance_task": hparams["enhance_task"],
            "paired_fraction": hparams["paired_fraction"],
            "data_folder": hparams["data_folder"],
            "corpus_folder": hparams["corpus_folder"],
            "corpus_size": hparams["corpus_size"],
            "min_paired_utterances": hparams["min_paired_utterances"],
            "min_duration": hparams["min_duration"],
            "seed": hparams["data_seed"],
            "sample_rate": hparams["sample_rate"],
            "snr_range": hparams["snr_range"],
            "target_filter": hparams["target_filter"],
        },
    )
    if hparams["data_folder"]:
        run_on_main(prepare_test_sets, args=[hparams["prep_folder"], hparams["data_folder"], hparams["sample_rate"]])
    if hparams["real_data_folder"]:
        run_on_main(build_real_validation, args=[hparams["real_data_folder"], f"{hparams['prep_folder']}/{REAL_SET}"])


def pretrain(hparams, run_opts):
    """MAE pre-training (from the manifest's files, or streamed from ``shard_folder``), then validation metrics of the best checkpoint into ``metrics_file``."""
    prep = hparams["prep_folder"]
    train_data = audio_dataset(f"{prep}/pretrain_train.json", hparams["sample_rate"])
    if hparams["shard_folder"]:  # stream WebDataset shards instead, each DDP rank its own (a ready DataLoader)
        train_data = shard_train_data(hparams)
    valid_data = audio_dataset(f"{prep}/pretrain_valid.json", hparams["sample_rate"])
    hparams["augment"] = hparams["augment"]()
    recipe.fit_and_validate(MAEPretrainBrain, hparams, run_opts, train_data, valid_data)


def finetune(hparams, run_opts):
    """Fine-tuning (or scratch training) on pairs made on the fly, validation metrics of the best checkpoint,
    enhancement of the task's validation and test inputs into ``<enhanced_folder>/<split>/<task>/``
    (see ``dns_test_sets.enhancement_splits``)."""
    prep, task, sample_rate = hparams["prep_folder"], hparams["enhance_task"], hparams["sample_rate"]
    paired = paired_manifest(prep, hparams["paired_fraction"], hparams["target_filter"])
    train_data = audio_dataset(paired, sample_rate, output_key="clean")
    valid_data = paired_dataset(f"{prep}/valid_{task}.json", sample_rate)
    hparams["distortion"] = hparams["distortion"]()
    best = recipe.finetune(hparams, run_opts, train_data, valid_data)
    splits = enhancement_splits(prep, hparams["data_folder"], hparams["corpus_folder"], task)
    run_on_main(recipe.enhance_splits, args=[hparams, best, splits])


# task: (data preparation, stage, hparam check)
TASKS = {
    "pretrain": (prepare_pretrain, pretrain, check_pretrain_hparams),
    "finetune": (prepare_finetune, finetune, check_finetune_hparams),
}


if __name__ == "__main__":
    recipe.main(sys.argv[1:], TASKS)
