"""tools/check_clean_speech.py: PESQ of an enhanced clean clip against itself, and the level change."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from maese.audio import save_audio

TOOL = Path(__file__).resolve().parents[2] / "tools" / "check_clean_speech.py"


def load_tool():
    spec = importlib.util.spec_from_file_location("check_clean_speech", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    save_audio(path, 0.1 * wav, rate, subtype="FLOAT")
    return path


def test_identity_keeps_pesq_and_level_and_a_gain_shows_in_the_level(tmp_path):
    tool, path = load_tool(), speech_like(tmp_path)
    pesq, level = tool.clean_speech_damage(Gain(1.0), [path])
    assert pesq[0] > 4.5 and level[0] == pytest.approx(0.0, abs=1e-4)
    pesq, level = tool.clean_speech_damage(Gain(0.5), [path])
    assert level[0] == pytest.approx(-6.02, abs=0.01)


def test_a_folder_without_audio_names_the_folder(tmp_path):
    with pytest.raises(SystemExit, match=f"{tmp_path}: no .wav or .flac files"):
        load_tool().main(["--model", str(tmp_path), "--folders", str(tmp_path)])
