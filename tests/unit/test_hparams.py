"""maese.hparams: size presets and errors that name the key."""

import pytest

from maese.hparams import HparamError, load_recipe_hparams, require

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
