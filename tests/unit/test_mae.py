"""SpectrogramMAE: shapes, presets, masking semantics, positions, trainability."""

import pytest
import torch

from maese.masking import make_mask, patch_grid, patchify, unpatchify
from maese.models.mae import MAE_PRESETS, SpectrogramMAE, count_parameters, mae_config, sincos_pos_embed_2d


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return SpectrogramMAE.from_preset("tiny")


def _mask(model, spec, ratio, seed=0, pattern="random"):
    grid = patch_grid(spec.shape[1], spec.shape[2], model.patch_size)
    return make_mask(pattern, spec.shape[0], grid, ratio, torch.Generator().manual_seed(seed))


def test_preset_sizes():
    assert count_parameters(SpectrogramMAE.from_preset("tiny")) < 200_000
    assert 500_000 <= count_parameters(SpectrogramMAE.from_preset("small")) <= 2_000_000
    paper = mae_config("paper")
    assert (paper["embed_dim"], paper["depth"], paper["num_heads"]) == (768, 12, 12)
    assert (paper["decoder_embed_dim"], paper["decoder_depth"], paper["decoder_num_heads"]) == (512, 8, 16)
    with pytest.raises(ValueError, match="'huge'.*paper.*small.*tiny"):
        mae_config("huge")
    mae_config("tiny")["embed_dim"] = 1  # a copy: presets stay intact
    assert MAE_PRESETS["tiny"]["embed_dim"] != 1


def test_overrides_and_non_square_patches():
    model = SpectrogramMAE.from_preset("tiny", patch_size=(4, 16), decoder_depth=2)
    assert model.patch_size == (4, 16) and len(model.decoder_blocks) == 2
    out = model(torch.rand(2, 19, 257), None)
    assert out.reconstruction.shape == (2, 19, 257)
    assert out.patches_pred.shape == (2, 5 * 17, 64)


@pytest.mark.parametrize("frames", [1, 17, 64, 101])
def test_output_shapes(tiny, frames):
    spec = torch.rand(2, frames, 257)
    mask = _mask(tiny, spec, 0.75)
    out = tiny(spec, mask)
    n_t, n_f = patch_grid(frames, 257, tiny.patch_size)
    assert out.grid == (n_t, n_f)
    assert out.reconstruction.shape == spec.shape
    assert out.patches_pred.shape == (2, n_t * n_f, 256)
    assert out.mask is mask
    n_keep = n_t * n_f - int(mask[0].sum())
    assert tiny.encode(spec, mask).shape == (2, n_keep, tiny.embed_dim)
    frame = tiny.encode(spec, level="frame")
    assert frame.shape == (2, frames, tiny.frame_embedding_dim(257)) == (2, frames, n_f * tiny.embed_dim)


def test_unmasked_encoder_sees_all_patches(tiny):
    spec = torch.rand(2, 40, 257)
    latent = tiny.encode(spec)
    assert latent.shape == (2, 3 * 17, tiny.embed_dim)
    all_false = torch.zeros(2, 3 * 17, dtype=torch.bool)
    torch.testing.assert_close(tiny.encode(spec, all_false), latent)
    # Every patch influences the encoder output.
    spec2 = spec.clone()
    spec2[:, 32:, 240:] += 1.0  # only the last patch
    assert not torch.allclose(tiny.encode(spec2)[:, 0], latent[:, 0])


def test_frame_embeddings_align_with_patches(tiny):
    spec = torch.rand(1, 35, 257)  # 3 time patches, last one 3 frames long
    latent = tiny.encode(spec)  # [1, 3 * 17, D]
    frame = tiny.encode(spec, level="frame")
    d = tiny.embed_dim
    for t in (0, 15, 16, 34):
        expected = latent[0, (t // 16) * 17:(t // 16 + 1) * 17].reshape(-1)
        torch.testing.assert_close(frame[0, t], expected)
    assert frame[0, 0, d:2 * d].equal(latent[0, 1])


@pytest.mark.parametrize("pattern", ["random", "time_block", "frequency_block"])
def test_masked_patches_do_not_leak(tiny, pattern):
    spec = torch.rand(2, 50, 257)
    mask = _mask(tiny, spec, 0.6, seed=1, pattern=pattern)
    patches, grid = patchify(spec, tiny.patch_size)
    changed = patches.clone()
    changed[mask] = torch.randn_like(changed[mask]) * 10
    spec2 = unpatchify(changed, grid, tiny.patch_size, 50, 257)
    assert not torch.equal(spec, spec2)
    torch.testing.assert_close(tiny.encode(spec2, mask), tiny.encode(spec, mask))
    torch.testing.assert_close(tiny(spec2, mask).reconstruction, tiny(spec, mask).reconstruction)


def test_mask_validation(tiny):
    spec = torch.rand(2, 32, 257)
    n = 2 * 17
    uneven = torch.zeros(2, n, dtype=torch.bool)
    uneven[0, 0] = True
    with pytest.raises(ValueError, match="same number"):
        tiny(spec, uneven)
    with pytest.raises(ValueError, match="same number"):
        tiny(spec, torch.ones(2, n, dtype=torch.bool))
    with pytest.raises(ValueError, match="does not match"):
        tiny(spec, torch.zeros(2, n + 1, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask=None"):
        tiny.encode(spec, uneven, level="frame")
    with pytest.raises(ValueError, match="level"):
        tiny.encode(spec, level="utterance")


def test_gradients_flow():
    torch.manual_seed(0)
    model = SpectrogramMAE.from_preset("tiny")
    spec = torch.rand(2, 33, 257)
    out = model(spec, _mask(model, spec, 0.5))
    (out.reconstruction - spec).abs().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_sincos_positions():
    emb = sincos_pos_embed_2d((3, 5), 16)
    assert emb.shape == (15, 16)
    assert torch.unique(emb, dim=0).shape[0] == 15  # every position distinct
    # Time-major: the time half depends on t only, the frequency half on f only.
    grid = emb.reshape(3, 5, 16)
    assert torch.equal(grid[:, :1, :8].expand(3, 5, 8), grid[:, :, :8])
    assert torch.equal(grid[:1, :, 8:].expand(3, 5, 8), grid[:, :, 8:])
    # A larger grid extends a smaller one (same positions, any clip length).
    torch.testing.assert_close(sincos_pos_embed_2d((7, 5), 16)[:15], emb)
    with pytest.raises(ValueError, match="multiple of 4"):
        sincos_pos_embed_2d((2, 2), 18)


def test_tiny_overfits_one_batch():
    torch.manual_seed(0)
    model = SpectrogramMAE.from_preset("tiny")
    spec = torch.log1p(torch.rand(2, 32, 64) * 4)
    mask = _mask(model, spec, 0.5)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(100):
        loss = (model(spec, mask).reconstruction - spec).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_visible_skip_adds_input_on_visible_patches_only():
    torch.manual_seed(0)
    plain = SpectrogramMAE.from_preset("tiny")
    skip = SpectrogramMAE.from_preset("tiny", visible_skip=True)
    skip.load_state_dict(plain.state_dict())
    spec = torch.rand(2, 40, 64)
    grid = patch_grid(40, 64, plain.patch_size)
    mask = make_mask("random", 2, grid, 0.5, generator=torch.Generator().manual_seed(0))
    diff = skip(spec, mask).reconstruction - plain(spec, mask).reconstruction
    bins = unpatchify(mask.unsqueeze(-1).float().expand(-1, -1, 256), grid, plain.patch_size, 40, 64)
    assert torch.allclose(diff * (1 - bins), spec * (1 - bins), atol=1e-5)
    assert torch.allclose(diff * bins, torch.zeros_like(diff), atol=1e-5)

