"""Masked autoencoder on (time, frequency) patches of a compressed magnitude spectrogram.

Follows the MAE reference (He et al. 2022) without the class token: linear patch embedding,
a pre-norm ViT encoder that sees only the visible patches, and a smaller separate decoder that
re-inserts a learned mask token at the masked positions and predicts every patch. Positions are
fixed 2-D sin-cos embeddings computed for each patch grid, so any clip length works.

Patch layout, padding and mask conventions are those of :mod:`maese.masking` (time-major
patches, ``True`` = masked, the same number of masked patches in every sample).
"""

import copy
from typing import NamedTuple, Optional, Tuple

import torch
from torch import nn

from maese.masking import patch_grid, patchify, unpatchify

MAE_PRESETS = {
    # For tests: < 0.2 M parameters.
    "tiny": dict(embed_dim=64, depth=2, num_heads=4,
                 decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=2),
    # Trainable on a couple of CPU cores: about 1 M parameters.
    "small": dict(embed_dim=128, depth=4, num_heads=4,
                  decoder_embed_dim=64, decoder_depth=2, decoder_num_heads=4),
    # ViT-Base encoder and the MAE reference decoder.
    "paper": dict(embed_dim=768, depth=12, num_heads=12,
                  decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16),
}


def mae_config(name):
    """Constructor kwargs of the preset ``name`` (a fresh dict; see :data:`MAE_PRESETS`)."""
    if name not in MAE_PRESETS:
        raise ValueError(f"Unknown MAE preset {name!r}; valid presets: {sorted(MAE_PRESETS)}.")
    return copy.deepcopy(MAE_PRESETS[name])


def count_parameters(module, trainable_only=False):
    """Number of parameters of ``module`` (only those with ``requires_grad`` if ``trainable_only``)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def sincos_pos_embed_2d(grid, dim, device=None, dtype=torch.float32):
    """Fixed 2-D sin-cos positional embeddings of a patch grid (MAE reference formula).

    The first half of the channels encodes the time index, the second half the frequency index,
    each as ``[sin(pos * w_k), cos(pos * w_k)]`` with ``w_k = 10000 ** (-k / (dim / 4))``.

    Arguments
    ---------
    grid : tuple of int
        ``(n_t, n_f)``.
    dim : int
        Embedding width, a multiple of 4.

    Returns
    -------
    torch.Tensor ``[n_t * n_f, dim]`` in time-major patch order.
    """
    if dim % 4:
        raise ValueError(f"The sin-cos embedding width must be a multiple of 4, got {dim}.")
    n_t, n_f = grid
    omega = 1.0 / 10000 ** (torch.arange(dim // 4, device=device, dtype=torch.float64) / (dim / 4))
    t, f = torch.meshgrid(
        torch.arange(n_t, device=device, dtype=torch.float64),
        torch.arange(n_f, device=device, dtype=torch.float64),
        indexing="ij",
    )
    angles = [pos.reshape(-1, 1) * omega for pos in (t, f)]
    emb = torch.cat([torch.cat([a.sin(), a.cos()], dim=1) for a in angles], dim=1)
    return emb.to(dtype)


def _blocks(dim, depth, num_heads, mlp_ratio):
    """``depth`` pre-norm transformer blocks (self-attention + GELU MLP)."""
    return nn.ModuleList(
        nn.TransformerEncoderLayer(
            dim, num_heads, dim_feedforward=int(dim * mlp_ratio), dropout=0.0,
            activation="gelu", batch_first=True, norm_first=True,
        )
        for _ in range(depth)
    )


class MAEOutput(NamedTuple):
    """What :meth:`SpectrogramMAE.forward` returns.

    reconstruction : ``[B, T, F]`` predicted spectrogram (padding cropped).
    patches_pred : ``[B, N, pt * pf]`` predicted patches (compare with ``patchify(target)``).
    mask : ``[B, N]`` bool mask that was applied (``True`` = masked), or ``None``.
    grid : ``(n_t, n_f)`` patch grid.
    """

    reconstruction: torch.Tensor
    patches_pred: torch.Tensor
    mask: Optional[torch.Tensor]
    grid: Tuple[int, int]


class SpectrogramMAE(nn.Module):
    """Spectrogram masked autoencoder.

    Arguments
    ---------
    patch_size : tuple of int
        ``(pt, pf)`` frames x bins per patch; need not be square, e.g. ``(8, 16)``.
    embed_dim, depth, num_heads : int
        Encoder width (multiple of 4), number of blocks, attention heads.
    decoder_embed_dim, decoder_depth, decoder_num_heads : int
        The same for the decoder.
    mlp_ratio : float
        MLP hidden width over block width (both encoder and decoder).
    visible_skip : bool
        Add the input to the decoder's output on visible patches, so that the decoder predicts
        the correction that undoes the distortions there (ours; masked patches are predicted whole).

    Example
    -------
    >>> from maese.masking import make_mask, patch_grid
    >>> model = SpectrogramMAE.from_preset("tiny")
    >>> spec = torch.rand(2, 50, 257)
    >>> mask = make_mask("random", 2, patch_grid(50, 257, model.patch_size), 0.75)
    >>> model(spec, mask).reconstruction.shape
    torch.Size([2, 50, 257])
    >>> model.encode(spec, level="frame").shape == (2, 50, model.frame_embedding_dim(257))
    True
    """

    def __init__(
        self,
        patch_size=(16, 16),
        embed_dim=128,
        depth=4,
        num_heads=4,
        decoder_embed_dim=64,
        decoder_depth=2,
        decoder_num_heads=4,
        mlp_ratio=4.0,
        visible_skip=False,
    ):
        super().__init__()
        self.visible_skip = bool(visible_skip)
        self.patch_size = tuple(int(p) for p in patch_size)
        self.embed_dim = embed_dim
        self.decoder_embed_dim = decoder_embed_dim
        patch_dim = self.patch_size[0] * self.patch_size[1]

        self.patch_embed = nn.Linear(patch_dim, embed_dim)
        self.encoder_blocks = _blocks(embed_dim, depth, num_heads, mlp_ratio)
        self.encoder_norm = nn.LayerNorm(embed_dim, eps=1e-6)

        self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(decoder_embed_dim))
        self.decoder_blocks = _blocks(decoder_embed_dim, decoder_depth, decoder_num_heads, mlp_ratio)
        self.decoder_norm = nn.LayerNorm(decoder_embed_dim, eps=1e-6)
        self.decoder_pred = nn.Linear(decoder_embed_dim, patch_dim)

        # Checked here rather than at the first forward.
        sincos_pos_embed_2d((1, 1), embed_dim)
        sincos_pos_embed_2d((1, 1), decoder_embed_dim)
        self._init_weights()

    @classmethod
    def from_preset(cls, name, **overrides):
        """Model of the preset ``name`` (``tiny``, ``small``, ``paper``) with kwargs ``overrides``."""
        return cls(**{**mae_config(name), **overrides})

    def _init_weights(self):
        """MAE reference init: xavier-uniform linears, zero biases, unit LayerNorms, N(0, 0.02) mask token.

        With ``visible_skip`` the output projection starts at zero, so the model starts as the identity
        on visible patches.
        """
        nn.init.normal_(self.mask_token, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if self.visible_skip:  # start from the identity on visible patches
            nn.init.zeros_(self.decoder_pred.weight)

    def frame_embedding_dim(self, freq):
        """Width of the frame-level embeddings of a ``freq``-bin spectrogram: ``n_f * embed_dim``."""
        return patch_grid(1, freq, self.patch_size)[1] * self.embed_dim

    def _encode_patches(self, spec, mask):
        """Encoder on the visible patches.

        Returns latents ``[B, N_visible, D]`` (visible patches in their original order),
        the indices ``[B, N_visible]`` of those patches, and the grid.
        """
        patches, grid = patchify(spec, self.patch_size)
        batch, n = patches.shape[:2]
        x = self.patch_embed(patches) + sincos_pos_embed_2d(grid, self.embed_dim, spec.device, patches.dtype)
        if mask is None:
            ids_keep = torch.arange(n, device=spec.device).expand(batch, n)
        else:
            if mask.shape != (batch, n):
                raise ValueError(
                    f"Mask shape {tuple(mask.shape)} does not match (batch, patches) = {(batch, n)}."
                )
            n_masked = mask.sum(dim=1)
            if (n_masked != n_masked[0]).any() or int(n_masked[0]) >= n:
                raise ValueError(
                    "Every sample needs the same number of masked patches and at least one visible patch."
                )
            n_keep = n - int(n_masked[0])
            ids_keep = torch.argsort(mask.to(torch.int8), dim=1, stable=True)[:, :n_keep]
            x = torch.gather(x, 1, ids_keep[..., None].expand(-1, -1, x.shape[-1]))
        for block in self.encoder_blocks:
            x = block(x)
        return self.encoder_norm(x), ids_keep, grid

    def encode(self, spec, mask=None, level="patch"):
        """Encoder embeddings, for fine-tuning heads (``mask=None``) or analysis.

        Arguments
        ---------
        spec : torch.Tensor
            ``[B, T, F]`` compressed magnitudes.
        mask : torch.Tensor or None
            ``[B, N]`` bool, ``True`` = masked (dropped, never seen by the encoder).
        level : str
            ``"patch"``: ``[B, N_visible, D]``, the visible patches in time-major order
            (``N_visible = N`` without mask). ``"frame"`` (needs ``mask=None``): ``[B, T, n_f * D]``,
            the ``n_f`` patch embeddings of a time step concatenated (low to high frequency),
            repeated over the ``pt`` frames of that patch and cropped to ``T`` frames; the width
            is :meth:`frame_embedding_dim`.
        """
        if level not in ("patch", "frame"):
            raise ValueError(f"Unknown level {level!r}; valid levels: ['frame', 'patch'].")
        if level == "frame" and mask is not None:
            raise ValueError("Frame-level embeddings need every patch: call encode with mask=None.")
        latent, _, grid = self._encode_patches(spec, mask)
        return latent if level == "patch" else self._frames(latent, grid, spec.shape[1])

    def _frames(self, latent, grid, frames):
        """``[B, N, D]`` latents of every patch -> ``[B, frames, n_f * D]`` frame embeddings (see :meth:`encode`)."""
        n_t, n_f = grid
        per_column = latent.reshape(latent.shape[0], n_t, n_f * self.embed_dim)
        return per_column.repeat_interleave(self.patch_size[0], dim=1)[:, :frames]

    def encode_and_reconstruct(self, spec):
        """One encoder pass on every patch of ``spec [B, T, F]`` for both uses of a fine-tuning head.

        Returns the frame embeddings ``[B, T, n_f * D]`` (``encode(spec, level="frame")``) and the
        reconstruction ``[B, T, F]`` (``forward(spec).reconstruction``: with ``visible_skip``, the input
        with the distortions the pre-training learnt to undo taken out).
        """
        latent, ids_keep, grid = self._encode_patches(spec, None)
        return self._frames(latent, grid, spec.shape[1]), self._decode(latent, ids_keep, grid, spec, None)[0]

    def forward(self, spec, mask=None):
        """Reconstruct the spectrogram from its visible patches.

        Arguments
        ---------
        spec : torch.Tensor
            ``[B, T, F]`` (augmented) compressed magnitudes.
        mask : torch.Tensor or None
            ``[B, N]`` bool, ``True`` = masked, the same count in each row
            (see :func:`maese.masking.make_mask`); ``None`` masks nothing.

        Returns
        -------
        MAEOutput with ``reconstruction [B, T, F]``, ``patches_pred [B, N, pt * pf]``, ``mask``, ``grid``.
        """
        latent, ids_keep, grid = self._encode_patches(spec, mask)
        reconstruction, patches_pred = self._decode(latent, ids_keep, grid, spec, mask)
        return MAEOutput(reconstruction, patches_pred, mask, grid)

    def _decode(self, latent, ids_keep, grid, spec, mask):
        """Decoder: ``latent [B, N_visible, D]`` -> (reconstruction ``[B, T, F]``, patches ``[B, N, pt * pf]``)."""
        batch, n = spec.shape[0], grid[0] * grid[1]
        visible = self.decoder_embed(latent)
        x = self.mask_token.to(visible.dtype).expand(batch, n, -1)
        x = x.scatter(1, ids_keep[..., None].expand(-1, -1, visible.shape[-1]), visible)
        x = x + sincos_pos_embed_2d(grid, self.decoder_embed_dim, spec.device, x.dtype)
        for block in self.decoder_blocks:
            x = block(x)
        patches_pred = self.decoder_pred(self.decoder_norm(x))
        if self.visible_skip:
            keep = 1.0 if mask is None else (~mask).unsqueeze(-1).to(patches_pred.dtype)
            patches_pred = patches_pred + patchify(spec, self.patch_size)[0] * keep
        return unpatchify(patches_pred, grid, self.patch_size, spec.shape[1], spec.shape[2]), patches_pred
