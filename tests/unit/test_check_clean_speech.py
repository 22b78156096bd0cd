"""tools/check_clean_speech.py: PESQ of an enhanced clean clip against itself, and the level change."""

import numpy as np
import pytest
import torch

from maese.audio import save_audio
from scoring_fixtures import load_tool


class Gain:
    """A stand-in enhancer that scales its input."""

    def __init__(self, gain):
        self.gain = gain

    def enhance(self, wav, sample_rate):
        return wav * self.gain


def speech_like(tmp_path, seconds=3.0, rate=16000):
    """A file of 4-Hz modulated harmonics (PESQ finds utterances in it)."""
    t = torch.arange(int(seconds * rate)) / rate
    wav = sum(torch.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 12)) * (0.5 + 0.5 * torch.sin(2 * np.pi * 4 * t))
    path = tmp_path / "speech.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_audio(path, 0.1 * wav, rate, subtype="FLOAT")
    return path


def test_identity_keeps_pesq_and_level_and_a_gain_shows_in_the_level(tmp_path):
    tool, path = load_tool("check_clean_speech"), speech_like(tmp_path)
    pesq, level = tool.clean_speech_damage(Gain(1.0), [path])
    assert pesq[0] > 4.5 and level[0] == pytest.approx(0.0, abs=1e-4)
    pesq, level = tool.clean_speech_damage(Gain(0.5), [path])
    assert level[0] == pytest.approx(-6.02, abs=0.01)


def test_a_folder_without_audio_names_the_folder(tmp_path):
    with pytest.raises(SystemExit, match=f"{tmp_path}: no audio files"):
        load_tool("check_clean_speech").main(["--model", str(tmp_path), "--folders", str(tmp_path)])


class NoisyGain(Gain):
    """Scales and adds seeded white noise: a damaged, quieter output."""

    def enhance(self, wav, sample_rate):
        return wav * self.gain + 0.01 * torch.randn(wav.shape, generator=torch.Generator().manual_seed(0))


def test_table_gives_the_drop_from_the_untouched_clips_and_the_level(tmp_path, monkeypatch, capsys):
    tool, path = load_tool("check_clean_speech"), speech_like(tmp_path / "speaker1")  # in a speaker's sub-folder
    monkeypatch.setattr(tool.Enhancer, "from_experiment", classmethod(lambda cls, model: NoisyGain(0.5)))
    tool.main(["--model", "fake", "--folders", str(tmp_path)])
    row = capsys.readouterr().out.strip().splitlines()[-1].split("|")
    untouched = tool.clean_speech_damage(tool.Identity(), [path])[0][0]
    pesq, level = tool.clean_speech_damage(NoisyGain(0.5), [path])
    assert untouched - pesq[0] > 0.5, "the test needs a damaging enhancer"
    assert float(row[5]) == pytest.approx(untouched - pesq[0], abs=0.006)
    assert float(row[6]) == pytest.approx(level[0], abs=0.006) and level[0] < -5


def test_baselines_get_rows_beside_the_models(tmp_path, monkeypatch, capsys):
    tool, path = load_tool("check_clean_speech"), speech_like(tmp_path)
    monkeypatch.setitem(tool.BASELINES, "halving", lambda wav, rate: np.asarray(wav) * 0.5)
    monkeypatch.setattr(tool.Enhancer, "from_experiment", classmethod(lambda cls, model: Gain(1.0)))
    tool.main(["--model", "halving", "--baselines", "halving", "--folders", str(tmp_path)])  # a model of that name too
    rows = [line.split("|") for line in capsys.readouterr().out.strip().splitlines()[2:]]
    assert [row[1].strip() for row in rows] == ["halving", "halving"]
    assert float(rows[0][6]) == pytest.approx(0.0, abs=0.006) and float(rows[1][6]) == pytest.approx(-6.02, abs=0.01)


def test_no_system_is_an_error_that_says_what_to_give(tmp_path, capsys):
    speech_like(tmp_path)  # a folder with audio: the error is not the empty folder's
    with pytest.raises(SystemExit):
        load_tool("check_clean_speech").main(["--folders", str(tmp_path)])
    assert "give --model EXPERIMENT ... and/or --baselines NAME ..." in capsys.readouterr().err
