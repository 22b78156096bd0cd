"""maese.features: STFT round trip, shapes, magnitude/phase and compression inverses."""

import pytest
import torch

from maese.features import STFT, get_compression, magnitude_phase, polar


def snr(ref, est):
    return 10 * torch.log10(ref.pow(2).sum() / (ref - est).pow(2).sum())


@pytest.mark.parametrize("length", [16000 * 4, 12345, 700])
def test_stft_round_trip_above_60_db(length):
    torch.manual_seed(0)
    stft = STFT()
    x = torch.randn(2, length)
    spec = stft(x)
    assert spec.shape == (2, stft.num_frames(length), 257) and spec.is_complex()
    assert snr(x, stft.inverse(spec, length)) > 60


def test_stft_hparams_and_errors():
    stft = STFT(n_fft=256, hop_length=64, win_length=256, window="hamming")
    x = torch.randn(1, 4000)
    assert stft(x).shape == (1, 4000 // 64 + 1, 129)
    assert snr(x, stft.inverse(stft(x), 4000)) > 60
    with pytest.raises(ValueError, match="window"):
        STFT(window="kaiser")
    with pytest.raises(ValueError, match="hop_length"):
        STFT(hop_length=1024)


def test_magnitude_phase_polar_inverse():
    spec = STFT()(torch.randn(1, 8000))
    mag, phase = magnitude_phase(spec)
    assert (mag >= 0).all()
    assert torch.allclose(polar(mag, phase), spec, atol=1e-4)


@pytest.mark.parametrize("name,kwargs", [("log1p", {}), ("log", {"eps": 1e-4}), ("power", {"exponent": 0.3}), ("none", {})])
def test_compression_exact_inverse(name, kwargs):
    mag = torch.rand(3, 50, 257) * 30
    comp = get_compression(name, **kwargs)
    assert torch.allclose(comp.decompress(comp.compress(mag)), mag, rtol=1e-4, atol=1e-4)


def test_compression_values_and_errors():
    mag = torch.tensor([0.0, 1.0, 10.0])
    assert torch.allclose(get_compression("log1p").compress(mag), torch.log1p(mag))
    assert torch.allclose(get_compression("power", exponent=0.5).compress(mag), mag.sqrt())
    assert torch.equal(get_compression("none").compress(mag), mag)
    with pytest.raises(ValueError, match="'mel'.*log1p"):
        get_compression("mel")
    with pytest.raises(ValueError, match="exponent"):
        get_compression("power", exponent=2.0)
    with pytest.raises(ValueError, match="eps"):
        get_compression("log", eps=0.0)
