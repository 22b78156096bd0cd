"""Patchify/unpatchify and the mask generators of maese.masking."""

import pytest
import torch

from maese.masking import (
    MASK_PATTERNS,
    frequency_block_mask,
    make_mask,
    num_masked,
    patch_grid,
    patchify,
    random_mask,
    time_block_mask,
    unpatchify,
)


def _gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("frames", [1, 16, 17, 100])
@pytest.mark.parametrize("freq,patch_size", [(257, (16, 16)), (257, (4, 16)), (33, (8, 16)), (5, (3, 2))])
def test_patchify_shapes_and_inverse(frames, freq, patch_size):
    spec = torch.randn(3, frames, freq)
    patches, grid = patchify(spec, patch_size)
    n_t, n_f = grid
    assert grid == patch_grid(frames, freq, patch_size)
    assert n_t == -(-frames // patch_size[0]) and n_f == -(-freq // patch_size[1])
    assert patches.shape == (3, n_t * n_f, patch_size[0] * patch_size[1])
    assert torch.equal(unpatchify(patches, grid, patch_size, frames, freq), spec)


def test_patch_order_is_time_major_and_padding_is_zero():
    pt, pf = 2, 3
    spec = torch.arange(4 * 7, dtype=torch.float32).reshape(1, 4, 7)  # grid (2, 3), freq padded by 2
    patches, grid = patchify(spec, (pt, pf))
    assert grid == (2, 3)
    n_f = grid[1]
    for t_idx in range(2):
        for f_idx in range(3):
            patch = patches[0, t_idx * n_f + f_idx].reshape(pt, pf)
            block = torch.zeros(pt, pf)
            src = spec[0, t_idx * pt:(t_idx + 1) * pt, f_idx * pf:(f_idx + 1) * pf]
            block[: src.shape[0], : src.shape[1]] = src
            assert torch.equal(patch, block)


@pytest.mark.parametrize("pattern", sorted(MASK_PATTERNS))
@pytest.mark.parametrize("grid", [(1, 1), (1, 17), (7, 17), (13, 3)])
@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.5, 0.75, 1.0])
def test_mask_counts_exact(pattern, grid, ratio):
    mask = make_mask(pattern, 4, grid, ratio, _gen(0))
    n = grid[0] * grid[1]
    assert mask.shape == (4, n) and mask.dtype == torch.bool
    assert (mask.sum(dim=1) == num_masked(n, ratio)).all()
    assert num_masked(n, ratio) == round(ratio * n)


def test_time_block_masks_whole_columns():
    n_t, n_f = 10, 4
    mask = time_block_mask(8, (n_t, n_f), 0.5, _gen(1)).reshape(8, n_t, n_f)
    # 20 masked patches = exactly 5 whole time columns.
    full = mask.all(dim=2)
    assert (full.sum(dim=1) == 5).all()
    assert torch.equal(mask, full[:, :, None].expand_as(mask))


def test_time_block_remainder_is_one_partial_column():
    n_t, n_f = 10, 4
    mask = time_block_mask(8, (n_t, n_f), 0.55, _gen(2)).reshape(8, n_t, n_f)  # 22 = 5 columns + 2
    per_column = mask.sum(dim=2)
    assert ((per_column == n_f).sum(dim=1) == 5).all()
    assert ((per_column == 2).sum(dim=1) == 1).all()
    assert ((per_column == 0).sum(dim=1) == 4).all()


def test_frequency_block_masks_whole_rows():
    n_t, n_f = 6, 10
    mask = frequency_block_mask(8, (n_t, n_f), 0.3, _gen(3)).reshape(8, n_t, n_f)
    full = mask.all(dim=1)
    assert (full.sum(dim=1) == 3).all()
    assert torch.equal(mask, full[:, None, :].expand_as(mask))


@pytest.mark.parametrize("fn,axis", [(time_block_mask, 2), (frequency_block_mask, 1)])
def test_block_span_gives_contiguous_runs(fn, axis):
    grid = (12, 12)
    mask = fn(16, grid, 0.5, _gen(4), span=3).reshape(16, *grid)
    lines = mask.all(dim=axis)  # [B, 12] masked whole lines
    groups = lines.reshape(16, 4, 3)
    # 6 masked lines = exactly two whole aligned groups of 3 consecutive lines.
    assert (groups.all(dim=2).sum(dim=1) == 2).all()
    assert torch.equal(groups.any(dim=2), groups.all(dim=2))


@pytest.mark.parametrize("pattern", sorted(MASK_PATTERNS))
def test_seeded_determinism(pattern):
    a = make_mask(pattern, 4, (9, 17), 0.6, _gen(123))
    b = make_mask(pattern, 4, (9, 17), 0.6, _gen(123))
    c = make_mask(pattern, 4, (9, 17), 0.6, _gen(124))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a[0], a[1])  # samples of a batch differ


def test_random_mask_is_roughly_uniform():
    mask = random_mask(2000, (4, 5), 0.5, _gen(5))
    freq = mask.float().mean(dim=0)
    assert torch.allclose(freq, torch.full_like(freq, 0.5), atol=0.05)


def test_bad_pattern_and_ratio():
    with pytest.raises(ValueError, match="'checkerboard'.*frequency_block.*random.*time_block"):
        make_mask("checkerboard", 2, (4, 4), 0.5)
    with pytest.raises(ValueError, match="ratio"):
        random_mask(2, (4, 4), 1.5)
