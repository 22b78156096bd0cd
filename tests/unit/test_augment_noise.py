"""maese.augment.AddNoise and the audio pools behind it."""

from pathlib import Path

import numpy as np
import pytest
import torch
from augment_fixtures import RATE, noise_files, one_torch_thread, speech_like, write  # noqa: F401

from maese.acoustics import snr_db
from maese.audio import AudioError
from maese.augment import AddNoise, AudioPool
from maese.dataio import write_manifest


@pytest.fixture(scope="module")
def noises(tmp_path_factory):
    return noise_files(tmp_path_factory.mktemp("noise"))


def test_snr_is_exact(noises):
    x = speech_like(16, RATE)
    y, params = AddNoise(noises, snr_range=(-5, 20), seed=0)(x)
    assert params["applied"].all()
    assert ((params["snr_db"] >= -5) & (params["snr_db"] <= 20)).all()
    assert (snr_db(x, y - x) - params["snr_db"]).abs().max() < 0.1
    assert set(params["noise_index"].tolist()) <= {0, 1, 2}


def test_short_noise_is_tiled_from_a_random_offset(noises):
    x = speech_like(4, RATE)
    aug = AddNoise(noises[:1], snr_range=(10, 10), seed=0)  # 0.25 s noise under 1 s clips
    d = (aug(x)[0] - x).numpy()
    n = int(0.25 * RATE)
    np.testing.assert_allclose(d[:, n:], d[:, :-n], atol=1e-6)
    assert not np.allclose(d[0], d[1] * d[0].std() / d[1].std(), atol=1e-3)  # different offsets


def test_same_seed_same_output_different_seed_different(noises):
    x = speech_like(4, RATE)
    aug = AddNoise(noises)
    y1, p1 = aug(x, generator=7)
    y2, _ = aug(x, generator=torch.Generator().manual_seed(7))
    y3, p3 = aug(x, generator=8)
    assert torch.equal(y1, y2)
    assert not torch.allclose(y1, y3)
    assert not torch.equal(p1["snr_db"], p3["snr_db"])


def test_probability_zero_and_one(noises):
    x = speech_like(8, RATE)
    y, params = AddNoise(noises, prob=0.0, seed=0)(x)
    assert torch.equal(y, x) and not params["applied"].any()
    assert torch.isinf(params["snr_db"]).all() and (params["noise_index"] == -1).all()
    y, params = AddNoise(noises, prob=1.0, seed=0)(x)
    assert params["applied"].all() and ((y - x).abs().amax(dim=1) > 0).all()


def test_silent_example_is_left_alone(noises):
    x = speech_like(3, RATE)
    x[1] = 0
    y, params = AddNoise(noises, seed=0)(x)
    assert torch.isfinite(y).all()
    assert params["applied"].tolist() == [True, False, True]
    assert torch.equal(y[1], x[1]) and params["snr_db"][1] == float("inf")


def test_padding_stays_silent_and_snr_holds(noises):
    x = speech_like(2, RATE)
    x[1, RATE // 2 :] = 0
    y, params = AddNoise(noises, seed=0)(x, lengths=torch.tensor([1.0, 0.5]))
    assert (y[1, RATE // 2 :] == 0).all()
    assert (snr_db(x[1, : RATE // 2], (y - x)[1, : RATE // 2]) - params["snr_db"][1]).abs() < 0.1


def test_bad_input_and_hparams(noises):
    aug = AddNoise(noises, seed=0)
    x = speech_like(2, 1000)
    x[0, 3] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        aug(x)
    with pytest.raises(ValueError, match=r"\[batch, time\]"):
        aug(torch.zeros(1000))
    with pytest.raises(ValueError, match="lengths"):
        aug(speech_like(2, 1000), lengths=torch.tensor([1.0, 1.5]))
    with pytest.raises(ValueError, match="snr_range.*20"):
        AddNoise(noises, snr_range=(20, 0))
    with pytest.raises(ValueError, match="prob.*1.5"):
        AddNoise(noises, prob=1.5)


def test_pool_names_every_bad_file(tmp_path, noises):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF not really a wav file")
    nan = write(tmp_path / "nan.wav", np.full(100, np.nan))
    silent = write(tmp_path / "silent.wav", np.zeros(100))
    missing = tmp_path / "missing.wav"
    with pytest.raises(AudioError) as err:
        AudioPool([noises[0], str(empty), str(corrupt), str(missing)])
    assert all(name in str(err.value) for name in ("empty.wav", "corrupt.wav", "missing.wav"))
    assert "3 of 4" in str(err.value)
    with pytest.raises(AudioError, match="nan.wav"):
        AudioPool([nan])
    with pytest.raises(AudioError, match="silent.wav"):
        AudioPool([silent])
    with pytest.raises(AudioError, match="nan.wav"):  # a lazy pool finds it when it reads the samples
        AudioPool([nan], max_cache_seconds=0).clips(torch.tensor([0]))


def test_pool_from_manifest_folder_and_list(tmp_path, noises):
    manifest = tmp_path / "noise.json"
    write_manifest(manifest, {f"n{i}": {"wav": path} for i, path in enumerate(noises)})
    folder = AudioPool(str(Path(noises[0]).parent))  # the fixture's own folder, whatever other tests made
    assert AudioPool(manifest).files == folder.files == AudioPool(noises).files
    assert sorted(AudioPool([manifest, noises[0]]).files) == sorted(noises + noises[:1])
    relative = tmp_path / "relative.json"  # SpeechBrain placeholders, as the embedded corpus writes them
    write_manifest(relative, {"n0": {"wav": "{data_root}/" + Path(noises[0]).name}})
    assert AudioPool(relative, replacements={"data_root": Path(noises[0]).parent}).files == noises[:1]


def test_lazy_pool_reads_the_same_samples(tmp_path, noises):
    cached, lazy = AudioPool(noises), AudioPool(noises, max_cache_seconds=0)
    assert cached.cached and not lazy.cached
    index, position = torch.tensor([0, 1, 2, 2]), torch.tensor([0.3, 0.0, 0.999, 0.5])
    for tile in (True, False):
        assert torch.equal(cached.segments(index, position, RATE, tile), lazy.segments(index, position, RATE, tile))
    assert torch.equal(cached.clips(index), lazy.clips(index))
    slow = write(tmp_path / "8k.wav", np.random.default_rng(0).standard_normal(8000) * 0.1, rate=8000)
    a, b = AudioPool([slow]).clips(torch.tensor([0])), AudioPool([slow], max_cache_seconds=0).clips(torch.tensor([0]))
    assert a.shape == b.shape == (1, RATE)
    assert torch.allclose(a[:, 100:-100], b[:, 100:-100], atol=1e-4)


def test_speed_factors_shift_a_recorded_noise_in_frequency_and_keep_the_snr(tmp_path):
    tone = write(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * 1000 * np.arange(2 * RATE) / RATE))
    x = speech_like(32, RATE)
    y, params = AddNoise([tone], snr_range=(5, 5), seed=0, speed_factors=(0.5, 1.0, 2.0), speed_prob=0.75)(x)
    speed = params["speed"]
    assert set(speed.tolist()) == {0.5, 1.0, 2.0}
    noise = (y - x).numpy()
    peak_hz = np.abs(np.fft.rfft(noise, axis=1)).argmax(axis=1) * RATE / noise.shape[1]
    np.testing.assert_allclose(peak_hz, 1000 * speed.numpy(), atol=2)
    assert (np.abs(noise[:, -400:]).max(axis=1) > 0.01).all()  # the resampled segment covers the whole clip
    assert (snr_db(x, y - x) - 5).abs().max() < 0.1
    assert (AddNoise([tone], seed=0)(x)[1]["speed"] == 1).all()
    with pytest.raises(ValueError, match="speed factors"):
        AddNoise([tone], speed_factors=(0.25, 1.0))
    from maese.brains.finetune import make_distortion

    made = make_distortion("denoise", [tone], None, (0.0, 10.0), RATE, 0, noise_speed_factors=[0.5, 2.0],
                           noise_speed_prob=0.25)
    assert made.speed_factors == (0.5, 2.0) and made.speed_prob == 0.25
