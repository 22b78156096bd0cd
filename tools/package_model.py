"""Package a fine-tuned model for shipping in maese/pretrained/<name>/ (what ``Enhancer.default()`` loads).

    python tools/package_model.py --experiment recipes/DNS/results/real/finetune_denoise_p0.1 \
        --out maese/pretrained/denoise --command "cd recipes/DNS && ./run.sh ..." --data_card DATA.md

Writes ``inference.json`` (the model config), ``model.ckpt`` (the best checkpoint's weights, nothing else) and
``MODEL_CARD.md``: the command that trained it, the commit it ran at, its validation metrics, the weights'
size and SHA-256, and the data it was trained on with their licences and credits (``--data_card``, a markdown
file). Loads the packaged folder back and enhances a second of noise to check it before it finishes. An existing
``--out`` is refused unless ``--overwrite``.
"""

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import torch

from maese.inference import INFERENCE_CONFIG, PACKAGED_WEIGHTS, Enhancer, find_best_checkpoint
from maese.models.mae import count_parameters


def git_commit(folder):
    """The commit checked out in ``folder`` (with ``-dirty`` when it has changes), or ``unknown``."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def model_card(name, command, commit, experiment, metrics, weights, parameters, data_card):
    """The markdown of MODEL_CARD.md."""
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    lines = [
        f"# {name}: the model maese ships", "",
        f"- trained by: `{command}`", f"- at commit: `{commit}`",
        f"- from the experiment folder: `{experiment}` (its best checkpoint: lowest validation loss)",
        f"- weights: `{PACKAGED_WEIGHTS}`, {weights.stat().st_size / 1e6:.2f} MB, {parameters:,} parameters, "
        f"SHA-256 `{digest}`",
        f"- validation metrics of that checkpoint (`valid_metrics.json`): `{json.dumps(metrics)}`", "",
        "Load it with `maese.inference.Enhancer.default()`, or `maese-enhance noisy.wav -o out/` (no `--model`).", "",
        data_card.strip(), "",
    ]
    return "\n".join(lines)


def package(experiment, out, command, data_card, overwrite=False):
    """Write the packaged model (see the module docstring) into ``out``; returns ``out``."""
    experiment, out = Path(experiment), Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; refusing to overwrite it (pass --overwrite).")
    checkpoint = find_best_checkpoint(experiment)
    enhancer = Enhancer.from_experiment(experiment)  # the experiment loads as a model before anything is written
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copy(experiment / INFERENCE_CONFIG, staging / INFERENCE_CONFIG)
    torch.save(torch.load(checkpoint, map_location="cpu"), staging / PACKAGED_WEIGHTS)
    metrics_file = experiment / "valid_metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    card = model_card(out.name, command, git_commit(experiment), experiment, metrics, staging / PACKAGED_WEIGHTS,
                      count_parameters(enhancer.model), Path(data_card).read_text())
    (staging / "MODEL_CARD.md").write_text(card)
    check = Enhancer.from_experiment(staging).enhance(0.1 * torch.randn(16000), 16000)
    if not torch.isfinite(check).all():
        raise ValueError(f"{staging}: the packaged model gives non-finite output; nothing was shipped.")
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", required=True, help="a fine-tuning output_folder (save/CKPT*, inference.json)")
    parser.add_argument("--out", required=True, help="the packaged model's folder, e.g. maese/pretrained/denoise")
    parser.add_argument("--command", required=True, help="the command that trained the model, for the card")
    parser.add_argument("--data_card", required=True, help="markdown file: the training data, licences, credits")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    try:
        out = package(args.experiment, args.out, args.command, args.data_card, args.overwrite)
    except (OSError, ValueError) as err:
        print(f"package_model.py: {err}", file=sys.stderr)
        return 1
    print(f"packaged {args.experiment} into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
