"""maese.augment.Stack: order, presets, HyperPyYAML, probabilities, determinism, devices."""

import pytest
import torch
from augment_fixtures import RATE, SHARED, noise_files, one_torch_thread, rir_files, speech_like  # noqa: F401
from hyperpyyaml import load_hyperpyyaml

from maese.augment import AddInterferer, Stack

ALL_ON = {"reverb_prob": 1.0, "interferer_prob": 1.0, "noise_prob": 1.0, "clip_prob": 1.0}


@pytest.fixture(scope="module")
def pools(tmp_path_factory):
    return {
        "noise_files": noise_files(tmp_path_factory.mktemp("noise")),
        "rir_files": rir_files(tmp_path_factory.mktemp("rirs")),
    }


def test_presets_build_and_run(pools):
    x = speech_like(8, RATE)
    single = Stack.from_preset("single-speaker", **pools, seed=0)
    multi = Stack.from_preset("multi-speaker", **pools, seed=0)
    assert list(single.stages) == ["reverb", "noise", "clip"]
    assert list(multi.stages) == ["reverb", "interferer", "noise", "clip"]
    assert isinstance(multi.stages["interferer"], AddInterferer)
    for stack in (single, multi):
        y, params = stack(x)
        assert y.shape == x.shape and torch.isfinite(y).all()
        assert all(value.shape == (8,) for value in params.values())
    assert "interferer.sir_db" in multi(x)[1] and "interferer.sir_db" not in single(x)[1]
    with pytest.raises(ValueError, match="'office'.*multi-speaker.*single-speaker"):
        Stack.from_preset("office", **pools)


def test_order_and_params_passed_on(pools):
    x = speech_like(16, RATE)
    y, params = Stack(**pools, **ALL_ON, seed=0)(x)
    assert all(params[f"{stage}.applied"].all() for stage in ("reverb", "noise", "clip"))
    assert torch.equal(params["interferer.target_drr_db"], params["reverb.drr_db"])
    on = params["interferer.applied"]
    assert on.any() and (params["interferer.drr_db"][on] < params["reverb.drr_db"][on]).all()
    flat_tops = (y.abs() == y.abs().amax(dim=1, keepdim=True)).sum(dim=1)  # clipping is last
    assert (flat_tops[params["clip.g"] < 0.95] > 1).all()


def test_probabilities_and_determinism(pools):
    x = speech_like(8, RATE)
    off = Stack(**pools, reverb_prob=0, interferer_prob=0, noise_prob=0, clip_prob=0)
    assert torch.equal(off(x)[0], x) and off.stages == {}
    stack = Stack(**pools, **ALL_ON)
    assert torch.equal(stack(x, generator=1)[0], stack(x, generator=1)[0])
    assert not torch.allclose(stack(x, generator=1)[0], stack(x, generator=2)[0])
    a, b = Stack(**pools, seed=3), Stack(**pools, seed=3)
    assert torch.equal(a(x)[0], b(x)[0])


def test_lazy_pools_give_the_same_output(pools):
    x = speech_like(4, RATE)
    cached = Stack(**pools, **ALL_ON, seed=0)
    lazy = Stack(**pools, **ALL_ON, seed=0, max_cache_seconds=0)
    assert not lazy.stages["noise"].pool.cached
    assert torch.equal(cached(x)[0], lazy(x)[0])


def test_hyperpyyaml(pools):
    yaml = f"""
    rirs: {pools["rir_files"]}
    augment: !new:maese.augment.Stack
        noise_files: {pools["noise_files"]}
        rir_files: !ref <rirs>
        sample_rate: 16000
        reverb_prob: 0.5
        interferer_prob: 0.3
        sir_range: [0.0, 15.0]
        snr_range: [-5, 20]
        clip_range: [0.25, 0.9]
        seed: 1
    preset: !apply:maese.augment.Stack.from_preset
        - multi-speaker
        - {pools["noise_files"]}
        - !ref <rirs>
    """
    hparams = load_hyperpyyaml(yaml)
    assert list(hparams["augment"].stages) == ["reverb", "interferer", "noise", "clip"]
    assert hparams["augment"].stages["clip"].clip_range == (0.25, 0.9)
    assert "interferer" in hparams["preset"].stages
    assert hparams["augment"](speech_like(2, 4000))[0].shape == (2, 4000)


def test_bad_hparams_and_input(pools):
    with pytest.raises(ValueError, match="noise_prob.*1.2"):
        Stack(**pools, noise_prob=1.2)
    with pytest.raises(ValueError, match="reverb_prob=0.5 needs rir_files"):
        Stack(noise_files=pools["noise_files"])
    with pytest.raises(ValueError, match="snr_range"):
        Stack(**pools, snr_range=[10])
    stack = Stack(**pools)
    with pytest.raises(ValueError, match="NaN"):
        stack(torch.full((2, 100), float("nan")))
    with pytest.raises(ValueError, match=r"\[batch, time\]"):
        stack(torch.zeros(100))


def test_padded_batch(pools):
    x = speech_like(4, RATE)
    x[2:, RATE // 2 :] = 0
    y, _ = Stack(**pools, **ALL_ON, seed=0)(x, lengths=torch.tensor([1.0, 1.0, 0.5, 0.5]))
    assert (y[2:, RATE // 2 :] == 0).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(pools):
    x = speech_like(8, RATE)
    stack = Stack(**pools, **ALL_ON)
    y_cpu, p_cpu = stack(x, generator=0)
    y_gpu, p_gpu = stack(x.cuda(), generator=0)
    assert y_gpu.is_cuda and all(value.is_cuda for value in p_gpu.values())
    assert torch.allclose(y_gpu.cpu(), y_cpu, atol=1e-4)
    for key, value in p_cpu.items():
        assert torch.allclose(p_gpu[key].cpu().double(), value.double(), atol=1e-3, equal_nan=True), key


@pytest.mark.skipif(not (SHARED / "noise").is_dir(), reason="no shared real noise and RIRs")
def test_real_noise_and_measured_rirs_plug_in():
    stack = Stack.from_preset(
        "multi-speaker", noise_files=str(SHARED / "noise"), rir_files=str(SHARED / "rirs"), seed=0, **ALL_ON
    )
    y, params = stack(speech_like(8, 4 * RATE))
    assert torch.isfinite(y).all() and params["noise.applied"].all()
