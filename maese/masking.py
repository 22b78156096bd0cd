"""Patches on the (time, frequency) plane of a spectrogram, and the masks the MAE is trained with.

Conventions
-----------
- A spectrogram is ``[batch, frames, freq]``. A patch covers ``patch_size = (pt, pf)`` frames x
  bins. The spectrogram is zero-padded *at the end* of time and frequency up to multiples of the
  patch size, giving a patch grid ``(n_t, n_f) = (ceil(frames / pt), ceil(freq / pf))``.
- Patches are ordered **time-major**: patch ``i = t_idx * n_f + f_idx``. Inside a patch the
  ``pt * pf`` values are flattened time-major too (``value j = dt * pf + df``).
- A mask is ``[batch, N]`` bool with ``N = n_t * n_f`` and ``True`` = masked (hidden from the
  encoder). Every generator masks exactly ``num_masked(N, ratio) = round(ratio * N)`` patches in
  every sample, so the encoder can drop the masked patches with a fixed count (MAE style).

Mask patterns
-------------
All patterns rank the patches by a random priority and mask the first ``round(ratio * N)``:

- ``random``: uniform random patches (the MAE default).
- ``time_block``: whole time columns of the grid (all ``n_f`` patches of a time step), i.e. gaps in
  time. The columns are taken in a random order of groups of ``span`` consecutive columns, so with
  ``span=1`` the masked columns are independent (Audio-MAE "time masking") and with ``span > 1``
  they come in contiguous runs. When ``round(ratio * N)`` is not a multiple of ``n_f``, the
  remainder is taken at random inside the next column in that order (one partial column).
- ``frequency_block``: the same with whole frequency rows (all ``n_t`` patches of a band).
"""

import math

import torch
import torch.nn.functional as F


def patch_grid(frames, freq, patch_size):
    """Patch grid ``(n_t, n_f)`` of a ``frames x freq`` spectrogram (after end padding)."""
    pt, pf = patch_size
    return math.ceil(frames / pt), math.ceil(freq / pf)


def patchify(spec, patch_size):
    """Cut a spectrogram into flattened (time, frequency) patches.

    Arguments
    ---------
    spec : torch.Tensor
        ``[batch, frames, freq]``; any ``frames, freq >= 1`` (zero-padded at the end).
    patch_size : tuple of int
        ``(pt, pf)``: frames and bins per patch.

    Returns
    -------
    patches : torch.Tensor
        ``[batch, N, pt * pf]`` with ``N = n_t * n_f`` in time-major order.
    grid : tuple of int
        ``(n_t, n_f)``.
    """
    batch, frames, freq = spec.shape
    pt, pf = patch_size
    n_t, n_f = patch_grid(frames, freq, patch_size)
    spec = F.pad(spec, (0, n_f * pf - freq, 0, n_t * pt - frames))
    patches = spec.reshape(batch, n_t, pt, n_f, pf).permute(0, 1, 3, 2, 4)
    return patches.reshape(batch, n_t * n_f, pt * pf), (n_t, n_f)


def unpatchify(patches, grid, patch_size, frames, freq):
    """Exact inverse of :func:`patchify`: reassemble patches and crop the padding.

    Arguments
    ---------
    patches : torch.Tensor
        ``[batch, N, pt * pf]``, time-major.
    grid : tuple of int
        ``(n_t, n_f)`` with ``n_t * n_f = N``.
    patch_size : tuple of int
        ``(pt, pf)``.
    frames, freq : int
        Size of the spectrogram before padding.

    Returns
    -------
    torch.Tensor ``[batch, frames, freq]``.
    """
    n_t, n_f = grid
    pt, pf = patch_size
    batch = patches.shape[0]
    spec = patches.reshape(batch, n_t, n_f, pt, pf).permute(0, 1, 3, 2, 4)
    return spec.reshape(batch, n_t * pt, n_f * pf)[:, :frames, :freq]


def num_masked(num_patches, ratio):
    """Number of masked patches per sample: ``round(ratio * num_patches)``."""
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"The mask ratio must be in [0, 1], got {ratio}.")
    return int(round(ratio * num_patches))


def _uniform(shape, generator, device):
    """``U[0, 1)`` tensor drawn with ``generator`` (on its device), moved to ``device``."""
    gen_device = generator.device if generator is not None else device
    return torch.rand(shape, generator=generator, device=gen_device).to(device)


def _mask_from_priority(priority, count):
    """Mask ``[B, N]`` with ``True`` on the ``count`` lowest-priority patches of each row."""
    ids = torch.argsort(priority, dim=1)[:, :count]
    mask = torch.zeros(priority.shape, dtype=torch.bool, device=priority.device)
    return mask.scatter_(1, ids, True)


def _line_order(batch, lines, span, generator, device):
    """Random rank ``[B, lines]`` of grid lines, taken in shuffled groups of ``span`` lines."""
    if span < 1:
        raise ValueError(f"span must be >= 1, got {span}.")
    n_groups = math.ceil(lines / span)
    group_rank = torch.argsort(torch.argsort(_uniform((batch, n_groups), generator, device), dim=1), dim=1)
    line = torch.arange(lines, device=device)
    return group_rank[:, line // span] * span + line % span


def random_mask(batch, grid, ratio, generator=None, device=None):
    """Uniform random patch mask.

    Arguments
    ---------
    batch : int
    grid : tuple of int
        ``(n_t, n_f)``.
    ratio : float
        Share of masked patches in [0, 1].
    generator : torch.Generator or None
        Source of randomness (seeded determinism); ``None`` uses the global RNG.
    device : torch.device or str or None

    Returns
    -------
    torch.Tensor ``[batch, n_t * n_f]`` bool, ``True`` = masked, ``round(ratio * N)`` per row.
    """
    n = grid[0] * grid[1]
    return _mask_from_priority(_uniform((batch, n), generator, device), num_masked(n, ratio))


def time_block_mask(batch, grid, ratio, generator=None, device=None, span=1):
    """Mask whole time columns of the patch grid (see the module docstring).

    Same arguments and result as :func:`random_mask`, plus ``span``: columns are picked in
    shuffled groups of ``span`` consecutive time steps (``1`` = independent columns).
    """
    n_t, n_f = grid
    order = _line_order(batch, n_t, span, generator, device)  # [B, n_t]
    priority = order[:, :, None] + _uniform((batch, n_t, n_f), generator, device).double()
    return _mask_from_priority(priority.reshape(batch, n_t * n_f), num_masked(n_t * n_f, ratio))


def frequency_block_mask(batch, grid, ratio, generator=None, device=None, span=1):
    """Mask whole frequency rows (bands) of the patch grid (see the module docstring).

    Same arguments and result as :func:`random_mask`, plus ``span``: bands are picked in
    shuffled groups of ``span`` consecutive frequency patches (``1`` = independent bands).
    """
    n_t, n_f = grid
    order = _line_order(batch, n_f, span, generator, device)  # [B, n_f]
    priority = order[:, None, :] + _uniform((batch, n_t, n_f), generator, device).double()
    return _mask_from_priority(priority.reshape(batch, n_t * n_f), num_masked(n_t * n_f, ratio))


MASK_PATTERNS = {
    "random": random_mask,
    "time_block": time_block_mask,
    "frequency_block": frequency_block_mask,
}


def make_mask(pattern, batch, grid, ratio, generator=None, device=None, span=1):
    """Mask of the named pattern (one of :data:`MASK_PATTERNS`).

    ``span`` is passed to the block patterns and ignored by ``random``; the other arguments
    and the result are those of :func:`random_mask`.
    """
    if pattern not in MASK_PATTERNS:
        raise ValueError(f"Unknown mask pattern {pattern!r}; valid patterns: {sorted(MASK_PATTERNS)}.")
    if pattern == "random":
        return random_mask(batch, grid, ratio, generator, device)
    return MASK_PATTERNS[pattern](batch, grid, ratio, generator, device, span=span)
