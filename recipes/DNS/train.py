#!/usr/bin/env python3
"""DNS recipe training entry point: one script, the stage picked by the hparams' ``task``.

    python train.py hparams/pretrain.yaml [--size tiny|small|paper] [--device cpu] [--batch_size 8]
    torchrun --nproc_per_node=2 train.py hparams/pretrain.yaml --distributed_backend gloo   # DDP on CPU
"""

import sys

import speechbrain as sb
from speechbrain.utils.distributed import run_on_main

from maese.brains.pretrain import MAEPretrainBrain, check_pretrain_hparams
from maese.dataio import audio_dataset
from maese.hparams import load_recipe_hparams
from prepare import prepare_dns


def prepare(hparams):
    """Data preparation on the main process (others wait)."""
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
            "seed": hparams["seed"],
        },
    )


def pretrain(hparams, run_opts):
    """MAE pre-training, then validation metrics of the best checkpoint into ``metrics_file``."""
    prep = hparams["prep_folder"]
    train_data = audio_dataset(f"{prep}/pretrain_train.json", hparams["sample_rate"])
    valid_data = audio_dataset(f"{prep}/pretrain_valid.json", hparams["sample_rate"])
    hparams["augment"] = hparams["augment"]()
    brain = MAEPretrainBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    brain.fit(
        hparams["epoch_counter"],
        train_data,
        valid_data,
        train_loader_kwargs=hparams["train_dataloader_opts"],
        valid_loader_kwargs=hparams["valid_dataloader_opts"],
    )
    brain.evaluate(valid_data, min_key="loss", test_loader_kwargs=hparams["valid_dataloader_opts"])


TASKS = {"pretrain": (pretrain, check_pretrain_hparams)}


def main(argv):
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    sb.utils.distributed.ddp_init_group(run_opts)
    hparams = load_recipe_hparams(hparams_file, overrides)
    if hparams["task"] not in TASKS:
        raise ValueError(f"hparam task: unknown value {hparams['task']!r}; use one of {sorted(TASKS)}.")
    run_task, check_hparams = TASKS[hparams["task"]]
    check_hparams(hparams)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"], hyperparams_to_save=hparams_file, overrides=overrides
    )
    prepare(hparams)
    run_task(hparams, run_opts)


if __name__ == "__main__":
    main(sys.argv[1:])
