"""maese.brains.pretrain: the pre-training objective (target = the input before augmentation, masked and visible
bins weighted as configured) and the input level."""

import pytest
import speechbrain as sb
import torch
from speechbrain.dataio.batch import PaddedBatch

from maese.brains.pretrain import MAEPretrainBrain
from maese.features import STFT, get_compression
from maese.models.mae import SpectrogramMAE

RATE = 16000


class AddHum:
    """A stand-in augmentation stack: adds a 100 Hz hum 10 dB above the signal, so the augmented input is far from
    its target (and scales with the signal, as noise at a drawn SNR does)."""

    def __call__(self, wav, generator=None):
        t = torch.arange(wav.shape[-1]) / RATE
        rms = wav.pow(2).mean(dim=-1, keepdim=True).sqrt()
        return wav + 10 ** (10 / 20) * rms * 2 ** 0.5 * torch.sin(2 * torch.pi * 100 * t), {}


def make_brain(**hparams):
    torch.manual_seed(0)
    model = SpectrogramMAE.from_preset("tiny")
    defaults = dict(stft=STFT(), compression=get_compression("log1p"), freq_bins=256, segment_seconds=1.0,
                    sample_rate=RATE, augment=AddHum(), mask_pattern="random", mask_ratio=0.5, mask_span=1,
                    loss="l1", masked_weight=1.0, visible_weight=1.0, seed=0, model=model)
    brain = MAEPretrainBrain(modules={"model": model}, hparams={**defaults, **hparams}, run_opts={"device": "cpu"})
    brain.on_stage_start(sb.Stage.VALID)
    return brain


def batch(scale=1.0):
    wav = torch.randn(2, RATE, generator=torch.Generator().manual_seed(1)) * 0.05 * scale
    return PaddedBatch([{"id": str(i), "sig": wav[i]} for i in range(2)])


def predictions(brain, scale=1.0):
    brain.on_stage_start(sb.Stage.VALID)  # the same crops, masks and augmentation every call
    with torch.no_grad():
        return brain.compute_forward(batch(scale), sb.Stage.VALID)


def test_the_target_is_the_input_before_augmentation():
    brain = make_brain()
    out = predictions(brain)
    clean = brain.magnitudes(batch().sig[0])  # 1-s files, 1-s crops: the whole signal
    assert torch.allclose(out["target"], clean) and not torch.allclose(out["inputs"], clean, atol=0.1)
    assert float(brain.compute_objectives({**out, "reconstruction": out["target"]}, None, sb.Stage.TRAIN)) == 0
    assert float(brain.compute_objectives({**out, "reconstruction": out["inputs"]}, None, sb.Stage.TRAIN)) > 0.05


@pytest.mark.parametrize("masked_weight,visible_weight", [(1.0, 0.0), (0.0, 1.0), (2.0, 0.5)])
def test_masked_and_visible_bins_are_weighted_as_configured(masked_weight, visible_weight):
    brain = make_brain(masked_weight=masked_weight, visible_weight=visible_weight)
    out = predictions(brain)
    masked = brain.bin_mask(out["mask"], out["grid"], out["target"])
    assert 0.3 < float(masked.mean()) < 0.7  # mask_ratio 0.5 of the patches (their bins)
    wrong_masked = out["target"] + masked  # off by 1 on the masked bins only
    wrong_visible = out["target"] + (1 - masked)
    loss = lambda recon: float(brain.compute_objectives({**out, "reconstruction": recon}, None, sb.Stage.TRAIN))
    assert loss(wrong_masked) == pytest.approx(masked_weight)
    assert loss(wrong_visible) == pytest.approx(visible_weight)


def test_with_input_level_db_the_features_do_not_depend_on_the_recording_level():
    plain, levelled = make_brain(), make_brain(input_level_db=-25.0)
    quiet, loud = predictions(levelled, scale=0.05), predictions(levelled, scale=4.0)
    assert torch.allclose(quiet["inputs"], loud["inputs"], atol=1e-4)
    assert torch.allclose(quiet["target"], loud["target"], atol=1e-4)
    assert not torch.allclose(predictions(plain, 0.05)["inputs"], predictions(plain, 4.0)["inputs"], atol=1e-2)
    # the target keeps its level relative to the augmented input: the gain is the augmented input's
    wav = batch().sig[0]
    augmented, _ = AddHum()(wav)
    gain = 10 ** (-25 / 20) / augmented.pow(2).mean(-1, keepdim=True).sqrt()
    assert torch.allclose(predictions(levelled)["target"], levelled.magnitudes(wav * gain), atol=1e-5)
