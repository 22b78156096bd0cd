#!/usr/bin/env python3
"""VoiceBank-DEMAND recipe: fine-tune a pre-trained MAE encoder for denoising on the corpus' fixed pairs.

    python train.py hparams/finetune.yaml --data_folder /data/VoiceBank --pretrained_folder PRETRAIN/save
    python train.py hparams/scratch.yaml --data_folder /data/VoiceBank          # the same model from scratch

After training, the best checkpoint enhances the (resampled) noisy test set into
``<output_folder>/enhanced/test/``; score it with ``maese-score`` (see README.md and run.sh).
"""

import sys
from pathlib import Path

from speechbrain.utils.distributed import run_on_main

from maese import recipe
from maese.brains.finetune import check_finetune_hparams
from prepare import SPLITS, prepare_voicebank


def prepare(hparams):
    """Resampled cache and pair manifests on the main process (others wait)."""
    run_on_main(prepare_voicebank, kwargs={key: hparams[key] for key in (
        "data_folder", "cache_folder", "valid_speakers", "sample_rate")} | {"save_folder": hparams["prep_folder"]})


def finetune(hparams, run_opts):
    """Train on the fixed pairs, validate the best checkpoint, enhance the test set."""
    recipe.finetune_on_pairs(hparams, run_opts, {"test": Path(hparams["cache_folder"]) / SPLITS["test"][1]})


TASKS = {"finetune": (prepare, finetune, check_finetune_hparams)}


if __name__ == "__main__":
    recipe.main(sys.argv[1:], TASKS)
