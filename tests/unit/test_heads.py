"""maese.models.heads: shapes, bounded mask, freezing, pre-trained encoder loading, resynthesis."""

import pytest
import torch
from speechbrain.utils.checkpoints import Checkpointer

from maese.features import STFT, get_compression
from maese.models.heads import (
    DECODER_KEYS,
    ENCODER_KEYS,
    EnhancementModel,
    find_pretrained_checkpoint,
    load_pretrained_encoder,
)
from maese.models.mae import SpectrogramMAE


def make_model(**kwargs):
    torch.manual_seed(0)
    return EnhancementModel(SpectrogramMAE.from_preset("tiny"), STFT(), get_compression("log1p"),
                            proj_dim=16, hidden=16, **kwargs)


def randomize_output_layer(model, scale=3.0):
    """The head's last layer starts at zero; give it weights so that outputs vary."""
    with torch.no_grad():
        model.head.out.weight.normal_(0, scale)
        model.head.out.bias.normal_(0, scale)


def snr_db(reference, estimate):
    return float(10 * torch.log10(reference.pow(2).sum() / (reference - estimate).pow(2).sum()).detach())


@pytest.mark.parametrize("head_target", ["mask", "mapping"])
@pytest.mark.parametrize("num_samples", [1000, 16001, 23457])
def test_shapes_for_odd_lengths(head_target, num_samples):
    model = make_model(head_target=head_target)
    out = model(torch.randn(2, num_samples) * 0.1)
    frames = model.stft.num_frames(num_samples)
    assert out.wav.shape == (2, num_samples)
    assert out.estimate.shape == out.noisy.shape == (2, frames, 256)
    assert (out.mask is None) == (head_target == "mapping")
    assert torch.isfinite(out.wav).all()


@pytest.mark.parametrize("mask_max", [1.0, 2.0])
def test_mask_is_bounded(mask_max):
    model = make_model(mask_max=mask_max)
    randomize_output_layer(model, scale=10.0)
    mask = model(torch.randn(3, 8000)).mask
    assert mask.min() >= 0 and mask.max() <= mask_max
    assert mask.max() > 0.9 * mask_max and mask.min() < 0.1 * mask_max, "the test needs a spread of mask values"


@pytest.mark.parametrize("mask_max,mask_init", [(1.0, None), (1.0, 0.9), (2.0, 1.0), (2.0, None)])
def test_mask_starts_at_mask_init(mask_max, mask_init):
    model = make_model(mask_max=mask_max, mask_init=mask_init)
    out = model(torch.randn(2, 8000) * 0.1)
    expected = mask_max / 2 if mask_init is None else mask_init
    assert torch.allclose(out.mask, torch.full_like(out.mask, expected), atol=1e-6)


def test_mask_init_of_one_passes_the_input_through():
    model = make_model(mask_max=2.0, mask_init=1.0)
    noisy = torch.randn(1, 16000) * 0.1
    assert snr_db(noisy, model(noisy).wav) > 60


@pytest.mark.parametrize("mask_init", [0.0, 1.0, 1.5, -0.1])
def test_mask_init_outside_the_open_range_is_an_error(mask_init):
    with pytest.raises(ValueError, match="mask_init"):
        make_model(mask_max=1.0, mask_init=mask_init)


def train_step(model):
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.1)
    randomize_output_layer(model, 0.1)
    out = model(torch.randn(2, 8000) * 0.1)
    (out.estimate - 1.0).abs().mean().backward()
    optimizer.step()


def test_frozen_encoder_is_unchanged_by_a_step_while_the_head_learns():
    model = make_model(freeze="frozen")
    encoder = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    head = {k: v.clone() for k, v in model.head.state_dict().items()}
    train_step(model)
    assert all(torch.equal(v, model.encoder.state_dict()[k]) for k, v in encoder.items())
    assert any(not torch.equal(v, model.head.state_dict()[k]) for k, v in head.items())


def test_full_finetuning_updates_the_encoder_but_never_the_decoder():
    model = make_model(freeze="full")
    before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    train_step(model)
    after = model.encoder.state_dict()
    changed = {k for k, v in before.items() if not torch.equal(v, after[k])}
    assert any(k.startswith("encoder_blocks.0.") for k in changed) and "patch_embed.weight" in changed
    assert not [k for k in changed if k.startswith("decoder") or k == "mask_token"]


@pytest.mark.parametrize("k", [0, 1, 2])
def test_top_k_unfreezes_exactly_k_blocks(k):
    model = make_model(freeze="top_k", unfreeze_top_k=k)
    trainable = [all(p.requires_grad for p in b.parameters()) for b in model.encoder.encoder_blocks]
    frozen = [not any(p.requires_grad for p in b.parameters()) for b in model.encoder.encoder_blocks]
    depth = len(trainable)
    assert trainable == [i >= depth - k for i in range(depth)]
    assert frozen == [i < depth - k for i in range(depth)]
    assert not any(p.requires_grad for p in model.encoder.patch_embed.parameters())
    assert all(p.requires_grad for p in model.head.parameters())


def test_bad_freeze_values_name_the_option():
    with pytest.raises(ValueError, match="unfreeze_top_k must be in \\[0, 2\\]"):
        make_model(freeze="top_k", unfreeze_top_k=3)
    with pytest.raises(ValueError, match="freeze: unknown value 'some'"):
        make_model(freeze="some")
    with pytest.raises(ValueError, match="head_target: unknown value"):
        make_model(head_target="complex")


@pytest.mark.parametrize("freeze", ["full", "top_k"])
def test_reconstruction_head_trains_the_decoder_with_the_head(freeze):
    model = make_model(freeze=freeze, unfreeze_top_k=1, use_reconstruction=True)
    assert model.head.body[0].in_channels == 16 + 2 * 256  # projected frames, noisy magnitude, reconstruction
    before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    train_step(model)
    changed = {k for k, v in before.items() if not torch.equal(v, model.encoder.state_dict()[k])}
    assert {"decoder_pred.weight", "decoder_embed.weight", "decoder_blocks.0.self_attn.in_proj_weight"} <= changed
    assert "mask_token" not in changed  # no patch is masked in fine-tuning


def test_frozen_reconstruction_head_keeps_the_decoder():
    model = make_model(freeze="frozen", use_reconstruction=True)
    assert not any(p.requires_grad for p in model.encoder.parameters())


def test_the_head_sees_the_decoders_reconstruction():
    """Changing only the decoder changes the output with use_reconstruction, and never without it."""
    for use_reconstruction in (False, True):
        model = make_model(use_reconstruction=use_reconstruction)
        randomize_output_layer(model)
        noisy = torch.randn(1, 8000)
        with torch.no_grad():
            before = model(noisy).wav
            model.encoder.decoder_pred.weight.normal_(0, 1.0)
            after = model(noisy).wav
        assert torch.equal(before, after) != use_reconstruction


def test_encode_and_reconstruct_matches_encode_and_forward():
    torch.manual_seed(1)
    mae = SpectrogramMAE.from_preset("tiny", visible_skip=True)
    spec = torch.rand(2, 37, 256)
    frames, reconstruction = mae.encode_and_reconstruct(spec)
    assert torch.allclose(frames, mae.encode(spec, level="frame"))
    assert torch.allclose(reconstruction, mae(spec).reconstruction)


def save_pretraining(folder, losses):
    """Checkpoints of differently initialised tiny MAEs with these valid losses; returns their state dicts."""
    states = []
    for seed, loss in enumerate(losses):
        torch.manual_seed(100 + seed)
        mae = SpectrogramMAE.from_preset("tiny")
        Checkpointer(folder, {"model": mae}).save_checkpoint(meta={"loss": loss}, name=f"run{seed}")
        states.append({k: v.clone() for k, v in mae.state_dict().items()})
    return states


def test_loading_the_best_pretrained_checkpoint_sets_the_encoder(tmp_path):
    states = save_pretraining(tmp_path / "save", [0.5, 0.2, 0.9])
    model = make_model()
    assert not torch.equal(model.encoder.patch_embed.weight, states[1]["patch_embed.weight"])
    decoder_before = model.encoder.decoder_pred.weight.clone()
    path = load_pretrained_encoder(model, tmp_path / "save")
    assert path.parent.name == "CKPT+run1"
    loaded = [key for key in model.encoder.state_dict() if key.startswith(ENCODER_KEYS)]
    assert len(loaded) > 10
    for key in loaded:
        assert torch.equal(model.encoder.state_dict()[key], states[1][key]), key
    assert torch.equal(model.encoder.decoder_pred.weight, decoder_before)  # the decoder never runs here
    with_decoder = make_model(use_reconstruction=True)
    load_pretrained_encoder(with_decoder, tmp_path / "save")
    for key in [key for key in with_decoder.encoder.state_dict() if key.startswith(ENCODER_KEYS + DECODER_KEYS)]:
        assert torch.equal(with_decoder.encoder.state_dict()[key], states[1][key]), key


def test_a_pretraining_with_another_decoder_loads_into_the_encoder(tmp_path):
    torch.manual_seed(3)
    mae = SpectrogramMAE.from_preset("tiny", decoder_depth=3, decoder_embed_dim=48)
    Checkpointer(tmp_path, {"model": mae}).save_checkpoint(meta={"loss": 0.1})
    model = make_model()
    load_pretrained_encoder(model, tmp_path)
    assert torch.equal(model.encoder.encoder_norm.weight, mae.encoder_norm.weight)
    assert torch.equal(model.encoder.patch_embed.weight, mae.patch_embed.weight)
    with pytest.raises(ValueError, match="its decoder too with head_reconstruction"):
        load_pretrained_encoder(make_model(use_reconstruction=True), tmp_path)


def test_missing_or_mismatched_pretraining_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"pretrained_folder {tmp_path / 'nowhere'}"):
        find_pretrained_checkpoint(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no pre-training checkpoint"):
        load_pretrained_encoder(make_model(), tmp_path / "empty")
    torch.manual_seed(0)
    Checkpointer(tmp_path / "small", {"model": SpectrogramMAE.from_preset("small")}).save_checkpoint(meta={"loss": 1.0})
    with pytest.raises(ValueError, match="model_size and patch size must match"):
        load_pretrained_encoder(make_model(), tmp_path / "small")


def test_all_ones_mask_resynthesizes_the_input():
    model = make_model()
    with torch.no_grad():
        model.head.out.bias.fill_(100.0)  # sigmoid(100) == 1 in float32
    noisy = torch.randn(2, 16000) * 0.1
    with torch.no_grad():
        out = model(noisy)
    assert torch.all(out.mask == 1.0)
    assert snr_db(noisy, out.wav) > 40



@pytest.mark.parametrize("head_target", ["mask", "mapping"])
def test_input_level_normalisation_makes_the_output_follow_the_input_level(head_target):
    model = make_model(head_target=head_target, input_level_db=-20.0).eval()
    randomize_output_layer(model)
    wav = torch.randn(2, 8000) * torch.tensor([[0.1], [0.02]])
    with torch.no_grad():
        out = model(wav)
        rms = (wav * out.gain).pow(2).mean(dim=-1).sqrt()
        assert torch.allclose(20 * torch.log10(rms), torch.full((2,), -20.0), atol=1e-3)
        for gain in (0.01, 30.0):  # 40 dB quieter, 30 dB louder: the same enhancement, scaled
            assert snr_db(out.wav * gain, model(wav * gain).wav) > 60
        plain = make_model(head_target=head_target)
        plain.load_state_dict(model.state_dict())
        assert plain(wav).gain is None and snr_db(plain(wav).wav * 0.01, plain(wav * 0.01).wav) < 40
        silent = model(torch.zeros(1, 8000))
        assert torch.isfinite(silent.wav).all() and silent.gain.item() == pytest.approx(1000.0)  # +60 dB at most
        assert head_target == "mapping" or silent.wav.abs().max() == 0  # a mask keeps silence silent


def test_the_noise_floor_input_lets_the_head_tell_a_steady_tone_from_a_passing_one():
    """With noise_floor_frames the head's first layer takes one more spectrogram, the input's noise floor: a tone
    that lasts the whole clip and the same tone in one burst look alike frame by frame (at the burst), but only
    the steady one is in the floor, and the floor's channels alone make the mask at the burst tell them apart."""
    plain, aware = make_model(), make_model(noise_floor_frames=63)
    assert plain.head.body[0].in_channels == 16 + 256 and aware.head.body[0].in_channels == 16 + 2 * 256
    t = torch.arange(16000) / 16000
    steady = 0.3 * torch.sin(2 * torch.pi * 440 * t).unsqueeze(0)
    burst = steady * ((t > 0.45) & (t < 0.55)).float()
    bin_440, frame = round(440 / 16000 * 512), 63  # frame 63: t = 0.5 s
    floors = [aware.noise_floor(aware.features(x)[1])[0, frame, bin_440] for x in (steady, burst)]
    assert floors[0] > 10 * floors[1]
    with torch.no_grad():
        randomize_output_layer(aware)
        aware.head.body[0].weight[:, : 16 + 256].zero_()  # silence the embeddings and the input: the floor is left
        masks = [aware(x).mask[0, frame] for x in (steady, burst)]
    assert (masks[0] - masks[1]).abs().max() > 1e-2


def test_the_deep_filter_starts_as_the_mask_alone_and_can_learn_what_a_mask_cannot():
    """With deep_filter_bins the model's output at initialisation is the plain mask model's (the filters start as
    the identity); trained on its output layer's biases alone, it turns the phase of its band round (a target of
    minus the input there), which a non-negative mask can only approach by silencing the band."""
    wav = torch.randn(1, 8000) * 0.1
    plain, filtered = make_model(), make_model(deep_filter_bins=128, deep_filter_order=3, deep_filter_lookahead=1)
    assert filtered.head.out.out_channels == 256 + 128 * 3 * 2
    assert torch.allclose(filtered(wav).wav, plain(wav).wav, atol=1e-6)
    spec = filtered.stft(wav)
    flipped = torch.cat([-spec[..., :128], spec[..., 128:]], dim=-1)  # half the bins: half the energy
    target = filtered.stft.inverse(flipped, wav.shape[-1])
    errors = {}
    for name, model in (("plain", plain), ("filtered", filtered)):
        optimizer = torch.optim.Adam([model.head.out.bias], lr=0.05)
        for _ in range(150):
            optimizer.zero_grad()
            loss = (model(wav).wav - target).pow(2).mean()
            loss.backward()
            optimizer.step()
        errors[name] = snr_db(target, model(wav).wav)
    assert errors["filtered"] > 20 and errors["plain"] < 4  # silencing the band: 3 dB


def test_the_deep_filter_needs_a_mask_head_and_a_band_inside_the_bins():
    with pytest.raises(ValueError, match="head_target: mask"):
        make_model(head_target="mapping", deep_filter_bins=16)
    with pytest.raises(ValueError, match="deep_filter_bins must be in"):
        make_model(deep_filter_bins=300)
