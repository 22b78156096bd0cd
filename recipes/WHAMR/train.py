#!/usr/bin/env python3
"""WHAMR! recipe: fine-tune a pre-trained MAE encoder for dereverberation on the corpus' fixed pairs.

    python train.py hparams/finetune.yaml --data_folder /data/whamr --pretrained_folder PRETRAIN/save
    python train.py hparams/scratch.yaml --data_folder /data/whamr             # the same model from scratch

After training, the best checkpoint enhances the (cached) test inputs into ``<output_folder>/enhanced/test/``;
score it with ``maese-score`` (see README.md and run.sh).
"""

import sys

from speechbrain.utils.distributed import run_on_main

from maese import recipe
from maese.brains.finetune import check_finetune_hparams
from prepare import prepare_whamr, test_input_folder

PREPARE_KEYS = ("data_folder", "cache_folder", "version", "input_folder", "sample_rate")


def prepare(hparams):
    """Cached pairs and their manifests on the main process (others wait)."""
    run_on_main(prepare_whamr, args=[hparams["prep_folder"]], kwargs={k: hparams[k] for k in PREPARE_KEYS})


def finetune(hparams, run_opts):
    """Train on the fixed pairs, validate the best checkpoint, enhance the test inputs."""
    test = test_input_folder(hparams["cache_folder"], hparams["version"], hparams["input_folder"])
    recipe.finetune_on_pairs(hparams, run_opts, {"test": test})


TASKS = {"finetune": (prepare, finetune, check_finetune_hparams)}


if __name__ == "__main__":
    recipe.main(sys.argv[1:], TASKS)
