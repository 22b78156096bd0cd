"""maese.augment.AddInterferer and the DRR setting of maese.acoustics."""

import numpy as np
import pytest
import torch
from augment_fixtures import RATE, SHARED, one_torch_thread, rir_files, speech_like, synthetic_rir, write  # noqa: F401

from maese.acoustics import direct_to_reverberant_ratio, drr_floor_db, set_drr, snr_db
from maese.augment import AddInterferer, AudioPool, Reverberate, convolve_aligned


@pytest.fixture(scope="module")
def rirs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rirs")
    # The last RIR has a strong early reflection, so its DRR cannot go below about 0 dB.
    return rir_files(folder) + [write(folder / "reflection.wav", synthetic_rir(150, 0.3, reflection=(60, 0.9)))]


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speech")
    return [write(folder / f"utt{i}.wav", speech_like(1, n, seed=10 + i)[0]) for i, n in enumerate([6000, 20000])]


def measured_drr(pool, rir_index, drr):
    """DRR measured (acoustics.direct_to_reverberant_ratio) on the modified RIRs an interferer used."""
    index = torch.as_tensor(rir_index)
    modified = set_drr(pool.clips(index), torch.as_tensor(drr), RATE)
    return np.array([direct_to_reverberant_ratio(h[:n], RATE) for h, n in zip(modified, pool.lengths[index])])


def test_set_drr_is_exact_above_the_floor(rirs):
    pool = AudioPool(rirs + ([str(SHARED / "rirs")] if (SHARED / "rirs").is_dir() else []))
    clips = pool.clips(torch.arange(len(pool)))
    floor = drr_floor_db(clips, RATE)
    for offset in (0.05, 1.0, 4.0, 12.0):
        target = (floor + offset).float()
        assert np.abs(measured_drr(pool, torch.arange(len(pool)), target) - target.numpy()).max() < 0.01
    last = len(rirs) - 1  # below its floor, the reflection becomes the peak and the DRR misses
    assert measured_drr(pool, [last], (floor[last : last + 1] - 3).float())[0] > floor[last] - 2


@pytest.mark.parametrize("reverberant", [False, True])
def test_interferer_is_always_farther_than_the_target(rirs, reverberant):
    pool = AudioPool(rirs)
    add = AddInterferer(pool, sir_range=(0, 10), drr_delta_range=(2, 8), drr_range=(-8, 4), seed=0)
    x = speech_like(64, 4000)
    target = None
    if reverberant:
        x, reverb = Reverberate(pool, seed=1)(x)
        target = reverb["drr_db"]
    y, params = add(x, target_drr_db=target)
    on = params["applied"]
    assert on.float().mean() > 0.9
    drr, target_drr = params["drr_db"][on], params["target_drr_db"][on]
    assert (drr < target_drr).all()
    if reverberant:
        assert ((target_drr - drr >= 2 - 1e-4) & (target_drr - drr <= 8 + 1e-4)).all()
    else:
        assert torch.isinf(target_drr).all() and ((drr >= -8) & (drr <= 4)).all()
    assert np.abs(measured_drr(pool, params["rir_index"][on], drr) - drr.numpy()).max() < 0.5
    assert (snr_db(x[on], (y - x)[on]) - params["sir_db"][on]).abs().max() < 0.1


def test_interferer_from_the_batch_and_from_a_speech_pool(rirs, speech):
    x = speech_like(4, 8000)
    y, params = AddInterferer(rirs[:1], seed=0)(x)  # no pool: example b hears example b - 1
    rir = set_drr(AudioPool(rirs[:1]).clips(torch.zeros(4, dtype=torch.long)), params["drr_db"], RATE)
    wet = convolve_aligned(x.roll(1, dims=0), rir)
    for row in range(4):
        assert torch.corrcoef(torch.stack([y[row] - x[row], wet[row]]))[0, 1] > 0.9999
    assert torch.equal(AddInterferer(rirs, seed=0)(x[:1])[0], x[:1])  # batch of one: nobody else
    y, params = AddInterferer(rirs, speech, seed=0)(x)
    assert params["applied"].all()
    assert (snr_db(x, y - x) - params["sir_db"]).abs().max() < 0.1


def test_unreachable_drr_and_silence_are_left_alone(rirs):
    x = speech_like(4, 4000)
    x[2] = 0
    y, params = AddInterferer(rirs[-1:], drr_range=(-20, -15), seed=0)(x)
    assert torch.equal(y, x) and not params["applied"].any() and params["drr_db"].isnan().all()
    y, params = AddInterferer(rirs, seed=0)(x)
    # Example 2 is silent; example 3's interferer would be example 2.
    assert params["applied"].tolist() == [True, True, False, False] and torch.isfinite(y).all()


def test_determinism_probability_and_bad_hparams(rirs, tmp_path):
    x = speech_like(8, 4000)
    add = AddInterferer(rirs)
    assert torch.equal(add(x, generator=5)[0], add(x, generator=5)[0])
    assert not torch.allclose(add(x, generator=5)[0], add(x, generator=6)[0])
    assert torch.equal(AddInterferer(rirs, prob=0.0)(x)[0], x)
    assert AddInterferer(rirs, prob=1.0, seed=0)(x)[1]["applied"].all()
    with pytest.raises(ValueError, match="drr_delta_range"):
        AddInterferer(rirs, drr_delta_range=(0, 3))
    with pytest.raises(ValueError, match="sir_range"):
        AddInterferer(rirs, sir_range=(10, 0))
    with pytest.raises(ValueError, match="no RIR has a reverberant tail"):
        AddInterferer([write(tmp_path / "dry.wav", np.eye(1, 800, 20)[0])])
