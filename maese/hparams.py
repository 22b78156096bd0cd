"""Loading recipe hparams: HyperPyYAML plus the tiny/small/paper size presets, with clear errors.

A recipe's ``hparams/`` folder holds ``sizes/<size>.yaml``: plain YAML of the values that change with
the size (model preset, epochs, batch size, corpus size...). Choosing ``--size tiny`` applies the
keys of ``sizes/tiny.yaml`` that the stage's hparams file defines; explicit overrides win. A key of a
size file that no stage file of the folder defines (a typo) fails, naming the size file and the key.
"""

from pathlib import Path

import yaml
from hyperpyyaml import load_hyperpyyaml

SIZES = ("tiny", "small", "paper")


class HparamError(ValueError):
    """A bad hparam key or value; the message names the key."""


def top_level_keys(hparams_file):
    """Top-level keys of a HyperPyYAML file, read without building anything."""
    keys = []
    for line in Path(hparams_file).read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#") and ":" in line:
            keys.append(line.split(":", 1)[0].strip())
    return keys


def size_overrides(hparams_file, size):
    """The entries of ``sizes/<size>.yaml`` (beside ``hparams_file``) that the file defines."""
    if size not in SIZES:
        raise HparamError(f"size: unknown value {size!r}; use one of {list(SIZES)}.")
    preset = Path(hparams_file).parent / "sizes" / f"{size}.yaml"
    if not preset.is_file():
        raise HparamError(f"size: no preset file {preset} for size {size!r}.")
    values = yaml.safe_load(preset.read_text()) or {}
    check_size_keys(preset, values, Path(hparams_file).parent)
    keys = set(top_level_keys(hparams_file))
    return {k: v for k, v in values.items() if k in keys}


def check_size_keys(preset, values, hparams_folder):
    """Raise :class:`HparamError` naming ``preset`` and its keys that no stage file of ``hparams_folder`` defines."""
    stage_files = sorted(Path(hparams_folder).glob("*.yaml"))
    known = {key for path in stage_files for key in top_level_keys(path)}
    unknown = sorted(k for k in values if k not in known)
    if unknown:
        raise HparamError(f"{preset}: unknown key(s) {unknown}: no stage file of {hparams_folder} "
                          f"({', '.join(p.name for p in stage_files)}) defines them; correct or remove them.")


def load_recipe_hparams(hparams_file, overrides=""):
    """Load a recipe's hparams with the size preset applied.

    Arguments
    ---------
    hparams_file : str
    overrides : str or dict
        YAML string (as from ``sb.parse_arguments``) or dict of overrides.

    Returns
    -------
    dict: the loaded hparams.
    """
    merged = effective_overrides(hparams_file, overrides)
    with open(hparams_file) as fin:
        try:
            return load_hyperpyyaml(fin, merged)
        except (TypeError, ValueError) as err:
            raise HparamError(f"{hparams_file}: bad hparam value ({err}). Overrides given: {overrides}.") from err


def effective_overrides(hparams_file, overrides=""):
    """The values ``hparams_file`` is loaded with: its size preset's, then ``overrides`` (YAML string or dict) on top.

    Also what an experiment's ``hyperparams.yaml`` is saved with, so that it shows the values that ran (a preset's
    epochs, not the file's own). Raises :class:`HparamError` naming any override the file does not define.
    """
    overrides = yaml.safe_load(overrides) if isinstance(overrides, str) else dict(overrides or {})
    overrides = overrides or {}
    keys = top_level_keys(hparams_file)
    unknown = sorted(k for k in overrides if k not in keys)
    if unknown:
        raise HparamError(f"Unknown hparam(s) {unknown} for {hparams_file}; valid keys: {keys}.")
    size = overrides.get("size")
    if size is None and "size" in keys:
        size = yaml.safe_load(load_size_line(hparams_file))
    return {**(size_overrides(hparams_file, size) if size is not None else {}), **overrides}


def load_size_line(hparams_file):
    """The raw value of the top-level ``size:`` entry of ``hparams_file``."""
    for line in Path(hparams_file).read_text().splitlines():
        if line.startswith("size:"):
            return line.split(":", 1)[1].split("#")[0]
    return "null"


def require(hparams, key, check, expected):
    """Raise :class:`HparamError` naming ``key`` unless ``check(hparams[key])`` holds."""
    if not check(hparams[key]):
        raise HparamError(f"hparam {key}: got {hparams[key]!r}, expected {expected}.")
