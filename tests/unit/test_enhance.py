"""maese.enhance: waveform and folder enhancement, no clipping, no silent overwrite."""

from types import SimpleNamespace

import pytest
import soundfile as sf
import torch

from maese.audio import load_audio, save_audio
from maese.enhance import enhance_folder, enhance_waveform


class Gain(torch.nn.Module):
    """A stand-in model: multiplies by ``gain``."""

    def __init__(self, gain):
        super().__init__()
        self.gain = torch.nn.Parameter(torch.tensor(float(gain)))

    def forward(self, wav):
        return SimpleNamespace(wav=wav * self.gain)


def test_enhance_waveform_keeps_the_shape():
    wav = torch.randn(1234)
    assert torch.allclose(enhance_waveform(Gain(0.5), wav), 0.5 * wav)
    assert enhance_waveform(Gain(1.0), torch.randn(2, 99)).shape == (2, 99)


def test_enhance_folder_same_names_levels_no_clipping_and_no_overwrite(tmp_path):
    inputs = tmp_path / "noisy"
    for i, peak in enumerate([0.2, 0.9]):
        save_audio(inputs / f"fileid_{i}.wav", torch.linspace(-peak, peak, 8000), 16000)
    out = tmp_path / "enhanced"
    assert enhance_folder(Gain(1.5), inputs, out, "model-A") == (2, 0)
    assert sorted(p.name for p in out.glob("*.wav")) == ["fileid_0.wav", "fileid_1.wav"]
    for i, peak in enumerate([0.2, 0.9]):
        wav = load_audio(out / f"fileid_{i}.wav")
        assert float(wav.abs().max()) == pytest.approx(1.5 * peak, rel=1e-3)  # 1.35: kept, not clipped
        assert sf.info(out / f"fileid_{i}.wav").samplerate == 16000
    (out / "fileid_0.wav").unlink()
    assert enhance_folder(Gain(1.5), inputs, out, "model-A") == (1, 1)  # an interrupted run resumes
    with pytest.raises(FileExistsError, match="outputs of another model \\(model-A\\)"):
        enhance_folder(Gain(1.0), inputs, out, "model-B")
