"""maese.brains.finetune: on-the-fly pairs (levels, alignment), paired crops, SI-SDR, hparam checks."""

import json
from functools import partial
from types import SimpleNamespace

import pytest
import speechbrain as sb
import torch

from maese.acoustics import snr_db
from maese.audio import save_audio
from maese.augment import AddNoise, Reverberate
from maese.brains.finetune import (
    LOSS_EPS,
    EnhanceFinetuneBrain,
    check_finetune_hparams,
    make_pairs,
    paired_crops,
    paired_dataset,
    pesq_distance,
    saturate_db,
    si_sdr,
    stoi,
)
from maese.features import STFT, get_compression
from maese.hparams import HparamError
from maese.models.heads import EnhancementOutput

GOOD = dict(enhance_task="denoise", init="scratch", paired_fraction=0.1, min_paired_utterances=5,
            head_target="mask", mask_max=1.0, freeze="full", unfreeze_top_k=0, si_sdr_weight=0.0,
            segment_seconds=2.0, examples_per_epoch=16, pretrained_folder=None)


def rir_file(tmp_path, peak, tail=0.0):
    """An RIR with its direct path ``peak`` at sample 40 and an optional decaying tail."""
    rir = torch.zeros(2000)
    rir[40] = peak
    rir[41:] = tail * torch.randn(1959, generator=torch.Generator().manual_seed(0)) * torch.exp(-torch.arange(1959) / 300)
    path = tmp_path / f"rir_{peak}_{tail}.wav"
    save_audio(path, rir, 16000, subtype="FLOAT")
    return path


def test_dereverb_target_is_the_direct_path_of_the_input(tmp_path):
    clean = torch.randn(2, 8000, generator=torch.Generator().manual_seed(1)) * 0.1
    ones = torch.ones(2)
    dry_only = Reverberate([rir_file(tmp_path, -0.7)], preserve_level=False, seed=0)
    noisy, target = make_pairs(dry_only, clean, ones, torch.Generator().manual_seed(0))
    assert torch.allclose(target, -0.7 * clean)
    assert torch.allclose(noisy, target, atol=1e-5), "a pure direct path: input and target must coincide"
    wet = Reverberate([rir_file(tmp_path, 0.5, tail=0.05)], preserve_level=False, seed=0)
    noisy, target = make_pairs(wet, clean, ones, torch.Generator().manual_seed(0))
    assert torch.allclose(target, 0.5 * clean)
    assert (snr_db(target, noisy - target) < 20).all(), "the tail must be in the input only"
    with pytest.raises(ValueError, match="preserve_level=True"):
        make_pairs(Reverberate([rir_file(tmp_path, 1.0)], preserve_level=True), clean, ones, None)


def test_denoise_target_is_the_clean_input(tmp_path):
    noise = tmp_path / "noise.wav"
    save_audio(noise, torch.randn(16000) * 0.05, 16000)
    clean = torch.randn(3, 8000) * 0.1
    noisy, target = make_pairs(AddNoise([noise], snr_range=(5.0, 5.0)), clean, torch.ones(3), torch.Generator())
    assert torch.equal(target, clean)
    for c, n in zip(clean, noisy):
        assert snr_db(c, n - c) == pytest.approx(5.0, abs=0.01)


def test_paired_crops_cut_the_same_window():
    noisy = torch.arange(1.0, 1001.0).repeat(4, 1)
    lengths = torch.tensor([1.0, 0.5, 0.3, 1.0])
    a, b = paired_crops(noisy, 2 * noisy, lengths, 200, torch.Generator().manual_seed(0))
    assert a.shape == b.shape == (4, 200)
    assert torch.equal(b, 2 * a)
    assert (a[:, 1:] - a[:, :-1] == 1).all() and (a[1] <= 500).all()


def test_si_sdr_is_scale_invariant_and_ignores_padding():
    target = torch.randn(2, 4000, generator=torch.Generator().manual_seed(0))
    estimate = target + 0.1 * torch.randn(2, 4000, generator=torch.Generator().manual_seed(1))
    value = si_sdr(estimate, target, torch.ones(2))
    t, e = target - target.mean(1, keepdim=True), estimate - estimate.mean(1, keepdim=True)
    proj = (e * t).sum(1, keepdim=True) / t.pow(2).sum(1, keepdim=True) * t
    expected = 10 * torch.log10(proj.pow(2).sum(1) / (e - proj).pow(2).sum(1))
    assert torch.allclose(value, expected, atol=1e-3)
    assert torch.allclose(si_sdr(3 * estimate, target, torch.ones(2)), value, atol=1e-3)
    padded_e, padded_t = torch.nn.functional.pad(estimate, (0, 4000)), torch.nn.functional.pad(target, (0, 4000))
    padded_e[:, 4000:] = 1.0  # garbage past the true length
    assert torch.allclose(si_sdr(padded_e, padded_t, torch.full((2,), 0.5)), value, atol=1e-3)


@pytest.mark.parametrize("key, value", [("enhance_task", "separate"), ("init", "random"), ("paired_fraction", 0.0),
                                        ("paired_fraction", 1.5), ("freeze", "half"), ("si_sdr_weight", -1),
                                        ("examples_per_epoch", 0), ("min_paired_utterances", 0),
                                        ("stoi_extended", "yes")])
def test_bad_values_name_the_key(key, value):
    check_finetune_hparams(GOOD)
    with pytest.raises(HparamError, match=f"hparam {key}: got"):
        check_finetune_hparams({**GOOD, key: value})


def test_missing_pretraining_names_the_folder(tmp_path):
    with pytest.raises(HparamError, match="hparam pretrained_folder: got None"):
        check_finetune_hparams({**GOOD, "init": "pretrained"})
    with pytest.raises(HparamError, match=f"pretrained_folder.*{tmp_path / 'none'}"):
        check_finetune_hparams({**GOOD, "init": "pretrained", "pretrained_folder": str(tmp_path / "none")})


def test_loss_domain_recompresses_magnitudes_only_when_asked():
    magnitude = torch.rand(2, 5, 7) * 3
    log1p = get_compression("log1p")
    compressed = log1p.compress(magnitude)
    model = SimpleNamespace(compression=log1p)
    default = SimpleNamespace(hparams=SimpleNamespace(model=model))  # no key: the model's own compression
    assert torch.equal(EnhanceFinetuneBrain.loss_domain(default, compressed), compressed)
    power = SimpleNamespace(hparams=SimpleNamespace(model=model, loss_compression_name="power", loss_power_exponent=0.3))
    assert torch.allclose(EnhanceFinetuneBrain.loss_domain(power, compressed), (magnitude + LOSS_EPS) ** 0.3, atol=1e-5)
    silent = torch.zeros(3, requires_grad=True)
    EnhanceFinetuneBrain.loss_domain(power, silent).sum().backward()
    assert torch.isfinite(silent.grad).all()


def fake_brain(**hparams):
    """The parts of an EnhanceFinetuneBrain that compute_objectives uses, with a real STFT and log1p."""
    model = SimpleNamespace(stft=STFT(), compression=get_compression("log1p"))
    brain = SimpleNamespace(hparams=SimpleNamespace(model=model, si_sdr_weight=0.0, **hparams))
    brain.loss_domain = partial(EnhanceFinetuneBrain.loss_domain, brain)
    brain.frame_weights = partial(EnhanceFinetuneBrain.frame_weights, brain)
    return brain


def test_compute_objectives_compares_magnitudes_in_the_loss_domain():
    stft, num_samples = STFT(), 8000
    frames = stft.num_frames(num_samples)
    magnitude = torch.rand(2, frames, 256, generator=torch.Generator().manual_seed(0)) * 3
    clean = torch.rand(2, frames, 256, generator=torch.Generator().manual_seed(1)) * 3
    out = EnhancementOutput(torch.zeros(2, num_samples), torch.log1p(magnitude), torch.log1p(magnitude), None)
    predictions = {"out": out, "target": torch.zeros(2, num_samples), "target_mag": torch.log1p(clean),
                   "lengths": torch.ones(2)}
    loss = EnhanceFinetuneBrain.compute_objectives(fake_brain(), predictions, None, sb.Stage.TRAIN)
    assert float(loss) == pytest.approx(float((torch.log1p(magnitude) - torch.log1p(clean)).abs().mean()), rel=1e-5)
    power = fake_brain(loss_compression_name="power", loss_power_exponent=0.3)
    loss = EnhanceFinetuneBrain.compute_objectives(power, predictions, None, sb.Stage.TRAIN)
    expected = ((magnitude + LOSS_EPS) ** 0.3 - (clean + LOSS_EPS) ** 0.3).abs().mean()
    assert float(loss) == pytest.approx(float(expected), rel=1e-4)


def test_stoi_weight_adds_minus_stoi_and_rewards_the_clean_signal():
    clean = torch.randn(1, 16000, generator=torch.Generator().manual_seed(0)) * torch.linspace(0, 1, 16000) ** 2
    noisy = clean + 0.3 * torch.randn(1, 16000, generator=torch.Generator().manual_seed(1))
    stft, compression = STFT(), get_compression("log1p")

    def loss(estimate, weight):
        compressed = compression.compress(stft(estimate).abs()[..., :256])
        out = EnhancementOutput(estimate, compressed, compressed, None)
        predictions = {"out": out, "target": clean, "target_mag": compressed, "lengths": torch.ones(1)}
        return float(EnhanceFinetuneBrain.compute_objectives(fake_brain(stoi_weight=weight), predictions, None,
                                                             sb.Stage.TRAIN))

    stoi_clean, stoi_noisy = -loss(clean, 1.0), -loss(noisy, 1.0)
    assert stoi_clean == pytest.approx(1.0, abs=1e-3)
    assert stoi_noisy < stoi_clean - 0.05
    assert loss(noisy, 2.0) - loss(noisy, 0.0) == pytest.approx(-2 * stoi_noisy, rel=1e-4)


def test_stoi_leaves_out_crops_of_a_pause_and_ignores_padding():
    gen = torch.Generator().manual_seed(0)
    clean = torch.zeros(3, 16000)
    clean[0, :3000] = torch.randn(3000, generator=gen)  # 0.19 s of sound: shorter than one STOI envelope
    clean[1] = torch.randn(16000, generator=gen)
    clean[2, :8000] = torch.randn(8000, generator=gen)
    estimate = clean + 0.3 * torch.randn(3, 16000, generator=gen)
    scores = stoi(estimate, clean, torch.tensor([1.0, 1.0, 0.5]))
    assert scores.shape == (2,)
    assert torch.allclose(scores[1], stoi(estimate[2:, :8000], clean[2:, :8000], torch.ones(1))[0])
    assert stoi(estimate[:1], clean[:1], torch.ones(1)) is None
    assert stoi(clean[1:2], clean[1:2], torch.ones(1))[0] == pytest.approx(1.0, abs=1e-3)


def test_stoi_equals_speechbrains_stoi_loss_in_value_and_gradient():
    from speechbrain.nnet.loss.stoi_loss import stoi_loss

    gen = torch.Generator().manual_seed(3)
    envelope = torch.sin(torch.linspace(0, 40, 32000)).abs() ** 3  # syllable-like bursts and pauses
    clean = torch.randn(3, 32000, generator=gen) * envelope
    estimate = (clean + 0.4 * torch.randn(3, 32000, generator=gen)).requires_grad_()
    lengths = torch.tensor([1.0, 0.8, 0.55])
    ours = stoi(estimate, clean, lengths)
    (grad,) = torch.autograd.grad(ours.sum(), estimate)
    reference, reference_grad = [], torch.zeros_like(clean)
    for i, n in enumerate(torch.round(lengths * 32000).long().tolist()):
        est = estimate[i : i + 1, :n].detach().requires_grad_()
        score = -stoi_loss(est, clean[i : i + 1, :n], torch.ones(1), reduction="batch")
        (reference_grad[i, :n],) = torch.autograd.grad(score.sum(), est)
        reference.append(score.detach())
    assert 0.3 < float(ours.detach().min()) and float(ours.detach().max()) < 0.99
    assert torch.allclose(ours.detach(), torch.cat(reference), atol=1e-5)
    assert torch.allclose(grad, reference_grad, atol=1e-6 * float(reference_grad.abs().max()) + 1e-9)
    assert grad[2, 17600:].abs().max() == 0  # the padding gets no gradient


def speech_like(batch, samples, seed):
    """``[batch, samples]`` noise bursts shaped like syllables and pauses."""
    envelope = torch.sin(torch.linspace(0, 5 * samples / 16000, samples)).abs() ** 3
    return 0.1 * torch.randn(batch, samples, generator=torch.Generator().manual_seed(seed)) * envelope


def test_pesq_distance_orders_estimates_as_pesq_does_and_is_zero_for_the_clean_signal():
    from pesq import pesq

    clean = speech_like(1, 48000, 0)
    noise = torch.randn(1, 48000, generator=torch.Generator().manual_seed(1)) * 0.1
    estimates = [clean + scale * noise for scale in (0.03, 0.1, 0.3)]
    distances = [float(pesq_distance(est, clean, torch.ones(1))[0]) for est in estimates]
    scores = [pesq(16000, clean[0].numpy(), est[0].numpy(), "wb") for est in estimates]
    assert float(pesq_distance(clean, clean, torch.ones(1))[0]) < 1e-3
    assert distances == sorted(distances) and distances[0] > 0.05
    assert scores == sorted(scores, reverse=True)


def test_pesq_distance_leaves_out_short_or_silent_examples_and_ignores_padding():
    clean = speech_like(4, 32000, 2)
    clean[1] = 0.0  # a silent target: P.862's level alignment would divide by zero
    estimate = (clean + 0.03 * torch.randn(4, 32000, generator=torch.Generator().manual_seed(3))).requires_grad_()
    lengths = torch.tensor([1.0, 1.0, 0.15, 0.5])  # example 2: 4,800 samples, too short
    distances = pesq_distance(estimate, clean, lengths)
    assert distances.shape == (2,) and torch.isfinite(distances).all()
    alone = pesq_distance(estimate[3:, :16000], clean[3:, :16000], torch.ones(1))
    assert torch.allclose(distances[1], alone[0])
    (grad,) = torch.autograd.grad(distances.sum(), estimate)
    assert torch.isfinite(grad).all() and grad[3, :16000].abs().max() > 0
    assert grad[3, 16000:].abs().max() == 0 and grad[1:3].abs().max() == 0
    assert pesq_distance(estimate[2:3], clean[2:3], lengths[2:3]) is None


def test_pesq_distance_of_a_batch_is_that_of_each_example_alone():
    """Examples of one length go through PesqLoss in one call: each keeps its own level alignment."""
    clean = speech_like(3, 16000, 6) * torch.tensor([[1.0], [0.1], [3.0]])
    estimate = clean + torch.tensor([[0.01], [0.003], [0.2]]) * torch.randn(3, 16000, generator=torch.Generator().manual_seed(7))
    together = pesq_distance(estimate, clean, torch.ones(3))
    alone = torch.cat([pesq_distance(estimate[i : i + 1], clean[i : i + 1], torch.ones(1)) for i in range(3)])
    assert torch.allclose(together, alone, rtol=1e-3) and together[2] > together[0] + 0.1


def test_pesq_weight_adds_the_weighted_distance():
    clean = speech_like(1, 32000, 4)
    noisy = clean + 0.05 * torch.randn(1, 32000, generator=torch.Generator().manual_seed(5))
    stft, compression = STFT(), get_compression("log1p")
    compressed = compression.compress(stft(noisy).abs()[..., :256])
    predictions = {"out": EnhancementOutput(noisy, compressed, compressed, None), "target": clean,
                   "target_mag": compressed, "lengths": torch.ones(1)}

    def loss(weight):
        return float(EnhanceFinetuneBrain.compute_objectives(fake_brain(pesq_weight=weight), predictions, None,
                                                             sb.Stage.TRAIN))

    distance = float(pesq_distance(noisy, clean, torch.ones(1))[0])
    assert distance > 0.1 and loss(0.0) == pytest.approx(0.0, abs=1e-6)
    assert loss(0.5) == pytest.approx(0.5 * distance, rel=1e-4)


def test_stoi_extended_equals_pystoi_estoi_and_is_the_loss_term():
    from pystoi import stoi as reference_stoi

    gen = torch.Generator().manual_seed(3)
    envelope = torch.sin(torch.linspace(0, 9 * torch.pi, 48000)).abs() ** 2 + 0.2  # no pause: the same frames kept
    clean = torch.randn(1, 48000, generator=gen) * envelope
    for noise in (0.2, 0.5, 1.0):
        noisy = clean + noise * torch.randn(1, 48000, generator=gen)
        ours = float(stoi(noisy, clean, torch.ones(1), extended=True)[0])
        assert ours == pytest.approx(reference_stoi(clean[0].numpy(), noisy[0].numpy(), 16000, extended=True), abs=2e-3)
        assert ours < float(stoi(noisy, clean, torch.ones(1))[0]) - 0.1  # ESTOI is the stricter of the two
    assert float(stoi(clean, clean, torch.ones(1), extended=True)[0]) == pytest.approx(1.0, abs=1e-4)

    estimate = noisy.clone().requires_grad_()
    compressed = get_compression("log1p").compress(STFT()(estimate).abs()[..., :256])
    out = EnhancementOutput(estimate, compressed, compressed, None)
    predictions = {"out": out, "target": clean, "target_mag": compressed, "lengths": torch.ones(1)}
    loss = EnhanceFinetuneBrain.compute_objectives(fake_brain(stoi_weight=1.0, stoi_extended=True), predictions, None,
                                                   sb.Stage.TRAIN)
    assert float(loss.detach()) == pytest.approx(-float(stoi(noisy, clean, torch.ones(1), extended=True)[0]), rel=1e-4)
    (grad,) = torch.autograd.grad(loss, estimate)
    assert grad.abs().max() > 0


@pytest.mark.parametrize("weight", ["stoi_weight", "pesq_weight"])
def test_bad_loss_weight_or_rate_names_the_key(weight):
    check_finetune_hparams({**GOOD, weight: 0.5, "sample_rate": 16000})
    with pytest.raises(HparamError, match=f"hparam {weight}: got -1"):
        check_finetune_hparams({**GOOD, weight: -1, "sample_rate": 16000})
    with pytest.raises(HparamError, match="hparam sample_rate: got 8000"):
        check_finetune_hparams({**GOOD, weight: 0.5, "sample_rate": 8000})


def test_saturate_db_follows_low_values_and_never_passes_its_level():
    values = torch.tensor([-10.0, 0.0, 15.0, 30.0, 45.0, 120.0])
    saturated = saturate_db(values, 30.0)
    assert torch.allclose(saturated[:2], values[:2], atol=0.01) and 14.8 < saturated[2] < 15.0
    assert saturated[3] == pytest.approx(30.0 - 10 * torch.log10(torch.tensor(2.0)).item(), abs=1e-4)
    assert (saturated[:5] < 30.0).all() and saturated[5] == pytest.approx(30.0, abs=1e-4)
    assert (saturated.diff() > 0).all()


def test_si_sdr_max_db_bounds_what_a_perfect_example_adds_to_the_loss():
    """A clean input passed through scores an unbounded SI-SDR: saturated, it weighs no more than max_db."""
    clean = speech_like(2, 16000, 8)
    estimate = clean.clone()
    estimate[1] += 0.005 * torch.randn(16000, generator=torch.Generator().manual_seed(9))
    stft, compression = STFT(), get_compression("log1p")
    compressed = compression.compress(stft(clean).abs()[..., :256])
    predictions = {"out": EnhancementOutput(estimate, compressed, compressed, None), "target": clean,
                   "target_mag": compressed, "lengths": torch.ones(2)}

    def loss(**hparams):
        brain = fake_brain(**hparams)
        brain.hparams.si_sdr_weight = 1.0
        return float(EnhanceFinetuneBrain.compute_objectives(brain, predictions, None, sb.Stage.TRAIN))

    scores = si_sdr(estimate, clean, torch.ones(2))
    assert scores[0] > 60 and 5 < scores[1] < 25
    assert loss() == pytest.approx(-float(scores.mean()), rel=1e-4)
    assert loss(si_sdr_max_db=30.0) == pytest.approx(-float(saturate_db(scores, 30.0).mean()), rel=1e-4)


def test_a_clean_share_needs_a_saturated_si_sdr():
    hparams = {**GOOD, "si_sdr_weight": 0.05, "clean_input_prob": 0.2, "si_sdr_max_db": None}
    with pytest.raises(HparamError, match="hparam si_sdr_max_db: got None.*pass every input through"):
        check_finetune_hparams(hparams)
    check_finetune_hparams({**hparams, "si_sdr_max_db": 30.0})
    check_finetune_hparams({**hparams, "si_sdr_weight": 0.0})
    with pytest.raises(HparamError, match="hparam si_sdr_max_db: got -3"):
        check_finetune_hparams({**hparams, "si_sdr_max_db": -3})
    for share in (1.0, -0.1, None):
        with pytest.raises(HparamError, match=f"hparam clean_input_prob: got {share}"):
            check_finetune_hparams({**hparams, "clean_input_prob": share, "si_sdr_max_db": 30.0})


@pytest.mark.parametrize("key, value", [("background_noise_prob", 1.5), ("background_noise_prob", None),
                                        ("background_noise_range", [5.0, -5.0]), ("background_noise_range", 3.0)])
def test_a_bad_background_noise_hparam_is_named(key, value):
    hparams = {**GOOD, "background_noise_prob": 0.5, "background_noise_range": [-10.0, 5.0]}
    check_finetune_hparams(hparams)
    match = f"hparam {key}: got" if key == "background_noise_prob" else f"hparam {key} must .*Example: \\[-10.0"
    with pytest.raises(HparamError, match=match):
        check_finetune_hparams({**hparams, key: value})


@pytest.mark.parametrize("key, value", [("loss_compression_name", "cubic"), ("loss_power_exponent", 1.5)])
def test_bad_loss_compression_names_the_key(key, value):
    hparams = {**GOOD, "loss_compression_name": "power", "loss_power_exponent": 0.3}
    check_finetune_hparams(hparams)
    with pytest.raises(HparamError, match=f"hparam {key}: got"):
        check_finetune_hparams({**hparams, key: value})


def test_paired_dataset_reads_both_files_sorted_by_duration(tmp_path):
    manifest = {}
    for uid, seconds in (("long", 0.5), ("short", 0.1), ("mid", 0.3)):
        n = int(seconds * 16000)
        for kind, value in (("noisy", 0.2), ("clean", 0.1)):
            save_audio(tmp_path / f"{uid}_{kind}.wav", torch.full((n,), value), 16000)
        manifest[uid] = {"wav": str(tmp_path / f"{uid}_noisy.wav"), "clean_wav": str(tmp_path / f"{uid}_clean.wav"),
                         "duration": seconds}
    (tmp_path / "pairs.json").write_text(json.dumps(manifest))
    items = list(paired_dataset(tmp_path / "pairs.json"))
    assert [item["id"] for item in items] == ["short", "mid", "long"]  # batches of similar lengths
    assert all(torch.allclose(item["noisy"], 2 * item["clean"], atol=1e-4) for item in items)
    assert [item["clean"].numel() for item in items] == [1600, 4800, 8000]


def test_encoder_lr_scale_gives_the_encoder_its_own_rate_through_the_schedule():
    from speechbrain.nnet.schedulers import LinearWarmupScheduler

    from maese.models.heads import EnhancementModel
    from maese.models.mae import SpectrogramMAE

    def brain(scale, schedule=True):
        model = EnhancementModel(SpectrogramMAE.from_preset("tiny"), STFT(), get_compression("log1p"), proj_dim=16,
                                 hidden=16, freeze="top_k", unfreeze_top_k=1)
        hparams = {**GOOD, "seed": 0, "model": model, "encoder_lr_scale": scale}
        if schedule:
            hparams["lr_scheduler"] = LinearWarmupScheduler(1e-3, 2, 10)
        b = EnhanceFinetuneBrain(modules={"model": model}, opt_class=partial(torch.optim.AdamW, lr=1e-3),
                                 hparams=hparams, run_opts={"device": "cpu"})
        b.init_optimizers()
        return b, model

    b, model = brain(0.1)
    encoder, head = b.optimizer.param_groups
    trainable_encoder = [p for p in model.encoder.parameters() if p.requires_grad]
    assert 0 < len(trainable_encoder) < len(list(model.encoder.parameters()))  # top block only
    assert {id(p) for p in encoder["params"]} == {id(p) for p in trainable_encoder}
    assert {id(p) for p in head["params"]} == {id(p) for p in model.head.parameters()}
    assert (encoder["lr"], head["lr"]) == pytest.approx((1e-4, 1e-3))
    b.on_fit_batch_end(None, None, None, True)  # the schedule's step 1: half the peak rate, scaled per group
    assert (encoder["lr"], head["lr"]) == pytest.approx((0.5e-4, 0.5e-3))
    b.on_fit_batch_end(None, None, None, False)  # no optimizer step: nothing changes
    assert (encoder["lr"], head["lr"]) == pytest.approx((0.5e-4, 0.5e-3))

    b, _ = brain(0.1, schedule=False)  # no schedule: the rates stay as set, step after step (not scaled again)
    for _ in range(3):
        b.on_fit_batch_end(None, None, None, True)
    assert [g["lr"] for g in b.optimizer.param_groups] == pytest.approx([1e-4, 1e-3])

    b, _ = brain(1.0)  # the default: SpeechBrain's one group
    assert len(b.optimizer.param_groups) == 1 and b.optimizer.param_groups[0]["lr"] == 1e-3
    with pytest.raises(HparamError, match="hparam encoder_lr_scale: got 0"):
        check_finetune_hparams({**GOOD, "encoder_lr_scale": 0})


def test_with_input_level_normalisation_the_loss_ignores_the_level_of_the_pair():
    from speechbrain.dataio.batch import PaddedBatch

    from maese.models.heads import EnhancementModel
    from maese.models.mae import SpectrogramMAE

    torch.manual_seed(0)
    model = EnhancementModel(SpectrogramMAE.from_preset("tiny"), STFT(), get_compression("log1p"), proj_dim=16,
                             hidden=16, input_level_db=-25.0)
    hparams = {**GOOD, "seed": 0, "model": model, "si_sdr_weight": 0.05}
    brain = EnhanceFinetuneBrain(modules={"model": model}, hparams=hparams, run_opts={"device": "cpu"})
    brain.on_stage_start(sb.Stage.VALID)
    clean = torch.randn(2, 8000) * 0.05
    noisy = clean + 0.02 * torch.randn(2, 8000)

    def loss(gain):
        batch = PaddedBatch([{"id": str(i), "noisy": noisy[i] * gain, "clean": clean[i] * gain} for i in range(2)])
        with torch.no_grad():
            return float(brain.compute_objectives(brain.compute_forward(batch, sb.Stage.VALID), batch, sb.Stage.VALID))

    assert loss(0.01) == pytest.approx(loss(1.0), rel=1e-3) == pytest.approx(loss(20.0), rel=1e-3)


def test_speech_tilt_colours_the_clean_speech_of_input_and_target(tmp_path):
    from speechbrain.dataio.batch import PaddedBatch

    from maese.augment.tilt import Tilt, spectral_tilt
    from maese.brains.finetune import make_speech_tilt
    from maese.models.heads import EnhancementModel
    from maese.models.mae import SpectrogramMAE

    torch.manual_seed(0)
    model = EnhancementModel(SpectrogramMAE.from_preset("tiny"), STFT(), get_compression("log1p"), proj_dim=16,
                             hidden=16)
    save_audio(tmp_path / "noise.wav", torch.randn(16000) * 0.05, 16000)
    untouched = AddNoise([str(tmp_path / "noise.wav")], prob=0.0, seed=0)  # input = target: what the tilt made of the speech
    hparams = {**GOOD, "seed": 0, "model": model, "distortion": untouched, "sample_rate": 16000, "segment_seconds": 0.5,
               "speech_augment": [make_speech_tilt([6.0, 6.0], 1.0, 16000)]}
    brain = EnhanceFinetuneBrain(modules={"model": model}, hparams=hparams, run_opts={"device": "cpu"})
    clean = torch.randn(2, 8000, generator=torch.Generator().manual_seed(1))
    batch = PaddedBatch([{"id": str(i), "clean": clean[i]} for i in range(2)])
    with torch.no_grad():
        forward = brain.compute_forward(batch, sb.Stage.TRAIN)
    assert torch.allclose(forward["target"], spectral_tilt(clean, torch.full((2,), 6.0), 16000), atol=1e-5)
    assert torch.equal(forward["noisy"], forward["target"])
    assert make_speech_tilt(None, 0.5, 16000) is None and isinstance(make_speech_tilt([-3, 3], 0.5, 16000), Tilt)
    with pytest.raises(HparamError, match="speech_tilt_range / speech_tilt_prob.*Example"):
        make_speech_tilt([3.0, -3.0], 0.5, 16000)
    with pytest.raises(HparamError, match="speech_tilt_range / speech_tilt_prob"):
        make_speech_tilt([-3.0, 3.0], 1.5, 16000)


def test_speech_speed_changes_the_clean_speech_of_input_and_target_and_its_lengths(tmp_path):
    from speechbrain.dataio.batch import PaddedBatch

    from maese.augment.speed import SpeedPerturb, change_speed
    from maese.brains.finetune import make_speech_speed
    from maese.models.heads import EnhancementModel
    from maese.models.mae import SpectrogramMAE

    torch.manual_seed(0)
    model = EnhancementModel(SpectrogramMAE.from_preset("tiny"), STFT(), get_compression("log1p"), proj_dim=16,
                             hidden=16)
    save_audio(tmp_path / "noise.wav", torch.randn(16000) * 0.05, 16000)
    untouched = AddNoise([str(tmp_path / "noise.wav")], prob=0.0, seed=0)  # input = target: what the speed made
    hparams = {**GOOD, "seed": 0, "model": model, "distortion": untouched, "sample_rate": 16000,
               "segment_seconds": 0.5, "speech_augment": [None, make_speech_speed([1.25], 1.0)]}
    brain = EnhanceFinetuneBrain(modules={"model": model}, hparams=hparams, run_opts={"device": "cpu"})
    tone = torch.sin(2 * torch.pi * 400 * torch.arange(10000) / 16000)
    batch = PaddedBatch([{"id": "0", "clean": tone}])
    with torch.no_grad():
        forward = brain.compute_forward(batch, sb.Stage.TRAIN)
    target = forward["target"][0]
    assert target.shape[0] == 8000 and torch.equal(forward["noisy"], forward["target"])
    # 10000 samples at 1.25: 8000 left, the whole crop (a crop past the new length would hold the padding)
    assert torch.allclose(target, change_speed(tone.unsqueeze(0), 1.25)[0], atol=1e-6)
    spectrum = torch.fft.rfft(target[: 8000 - 64]).abs()
    assert float(torch.fft.rfftfreq(8000 - 64, 1 / 16000)[spectrum.argmax()]) == pytest.approx(500, abs=4)
    assert make_speech_speed(None, 1.0) is None and isinstance(make_speech_speed([0.9, 1.1], 1.0), SpeedPerturb)
    with pytest.raises(HparamError, match="speech_speed_factors / speech_speed_prob.*Example"):
        make_speech_speed([0.1], 1.0)
    with pytest.raises(HparamError, match="speech_speed_factors / speech_speed_prob"):
        make_speech_speed([0.9, 1.1], 2.0)


def test_speech_band_limits_the_clean_speech_of_input_and_target(tmp_path):
    from maese.augment.bandlimit import BandLimit, band_limit
    from maese.brains.finetune import make_speech_band

    save_audio(tmp_path / "silent_noise.wav", torch.randn(16000) * 0.05, 16000)
    untouched = AddNoise([str(tmp_path / "silent_noise.wav")], prob=0.0, seed=0)  # input = target
    band = make_speech_band([300.0, 300.0], [4000.0, 4000.0], 1.0, 16000)
    forward = _train_forward(tmp_path, distortion=untouched, speech_augment=[band], segment_seconds=0.75)  # whole clip
    clean = torch.randn(2, 12000, generator=torch.Generator().manual_seed(1)) * 0.1  # _train_forward's utterances
    limited = band_limit(clean, torch.full((2,), 300.0), torch.full((2,), 4000.0), 16000)
    assert torch.equal(forward["noisy"], forward["target"])
    assert torch.allclose(forward["target"], limited, atol=1e-6)
    assert make_speech_band(None, None, 0.5, 16000) is None
    assert isinstance(make_speech_band([20.0, 300.0], None, 0.5, 16000), BandLimit)
    with pytest.raises(HparamError, match="speech_highpass_range / speech_lowpass_range / speech_band_prob.*Example"):
        make_speech_band([20.0, 300.0], [3500.0, 9000.0], 0.5, 16000)


def test_a_speech_gap_silences_the_clean_speech_of_input_and_target(tmp_path):
    from maese.augment.gap import SilenceGap
    from maese.brains.finetune import make_speech_gap

    gap = make_speech_gap([0.25, 0.25], 1.0, 16000)
    forward = _train_forward(tmp_path, speech_augment=[gap], segment_seconds=0.75)  # the whole clip, noise added
    target, noisy = forward["target"], forward["noisy"]
    silent = target.abs() == 0
    assert (silent.sum(dim=1) >= 4000 - 2 * 160).all()  # 0.25 s, its 10 ms fades aside
    assert noisy[silent].abs().mean() > 1e-3  # the input keeps the noise (0-10 dB SNR) where the target is silent
    assert make_speech_gap(None, 0.5, 16000) is None and isinstance(make_speech_gap([0.2, 1.0], 0.5, 16000),
                                                                     SilenceGap)
    with pytest.raises(HparamError, match="speech_gap_range / speech_gap_prob.*Example"):
        make_speech_gap([1.0, 0.2], 0.5, 16000)


def test_the_recipe_builds_the_speech_tilt_from_its_hparams(tmp_path):
    from pathlib import Path

    from maese.hparams import load_recipe_hparams

    finetune = Path(__file__).resolve().parents[2] / "recipes" / "DNS" / "hparams" / "finetune.yaml"
    overrides = {"size": "tiny", "output_folder": str(tmp_path), "init": "scratch"}
    assert load_recipe_hparams(finetune, overrides)["speech_tilt"] is None
    assert load_recipe_hparams(finetune, overrides)["speech_speed"] is None
    speed = load_recipe_hparams(finetune, {**overrides, "speech_speed_factors": [0.9, 1.1], "speech_speed_prob": 0.5})
    assert speed["speech_speed"].factors == (0.9, 1.1) and speed["speech_speed"].prob == 0.5
    assert load_recipe_hparams(finetune, overrides)["speech_band"] is None
    band = load_recipe_hparams(finetune, {**overrides, "speech_highpass_range": [20.0, 300.0]})["speech_band"]
    assert band.highpass_range == (20.0, 300.0) and band.lowpass_range is None and band.prob == 0.5
    assert load_recipe_hparams(finetune, overrides)["speech_gap"] is None
    noise_speed = load_recipe_hparams(finetune, {**overrides, "noise_speed_factors": [0.5, 2.0]})["distortion"]
    assert noise_speed.keywords["noise_speed_factors"] == [0.5, 2.0] and noise_speed.keywords["noise_speed_prob"] == 0.5
    gap = load_recipe_hparams(finetune, {**overrides, "speech_gap_range": [0.2, 1.0], "speech_gap_prob": 0.25})
    assert gap["speech_augment"][-1] is gap["speech_gap"] and gap["speech_gap"].gap_range == (0.2, 1.0)
    both = load_recipe_hparams(finetune, {**overrides, "speech_speed_factors": [0.9], "speech_tilt_range": [1.0, 1.0]})
    assert [type(a).__name__ for a in both["speech_augment"] if a is not None] == ["SpeedPerturb", "Tilt"]
    tilt = load_recipe_hparams(finetune, {**overrides, "speech_tilt_range": [-3.0, 3.0], "speech_tilt_prob": 0.25})
    assert tilt["speech_tilt"].tilt_range == (-3.0, 3.0) and tilt["speech_tilt"].prob == 0.25


def _train_forward(tmp_path, **extra):
    """compute_forward on a training batch of two noisy utterances (seed 0), with ``extra`` hparams."""
    from speechbrain.dataio.batch import PaddedBatch

    from maese.models.heads import EnhancementModel
    from maese.models.mae import SpectrogramMAE

    torch.manual_seed(0)
    model = EnhancementModel(SpectrogramMAE.from_preset("tiny"), STFT(), get_compression("log1p"), proj_dim=16,
                             hidden=16)
    noise_file = tmp_path / "noise.wav"
    if not noise_file.exists():
        save_audio(noise_file, torch.randn(16000, generator=torch.Generator().manual_seed(2)) * 0.05, 16000)
    noise = AddNoise([str(noise_file)], snr_range=(0.0, 10.0), seed=0)
    hparams = {**GOOD, "seed": 0, "model": model, "distortion": noise, "sample_rate": 16000, "segment_seconds": 0.5,
               **extra}
    brain = EnhanceFinetuneBrain(modules={"model": model}, hparams=hparams, run_opts={"device": "cpu"})
    clean = torch.randn(2, 12000, generator=torch.Generator().manual_seed(1)) * 0.1
    batch = PaddedBatch([{"id": str(i), "clean": clean[i]} for i in range(2)])
    with torch.no_grad():
        return brain.compute_forward(batch, sb.Stage.TRAIN)


def test_gain_range_scales_input_and_target_alike_after_every_other_draw(tmp_path):
    plain = _train_forward(tmp_path)
    assert torch.equal(_train_forward(tmp_path, gain_range_db=None)["noisy"], plain["noisy"])
    fixed = _train_forward(tmp_path, gain_range_db=[-20.0, -20.0])  # the same crops and noise, 20 dB lower
    assert torch.allclose(fixed["noisy"], plain["noisy"] * 0.1, atol=1e-7)
    assert torch.allclose(fixed["target"], plain["target"] * 0.1, atol=1e-7)
    drawn = _train_forward(tmp_path, gain_range_db=[-30.0, 10.0])
    gain_db = 20 * torch.log10(drawn["noisy"].norm(dim=1) / plain["noisy"].norm(dim=1))
    assert ((gain_db > -30.0) & (gain_db < 10.0)).all() and (gain_db[0] - gain_db[1]).abs() > 0.01
    assert torch.allclose(drawn["target"] / plain["target"], drawn["noisy"] / plain["noisy"], atol=1e-4)


@pytest.mark.parametrize("value", [[10.0, -10.0], [-80.0, 0.0], "loud", [0.0, float("nan")]])
def test_a_bad_gain_range_is_named_with_an_example(value):
    with pytest.raises(HparamError, match="gain_range_db.*Example"):
        check_finetune_hparams({**GOOD, "gain_range_db": value})
