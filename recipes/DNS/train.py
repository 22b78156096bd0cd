#!/usr/bin/env python3
"""DNS recipe training entry point: one script, the stage picked by the hparams' ``task``.

    python train.py hparams/pretrain.yaml [--size tiny|small|paper] [--device cpu] [--batch_size 8]
    torchrun --nproc_per_node=2 train.py hparams/pretrain.yaml --distributed_backend gloo   # DDP on CPU
    python train.py hparams/finetune_denoise.yaml [--paired_fraction 0.01]   # also finetune_dereverb, scratch_*

A stage file may be thin: ``base: <file>`` plus plain values, which override the base file's
(command-line overrides win over both).
"""

import logging
import sys
from pathlib import Path

import speechbrain as sb
import yaml
from speechbrain.utils.distributed import run_on_main

from maese.brains.finetune import TASK_INPUT, EnhanceFinetuneBrain, check_finetune_hparams, paired_dataset
from maese.brains.pretrain import MAEPretrainBrain, check_pretrain_hparams
from maese.dataio import audio_dataset
from maese.enhance import enhance_folder
from maese.hparams import load_recipe_hparams, top_level_keys
from maese.inference import write_inference_config
from maese.models.heads import load_pretrained_encoder
from prepare import paired_manifest, prepare_dns, prepare_paired

logger = logging.getLogger(__name__)


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
            "seed": hparams["seed"],
        },
    )


def prepare_finetune(hparams):
    """Paired manifests on the main process (others wait)."""
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
            "seed": hparams["seed"],
        },
    )


def fit_and_validate(brain_class, hparams, run_opts, train_data, valid_data):
    """Train a Brain with the recipe's usual hparams, then score its best checkpoint on ``valid_data``."""
    brain = brain_class(
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


def pretrain(hparams, run_opts):
    """MAE pre-training, then validation metrics of the best checkpoint into ``metrics_file``."""
    prep = hparams["prep_folder"]
    train_data = audio_dataset(f"{prep}/pretrain_train.json", hparams["sample_rate"])
    valid_data = audio_dataset(f"{prep}/pretrain_valid.json", hparams["sample_rate"])
    hparams["augment"] = hparams["augment"]()
    fit_and_validate(MAEPretrainBrain, hparams, run_opts, train_data, valid_data)


def finetune(hparams, run_opts):
    """Fine-tuning (or scratch training) on pairs, validation metrics of the best checkpoint, enhancement."""
    run_on_main(write_inference_config, args=[hparams["output_folder"], hparams])  # for maese-enhance
    prep, task, sample_rate = hparams["prep_folder"], hparams["enhance_task"], hparams["sample_rate"]
    train_data = audio_dataset(paired_manifest(prep, hparams["paired_fraction"]), sample_rate, output_key="clean")
    valid_data = paired_dataset(f"{prep}/valid_{task}.json", sample_rate)
    hparams["distortion"] = hparams["distortion"]()
    if hparams["init"] == "pretrained":
        logger.info("Encoder from %s", load_pretrained_encoder(hparams["model"], hparams["pretrained_folder"]))
    fit_and_validate(EnhanceFinetuneBrain, hparams, run_opts, train_data, valid_data)
    best = hparams["checkpointer"].find_checkpoint(min_key="loss")
    run_on_main(enhance_splits, args=[hparams, str(best.path)])


def enhance_splits(hparams, model_id):
    """Enhance the task's validation and test inputs into ``<enhanced_folder>/<split>/<task>/``."""
    root = Path(hparams["data_folder"] or hparams["corpus_folder"])
    task = hparams["enhance_task"]
    splits = {"valid": root / "valid_set", "indomain": root / "test_set" / "indomain", "ood": root / "test_set" / "ood"}
    for split, folder in splits.items():
        inputs = folder / task / TASK_INPUT[task]
        if not inputs.is_dir():
            logger.warning("No %s inputs at %s; not enhanced.", split, inputs)
            continue
        out = Path(hparams["enhanced_folder"]) / split / task
        enhance_folder(hparams["model"], inputs, out, model_id, hparams["sample_rate"])


# task: (data preparation, stage, hparam check)
TASKS = {
    "pretrain": (prepare_pretrain, pretrain, check_pretrain_hparams),
    "finetune": (prepare_finetune, finetune, check_finetune_hparams),
}


def resolve_base(hparams_file, overrides):
    """A thin stage file -> (its ``base`` file, the thin file's values updated by the command-line overrides)."""
    if "base" not in top_level_keys(hparams_file):
        return hparams_file, overrides
    values = yaml.safe_load(Path(hparams_file).read_text())
    base = str(Path(hparams_file).parent / values.pop("base"))
    return base, {**values, **(yaml.safe_load(overrides) or {})}


def main(argv):
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    hparams_file, overrides = resolve_base(hparams_file, overrides)
    sb.utils.distributed.ddp_init_group(run_opts)
    hparams = load_recipe_hparams(hparams_file, overrides)
    if hparams["task"] not in TASKS:
        raise ValueError(f"hparam task: unknown value {hparams['task']!r}; use one of {sorted(TASKS)}.")
    prepare, run_task, check_hparams = TASKS[hparams["task"]]
    check_hparams(hparams)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"], hyperparams_to_save=hparams_file, overrides=overrides
    )
    prepare(hparams)
    run_task(hparams, run_opts)


if __name__ == "__main__":
    main(sys.argv[1:])
