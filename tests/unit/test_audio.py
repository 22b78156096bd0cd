"""maese.audio: loading any wav/flac format, downmix, resampling, validation errors, atomic save."""

import os

import numpy as np
import pytest
import soundfile as sf
import torch

from maese.audio import AudioError, downmix, load_audio, read_info, resample, save_audio


def tone(rate=16000, seconds=0.5, freq=440.0, channels=1):
    t = np.arange(int(rate * seconds)) / rate
    x = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.stack([x * (c + 1) / channels for c in range(channels)], axis=1) if channels > 1 else x


@pytest.mark.parametrize(
    "suffix,subtype,tol",
    [(".wav", "PCM_16", 1e-4), (".wav", "PCM_24", 1e-6), (".wav", "FLOAT", 1e-7), (".flac", "PCM_16", 1e-4),
     (".wav", "PCM_U8", 1e-2)],
)
def test_load_formats(tmp_path, suffix, subtype, tol):
    x = tone()
    path = tmp_path / f"x{suffix}"
    sf.write(path, x, 16000, subtype=subtype)
    wav = load_audio(path, sample_rate=None)
    assert wav.dtype == torch.float32 and wav.shape == (len(x),)
    assert np.max(np.abs(wav.numpy() - x)) < tol


def test_downmix_and_multichannel(tmp_path):
    x = tone(channels=2)
    path = tmp_path / "st.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    both = load_audio(path, sample_rate=None, mono=False)
    assert both.shape == (2, x.shape[0])
    mono = load_audio(path, sample_rate=None)
    assert torch.allclose(mono, torch.from_numpy(x.mean(axis=1)).float(), atol=1e-6)
    assert torch.equal(downmix(mono), mono)


def test_resample_keeps_tone(tmp_path):
    path = tmp_path / "48k.wav"
    sf.write(path, tone(rate=48000, freq=1000.0), 48000, subtype="FLOAT")
    wav = load_audio(path, sample_rate=16000)
    assert wav.shape == (8000,)
    spectrum = torch.fft.rfft(wav).abs()
    assert abs(int(spectrum.argmax()) * 16000 / 8000 - 1000.0) <= 2.0
    assert torch.equal(resample(wav, 16000, 16000), wav)


def test_missing_empty_corrupt_nan(tmp_path):
    with pytest.raises(AudioError, match="no such audio file"):
        load_audio(tmp_path / "missing.wav")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty.wav.*empty"):
        load_audio(empty)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 4)
    with pytest.raises(AudioError, match="corrupt.wav"):
        load_audio(corrupt)
    noframes = tmp_path / "noframes.wav"
    sf.write(noframes, np.zeros(0), 16000)
    with pytest.raises(AudioError, match="no samples"):
        read_info(noframes)
    nan = tmp_path / "nan.wav"
    x = tone()
    x[100] = np.nan
    sf.write(nan, x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav.*NaN"):
        load_audio(nan)


def test_save_atomic_and_no_silent_overwrite(tmp_path):
    path = tmp_path / "sub" / "out.wav"
    save_audio(path, torch.from_numpy(tone()).float(), 16000)
    assert sf.info(path).samplerate == 16000
    with pytest.raises(FileExistsError):
        save_audio(path, torch.zeros(10), 16000)
    save_audio(path, torch.zeros(10), 16000, overwrite=True)
    assert sf.info(path).frames == 10
    with pytest.raises(AudioError):
        save_audio(tmp_path / "bad.wav", torch.tensor([0.0, float("nan")]), 16000)
    assert [p.name for p in path.parent.iterdir()] == ["out.wav"]
    assert not (tmp_path / "bad.wav").exists()


def test_saved_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        save_audio(tmp_path / "a.wav", torch.zeros(160), 16000)
    finally:
        os.umask(old)
    assert (tmp_path / "a.wav").stat().st_mode & 0o777 == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
