"""The dataset-agnostic skeleton of a recipe's ``train.py``: hparams loading, task dispatch, fit, enhancement.

A recipe's ``train.py`` defines its tasks as ``{task: (prepare, run, check_hparams)}`` and calls
:func:`main`; the hparams' ``task`` picks one. ``prepare(hparams)`` writes the manifests,
``run(hparams, run_opts)`` trains (typically with :func:`fit_and_validate` or :func:`finetune`), and
``check_hparams(hparams)`` fails early on a bad value, naming the key.

A stage file may be thin: ``base: <file>`` (a path relative to it) plus plain values, which override
the base file's (command-line overrides win over both).
"""

import gc
import logging
import shutil
import sys
from pathlib import Path

import speechbrain as sb
import torch
import yaml
from speechbrain.utils.distributed import ddp_barrier, is_distributed_initialized, run_on_main

from maese.brains.finetune import EnhanceFinetuneBrain, paired_dataset
from maese.enhance import enhance_folder
from maese.hparams import HparamError, effective_overrides, load_recipe_hparams, top_level_keys
from maese.inference import write_inference_config
from maese.models.heads import load_pretrained_encoder

logger = logging.getLogger(__name__)


def resolve_base(hparams_file, overrides):
    """A thin stage file -> (its ``base`` file, the thin file's values updated by the command-line overrides)."""
    if "base" not in top_level_keys(hparams_file):
        return hparams_file, overrides
    values = yaml.safe_load(Path(hparams_file).read_text())
    base = str(Path(hparams_file).parent / values.pop("base"))
    return base, {**values, **(yaml.safe_load(overrides) or {})}


def fit_and_validate(brain_class, hparams, run_opts, train_data, valid_data):
    """Train a Brain with the recipe's usual hparams, then score its best checkpoint on ``valid_data``.

    hparams used: ``modules``, ``opt_class``, ``checkpointer``, ``epoch_counter``,
    ``train_dataloader_opts``, ``valid_dataloader_opts`` (and those of ``brain_class``).

    Returns
    -------
    The trained Brain.
    """
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
    return brain


def finetune(hparams, run_opts, train_data, valid_data):
    """Fine-tune (``init: pretrained``) or train from scratch an EnhancementModel, then validate its best checkpoint.

    Writes ``<output_folder>/inference.json`` first (the folder is then a model for maese-enhance).

    Returns
    -------
    str: the path of the best checkpoint (the model id of the enhanced folders).
    """
    run_on_main(write_inference_config, args=[hparams["output_folder"], hparams])
    if hparams["init"] == "pretrained":
        logger.info("Encoder from %s", load_pretrained_encoder(hparams["model"], hparams["pretrained_folder"]))
    fit_and_validate(EnhanceFinetuneBrain, hparams, run_opts, train_data, valid_data)
    return str(hparams["checkpointer"].find_checkpoint(min_key="loss").path)


def finetune_on_pairs(hparams, run_opts, test_splits):
    """Train on a corpus' fixed pairs (``<prep_folder>/{train,valid}.json``), validate, enhance ``test_splits``.

    The recipe of a corpus distributed as pairs (``train_pairs: fixed``): the manifests hold
    ``{"wav": input, "clean_wav": target}`` (see :mod:`maese.pairs`); ``test_splits`` is as in
    :func:`enhance_splits`.
    """
    if hparams.get("train_pairs") != "fixed":
        raise HparamError(f"hparam train_pairs: got {hparams.get('train_pairs')!r}, expected 'fixed' "
                          "(this recipe trains on the corpus' own pairs).")
    prep, sample_rate = hparams["prep_folder"], hparams["sample_rate"]
    train_data = paired_dataset(f"{prep}/train.json", sample_rate)
    valid_data = paired_dataset(f"{prep}/valid.json", sample_rate)
    best = finetune(hparams, run_opts, train_data, valid_data)
    run_on_main(enhance_splits, args=[hparams, best, test_splits])


def enhance_splits(hparams, model_id, splits):
    """Enhance each split's input folder into ``<enhanced_folder>/<split>/`` with ``hparams["model"]``.

    Arguments
    ---------
    splits : dict
        split name (a relative path, e.g. ``test/denoise``) -> folder of inputs; a missing folder is
        logged and skipped.

    Returns
    -------
    dict split -> output folder, for the splits enhanced.
    """
    done = {}
    for split, inputs in splits.items():
        if not Path(inputs).is_dir():
            logger.warning("No %s inputs at %s; not enhanced.", split, inputs)
            continue
        done[split] = Path(hparams["enhanced_folder"]) / split
        enhance_folder(hparams["model"], inputs, done[split], model_id, hparams["sample_rate"],
                       hparams["segment_seconds"])
    return done


def load_task(argv, tasks):
    """Parse the command line, load the hparams, pick the task.

    Returns
    -------
    ``(hparams_file, overrides, hparams, run_opts, (prepare, run, check_hparams))``

    Raises
    ------
    HparamError naming ``task`` when the hparams' task is not one of ``tasks``.
    """
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    hparams_file, overrides = resolve_base(hparams_file, overrides)
    sb.utils.distributed.ddp_init_group(run_opts)
    hparams = load_recipe_hparams(hparams_file, overrides)
    if hparams.get("task") not in tasks:
        raise HparamError(f"hparam task: unknown value {hparams.get('task')!r}; use one of {sorted(tasks)}.")
    return hparams_file, overrides, hparams, run_opts, tasks[hparams["task"]]


def save_entry_point(output_folder):
    """Copy the running script (the recipe's train.py) into the experiment folder, beside this module's copy."""
    script = Path(sys.argv[0])
    if script.is_file():
        shutil.copy(script, Path(output_folder) / script.name)


def main(argv, tasks):
    """A recipe's ``train.py``: check the hparams, create the experiment folder, prepare the data, run the task.

    Arguments
    ---------
    argv : list of str
        ``hparams_file [--key value ...]`` as SpeechBrain parses it.
    tasks : dict
        task name -> ``(prepare, run, check_hparams)`` (module docstring).
    """
    hparams_file, overrides, hparams, run_opts, (prepare, run_task, check_hparams) = load_task(argv, tasks)
    check_hparams(hparams)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"], hyperparams_to_save=hparams_file,
        overrides=effective_overrides(hparams_file, overrides),
    )
    run_on_main(save_entry_point, args=[hparams["output_folder"]])
    prepare(hparams)
    run_task(hparams, run_opts)
    end_distributed(hparams)


def end_distributed(hparams):
    """Under DDP, release the run's objects, wait for every process, then destroy the process group (a no-op in
    one process).

    The checkpointer in ``hparams`` holds the Brain, whose DDP-wrapped modules hold the process group: left
    alive, they would be destroyed during interpreter shutdown, after the group, and a gloo process can abort
    there ("terminate called without an active exception") while the others finish, failing the whole torchrun.
    So ``hparams`` is emptied and its reference cycles collected first.
    """
    if is_distributed_initialized():
        hparams.clear()
        gc.collect()
        ddp_barrier()
        torch.distributed.destroy_process_group()
