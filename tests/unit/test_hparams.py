"""maese.hparams: size presets (the recipes' small and paper ones load) and errors that name the key."""

from pathlib import Path

import pytest
import yaml

from maese.hparams import HparamError, load_recipe_hparams, require, top_level_keys

RECIPES = Path(__file__).resolve().parents[2] / "recipes"

YAML = """size: small
model_size: small
epochs: 10
double: !ref <epochs> * 2
"""


@pytest.fixture
def hparams_file(tmp_path):
    (tmp_path / "sizes").mkdir()
    (tmp_path / "sizes" / "tiny.yaml").write_text("model_size: tiny\nepochs: 1\nunused_elsewhere: 3\n")
    (tmp_path / "sizes" / "small.yaml").write_text("model_size: small\nepochs: 10\n")
    (tmp_path / "other_stage.yaml").write_text("unused_elsewhere: 0\n")  # a size key only another stage uses
    path = tmp_path / "stage.yaml"
    path.write_text(YAML)
    return path


def test_size_preset_applies_and_overrides_win(hparams_file):
    assert load_recipe_hparams(hparams_file, "")["model_size"] == "small"
    tiny = load_recipe_hparams(hparams_file, "size: tiny")
    assert (tiny["model_size"], tiny["epochs"], tiny["double"]) == ("tiny", 1, 2)
    assert load_recipe_hparams(hparams_file, {"size": "tiny", "epochs": 4})["double"] == 8


def test_bad_keys_and_values_are_named(hparams_file):
    with pytest.raises(HparamError, match="epoch_count"):
        load_recipe_hparams(hparams_file, "epoch_count: 3")
    with pytest.raises(HparamError, match="size.*'huge'"):
        load_recipe_hparams(hparams_file, "size: huge")
    with pytest.raises(HparamError, match="lr: got -1"):
        require({"lr": -1}, "lr", lambda v: v > 0, "a positive number")


def test_an_unknown_key_in_a_size_file_is_named_with_the_file(hparams_file):
    preset = hparams_file.parent / "sizes" / "tiny.yaml"
    preset.write_text("model_size: tiny\nepochs: 1\nepohcs: 2\n")
    message = (f"{preset}: unknown key(s) ['epohcs']: no stage file of {hparams_file.parent} (other_stage.yaml, "
               "stage.yaml) defines them; correct or remove them.")
    with pytest.raises(HparamError) as err:
        load_recipe_hparams(hparams_file, "size: tiny")
    assert str(err.value) == message
    assert load_recipe_hparams(hparams_file, "")["epochs"] == 10  # the small preset is still fine


@pytest.mark.parametrize("size", ["small", "paper"])
@pytest.mark.parametrize("recipe", ["DNS", "Voicebank", "WHAMR"])
def test_the_small_and_paper_presets_of_every_recipe_load(recipe, size, tmp_path):
    """Every full stage file (a thin one loads its base) builds with the preset, whose values it then holds."""
    folder = RECIPES / recipe / "hparams"
    preset = yaml.safe_load((folder / "sizes" / f"{size}.yaml").read_text())
    stages = [path for path in sorted(folder.glob("*.yaml")) if "base" not in top_level_keys(path)]
    assert stages
    for stage in stages:
        hparams = load_recipe_hparams(stage, {"size": size, "output_folder": str(tmp_path / stage.stem)})
        applied = {key: value for key, value in preset.items() if key in top_level_keys(stage)}
        assert applied and {key: hparams[key] for key in applied} == applied, stage
        assert hparams["model_size"] == size and sum(p.numel() for p in hparams["model"].parameters()) > 0


def test_the_real_speech_denoising_file_holds_the_measured_choices(tmp_path):
    """hparams/finetune_denoise_real.yaml: finetune.yaml with the real-speech model's command (RESULTS.md), the size
    preset's epochs kept (--size small); it differs from finetune_denoise.yaml in every key it names besides the task's
    two."""
    from maese.recipe import resolve_base

    folder = RECIPES / "DNS" / "hparams"
    thin = yaml.safe_load((folder / "finetune_denoise_real.yaml").read_text())
    base, overrides = resolve_base(str(folder / "finetune_denoise_real.yaml"), f"output_folder: {tmp_path}")
    hparams = load_recipe_hparams(base, {**overrides, "size": "small"})
    plain = load_recipe_hparams(*resolve_base(str(folder / "finetune_denoise.yaml"), f"output_folder: {tmp_path}"))
    assert hparams["examples_per_epoch"] == 1152 and hparams["snr_range"] == [-5.0, 20.0]
    assert hparams["pesq_weight"] == 0.2 and hparams["stoi_extended"] is True
    assert hparams["finetune_epochs"] == yaml.safe_load((folder / "sizes" / "small.yaml").read_text())["finetune_epochs"]
    assert hparams["distortion"].keywords["clean_input_prob"] == 0.3
    for key in thin.keys() - {"base", "enhance_task", "init"}:  # the last two as in finetune_denoise.yaml
        assert hparams[key] == thin[key] and hparams[key] != plain[key], key
