"""tools/package_model.py: a fine-tuning experiment packaged as maese ships its default model."""

import pytest
from scoring_fixtures import load_tool
from test_inference import experiment, same_weights  # noqa: F401 -- experiment: the fixture

from maese.inference import INFERENCE_CONFIG, PACKAGED_WEIGHTS, Enhancer

@pytest.fixture
def card(tmp_path):
    path = tmp_path / "data.md"
    path.write_text("## Data\n\nspeech: a test corpus (CC0).")
    return path


def test_the_best_checkpoint_is_packaged_with_its_config_and_a_card(experiment, card, tmp_path):
    package = load_tool("package_model").package
    out = package(experiment[0], tmp_path / "pretrained" / "denoise", "run.sh --size tiny", card)
    assert sorted(p.name for p in out.iterdir()) == ["MODEL_CARD.md", INFERENCE_CONFIG, PACKAGED_WEIGHTS]
    assert same_weights(Enhancer.from_experiment(out).model, experiment[1])  # the best checkpoint, not another
    text = (out / "MODEL_CARD.md").read_text()
    assert "`run.sh --size tiny`" in text and "speech: a test corpus (CC0)." in text and "SHA-256" in text
    assert "- at commit: `" in text


def test_an_existing_package_is_kept_and_a_bad_experiment_writes_nothing(experiment, card, tmp_path, capsys):
    tool = load_tool("package_model")
    out = tool.package(experiment[0], tmp_path / "denoise", "cmd", card)
    before = (out / PACKAGED_WEIGHTS).read_bytes()
    assert tool.main(["--experiment", str(experiment[0]), "--out", str(out), "--command", "c",
                      "--data_card", str(card)]) == 1
    assert "pass --overwrite" in capsys.readouterr().err and (out / PACKAGED_WEIGHTS).read_bytes() == before
    assert tool.main(["--experiment", str(tmp_path / "none"), "--out", str(tmp_path / "new"), "--command", "c",
                      "--data_card", str(card)]) == 1
    assert "no fine-tuning checkpoint" in capsys.readouterr().err and not (tmp_path / "new").exists()
    assert not (tmp_path / "new.partial").exists()
