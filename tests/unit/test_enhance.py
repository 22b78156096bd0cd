"""maese.enhance: folder enhancement, no clipping, no silent overwrite, any input rate and channel count."""

from types import SimpleNamespace

import pytest
import soundfile as sf
import torch

from maese.audio import load_audio, save_audio
from maese.enhance import enhance_folder


class Gain(torch.nn.Module):
    """A stand-in model: multiplies by ``gain``."""

    def __init__(self, gain):
        super().__init__()
        self.gain = torch.nn.Parameter(torch.tensor(float(gain)))

    def forward(self, wav):
        return SimpleNamespace(wav=wav * self.gain)


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


def test_enhance_folder_writes_mono_at_the_input_rate(tmp_path):
    tone = torch.sin(2 * torch.pi * 440 * torch.arange(22050) / 44100)
    stereo = torch.stack([0.2 * tone, 0.4 * tone])
    save_audio(tmp_path / "in" / "sub" / "a.flac", stereo, 44100, subtype="PCM_24")
    assert enhance_folder(Gain(2.0), tmp_path / "in", tmp_path / "out", "model-A") == (1, 0)
    info = sf.info(tmp_path / "out" / "sub" / "a.wav")
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (44100, 1, 22050, "FLOAT")
    expected = 2.0 * stereo.mean(dim=0)
    # resampled to 16 kHz and back: exact but for the ringing at the clip's ends
    assert torch.allclose(load_audio(tmp_path / "out" / "sub" / "a.wav", None)[500:-500], expected[500:-500], atol=1e-3)
