"""Enhancement models on top of the MAE encoder: a small per-frame head, resynthesis with the noisy phase.

:class:`EnhancementModel` maps a noisy waveform to an enhanced one. The encoder of a
:class:`~maese.models.mae.SpectrogramMAE` sees the whole (unmasked) compressed magnitude; its
frame-level embeddings (one per patch column, repeated over the ``pt`` frames of a patch) are
projected and concatenated with the noisy compressed magnitude, which keeps the fine time-frequency
resolution, and (``use_reconstruction``) with the MAE decoder's reconstruction of the input, the
pre-training's own estimate of it without the distortions it learnt to undo. A small 1-D
convolutional head over time predicts per frame either

- ``mask``: a T-F mask bounded in ``[0, mask_max]`` (``mask_max * sigmoid``) on the noisy magnitude, or
- ``mapping``: the compressed clean magnitude directly.

Resynthesis keeps the noisy phase (ISTFT). The MAE sees ``freq_bins`` bins (256: Nyquist dropped);
the Nyquist bin is scaled by the mask of the last bin (``mask``) or set to zero (``mapping``).

With ``input_level_db`` the input is scaled to that RMS level (dB re full scale) before the STFT and the output
scaled back: the compressed magnitudes the model sees, and so its output, do not depend on the recording level
(log1p of the raw STFT magnitude is nearly linear below 1 and logarithmic above, so a quieter recording would
otherwise look like another signal).

With ``noise_floor_frames`` the head also sees the noise floor of the compressed noisy magnitude
(:class:`~maese.models.noise_floor.NoiseFloor`: per bin, its minimum over that many frames), so a steady noise
that looks like a voiced harmonic frame by frame shows as what it is: a floor that never stops.

With ``deep_filter_bins`` (mask head only) the head also predicts, per frame, complex filters over
``deep_filter_order`` frames for the lowest bins (:class:`~maese.models.deep_filter.DeepFilter`), applied to the
masked spectrogram: they start as the identity, so training starts from the mask alone, and may then rotate the
noisy phase and draw on neighbouring frames where a real mask cannot.
"""

import math
from pathlib import Path
from typing import NamedTuple, Optional

import torch
from speechbrain.utils.checkpoints import Checkpointer
from torch import nn

from maese.acoustics import level_gain
from maese.models.deep_filter import DeepFilter
from maese.models.noise_floor import NoiseFloor

HEAD_TARGETS = ("mask", "mapping")
FREEZE_MODES = ("frozen", "full", "top_k")


class EnhancementOutput(NamedTuple):
    """What :meth:`EnhancementModel.forward` returns.

    wav : ``[B, time]`` enhanced waveform (same length as the input).
    estimate : ``[B, T, freq_bins]`` compressed magnitude of the estimate (the loss compares it with
        the compressed clean magnitude).
    noisy : ``[B, T, freq_bins]`` compressed noisy magnitude (the model's input).
    mask : ``[B, T, freq_bins]`` the mask (``head_target: mask``), else ``None``.
    gain : ``[B, 1]`` the input's level gain (``input_level_db``; else ``None``): ``estimate`` and ``noisy`` are
        the magnitudes of the input times ``gain``, so the loss compares them with the target times ``gain``.
    """

    wav: torch.Tensor
    estimate: torch.Tensor
    noisy: torch.Tensor
    mask: Optional[torch.Tensor]
    gain: Optional[torch.Tensor] = None


class ConvHead(nn.Module):
    """Per-frame head: frame embeddings (projected) + ``spec_inputs`` spectrograms -> ``freq_bins`` (+ extra) outputs.

    ``Linear(embed -> proj_dim)``, then ``num_layers`` Conv1d over time (``kernel_size``, GELU) of
    width ``hidden`` and a 1x1 Conv1d to ``freq_bins + len(extra_init)``. The last layer starts with zero
    weights and a constant bias ``init_bias`` (0: a mask head starts at ``mask_max / 2`` everywhere) for the
    first ``freq_bins`` outputs, ``extra_init`` for the others.

    Arguments
    ---------
    embed_dim : int
        Width of the encoder's frame embeddings.
    freq_bins : int
    proj_dim, hidden, kernel_size, num_layers : int
    init_bias : float
        Initial output everywhere.
    spec_inputs : int
        Spectrograms of ``freq_bins`` bins given with the embeddings (the noisy one, and the reconstruction).
    extra_init : torch.Tensor or None
        ``[E]`` initial values of E more outputs (the deep filter's coefficients); None: none.
    """

    def __init__(self, embed_dim, freq_bins, proj_dim=128, hidden=256, kernel_size=5, num_layers=2, init_bias=0.0,
                 spec_inputs=1, extra_init=None):
        super().__init__()
        self.proj = nn.Linear(embed_dim, proj_dim)
        layers, width = [], proj_dim + spec_inputs * freq_bins
        for _ in range(num_layers):
            layers += [nn.Conv1d(width, hidden, kernel_size, padding=kernel_size // 2), nn.GELU()]
            width = hidden
        self.body = nn.Sequential(*layers)
        extra = torch.zeros(0) if extra_init is None else extra_init
        self.out = nn.Conv1d(width, freq_bins + len(extra), 1)
        nn.init.zeros_(self.out.weight)
        with torch.no_grad():
            self.out.bias.copy_(torch.cat([torch.full((freq_bins,), float(init_bias)), extra]))

    def forward(self, frames, spec):
        """``frames [B, T, embed_dim]``, ``spec [B, T, spec_inputs * freq_bins]`` -> ``[B, T, freq_bins + E]``."""
        x = torch.cat([self.proj(frames), spec], dim=-1).transpose(1, 2)
        return self.out(self.body(x)).transpose(1, 2)


class EnhancementModel(nn.Module):
    """Noisy waveform -> enhanced waveform: MAE encoder (no masking) + :class:`ConvHead`.

    Arguments
    ---------
    encoder : SpectrogramMAE
        Its encoder runs on every patch; its decoder only with ``use_reconstruction``.
    stft : maese.features.STFT
    compression : maese.features.Compression
    freq_bins : int
        Bins the encoder sees (the lowest ones); 256 for a 512-point FFT.
    head_target : str
        ``mask`` or ``mapping`` (see the module docstring).
    mask_max : float
        Upper bound of the mask (``mask`` only).
    mask_init : float or None
        Initial mask value everywhere, in ``(0, mask_max)`` (``mask`` only); ``None``: ``mask_max / 2``.
        A start near 1 passes speech through untouched until training learns what to remove.
    freeze : str
        ``frozen`` (encoder fixed), ``full`` (all trainable) or ``top_k`` (the top ``unfreeze_top_k``
        encoder blocks and the final norm trainable; patch embedding and lower blocks fixed).
    unfreeze_top_k : int
    proj_dim, hidden, kernel_size, num_layers : int
        Head sizes (:class:`ConvHead`).
    use_reconstruction : bool
        The head also sees the decoder's reconstruction of the (unmasked) input. The decoder is then
        trained with the head unless ``freeze`` is ``frozen``; otherwise it never runs and stays frozen.
    input_level_db : float or None
        RMS level (dB re full scale) the input is scaled to before the STFT, the output scaled back (see the
        module docstring); None: the input as it is.
    noise_floor_frames : int or None
        The head also sees the noise floor ``[B, T, freq_bins]`` of the compressed input, its minimum over this
        (odd) number of frames (see the module docstring); None: not.
    deep_filter_bins : int
        Lowest bins the deep filter refines (``mask`` only; see the module docstring); 0: no deep filter.
    deep_filter_order, deep_filter_lookahead : int
        Frames per filter, and the future frames among them (:class:`~maese.models.deep_filter.DeepFilter`).
    """

    def __init__(self, encoder, stft, compression, freq_bins=256, head_target="mask", mask_max=1.0,
                 freeze="full", unfreeze_top_k=0, proj_dim=128, hidden=256, kernel_size=5, num_layers=2,
                 mask_init=None, use_reconstruction=False, input_level_db=None, noise_floor_frames=None,
                 deep_filter_bins=0, deep_filter_order=5, deep_filter_lookahead=2):
        super().__init__()
        if head_target not in HEAD_TARGETS:
            raise ValueError(f"head_target: unknown value {head_target!r}; use one of {list(HEAD_TARGETS)}.")
        if not 0 < freq_bins <= stft.n_freq:
            raise ValueError(f"freq_bins must be in [1, {stft.n_freq}], got {freq_bins}.")
        if deep_filter_bins and head_target != "mask":
            raise ValueError("deep_filter_bins needs head_target: mask (the filter refines the masked spectrogram); "
                             "set deep_filter_bins: 0 for a mapping head.")
        if not 0 <= deep_filter_bins <= freq_bins:
            raise ValueError(f"deep_filter_bins must be in [0, freq_bins={freq_bins}], got {deep_filter_bins}.")
        self.encoder = encoder
        self.stft = stft
        self.compression = compression
        self.freq_bins = freq_bins
        self.head_target = head_target
        self.mask_max = float(mask_max)
        self.use_reconstruction = bool(use_reconstruction)
        self.input_level_db = None if input_level_db is None else float(input_level_db)
        self.noise_floor = None if noise_floor_frames is None else NoiseFloor(noise_floor_frames)
        self.deep_filter = (DeepFilter(deep_filter_bins, deep_filter_order, deep_filter_lookahead)
                            if deep_filter_bins else None)
        self.head = ConvHead(encoder.frame_embedding_dim(freq_bins), freq_bins, proj_dim, hidden, kernel_size,
                             num_layers, init_bias=self._initial_logit(mask_init),
                             spec_inputs=1 + self.use_reconstruction + (self.noise_floor is not None),
                             extra_init=None if self.deep_filter is None else self.deep_filter.identity_outputs())
        self.set_trainable(freeze, unfreeze_top_k)

    def _initial_logit(self, mask_init):
        """The head's initial output that makes the mask ``mask_init`` (0 when ``None`` or a mapping head)."""
        if mask_init is None or self.head_target != "mask":
            return 0.0
        if not 0 < mask_init < self.mask_max:
            raise ValueError(f"mask_init must be in (0, mask_max={self.mask_max}), got {mask_init}.")
        return math.log(mask_init / (self.mask_max - mask_init))

    def set_trainable(self, freeze, unfreeze_top_k=0):
        """Set ``requires_grad`` of the encoder's parameters by ``freeze`` (see the class docstring)."""
        depth = len(self.encoder.encoder_blocks)
        if freeze not in FREEZE_MODES:
            raise ValueError(f"freeze: unknown value {freeze!r}; use one of {list(FREEZE_MODES)}.")
        if freeze == "top_k" and not 0 <= unfreeze_top_k <= depth:
            raise ValueError(f"unfreeze_top_k must be in [0, {depth}] (encoder blocks), got {unfreeze_top_k}.")
        self.encoder.requires_grad_(freeze == "full")
        if freeze == "top_k" and unfreeze_top_k > 0:
            for block in self.encoder.encoder_blocks[depth - unfreeze_top_k:]:
                block.requires_grad_(True)
            self.encoder.encoder_norm.requires_grad_(True)
        for name in ("decoder_embed", "decoder_blocks", "decoder_norm", "decoder_pred"):
            getattr(self.encoder, name).requires_grad_(self.use_reconstruction and freeze != "frozen")
        self.encoder.mask_token.requires_grad_(False)

    def features(self, wav):
        """``[B, time]`` -> (complex STFT ``[B, T, n_freq]``, compressed magnitude ``[B, T, freq_bins]``)."""
        spec = self.stft(wav)
        return spec, self.compression.compress(spec.abs()[..., : self.freq_bins])

    def level_gain(self, wav):
        """``[B, time]`` -> ``[B, 1]`` gain to ``input_level_db`` (:func:`maese.acoustics.level_gain`); None without."""
        return None if self.input_level_db is None else level_gain(wav, self.input_level_db)

    def forward(self, noisy):
        """Enhance ``noisy [B, time]``; returns an :class:`EnhancementOutput`."""
        gain = self.level_gain(noisy)
        out = self._enhance(noisy if gain is None else noisy * gain)
        return out if gain is None else out._replace(wav=out.wav / gain, gain=gain)

    def _enhance(self, noisy):
        """:meth:`forward` without the level gain."""
        spec, inputs = self.features(noisy)
        head_specs = [inputs]
        if self.use_reconstruction:
            frames, reconstruction = self.encoder.encode_and_reconstruct(inputs)
            head_specs.append(reconstruction)
        else:
            frames = self.encoder.encode(inputs, level="frame")
        if self.noise_floor is not None:
            head_specs.append(self.noise_floor(inputs))
        out = self.head(frames, torch.cat(head_specs, dim=-1))
        if self.head_target == "mask":
            out, filter_outputs = out[..., : self.freq_bins], out[..., self.freq_bins:]
            mask = self.mask_max * torch.sigmoid(out)
            enhanced = spec * self._full_band(mask, mask[..., -1:])
            if self.deep_filter is not None:
                enhanced = self.deep_filter(enhanced, self.deep_filter.coefficients(filter_outputs))
            estimate = self.compression.compress(enhanced[..., : self.freq_bins].abs())
        else:
            mask, estimate = None, out
            magnitude = self.compression.decompress(out)
            enhanced = torch.polar(self._full_band(magnitude, torch.zeros_like(magnitude[..., :1])), spec.angle())
        return EnhancementOutput(self.stft.inverse(enhanced, noisy.shape[-1]), estimate, inputs, mask)

    def _full_band(self, values, edge):
        """``[B, T, freq_bins]`` -> ``[B, T, n_freq]``, the missing top bins filled with ``edge [B, T, 1]``."""
        missing = self.stft.n_freq - self.freq_bins
        return torch.cat([values, edge.expand(-1, -1, missing)], dim=-1) if missing else values


def best_model_file(save_folder, missing):
    """``model.ckpt`` of the checkpoint with the lowest valid ``loss`` in ``save_folder``.

    Raises
    ------
    FileNotFoundError with the message ``missing`` when the folder holds no such checkpoint.
    """
    folder = Path(save_folder)
    best = Checkpointer(folder).find_checkpoint(min_key="loss") if folder.is_dir() else None
    if best is None or "model" not in best.paramfiles:
        raise FileNotFoundError(missing)
    return best.paramfiles["model"]


def find_pretrained_checkpoint(pretrain_save_folder):
    """Path of ``model.ckpt`` in the best (lowest valid ``loss``) checkpoint of a pre-training ``save`` folder.

    Raises
    ------
    FileNotFoundError naming the folder when it holds no such checkpoint.
    """
    return best_model_file(
        pretrain_save_folder,
        f"pretrained_folder {pretrain_save_folder}: no pre-training checkpoint found (expected CKPT*/model.ckpt "
        "with a valid loss). Run the pre-training stage first, or point pretrained_folder at its save/ folder.",
    )


ENCODER_KEYS = ("patch_embed.", "encoder_blocks.", "encoder_norm.")
DECODER_KEYS = ("decoder_embed.", "decoder_blocks.", "decoder_norm.", "decoder_pred.")


def load_pretrained_encoder(model, pretrain_save_folder):
    """Load the encoder part of the best pre-training checkpoint of ``pretrain_save_folder`` into ``model.encoder``.

    The encoder's weights (patch embedding, blocks, final norm) are taken, and the decoder's when the
    model uses its reconstruction (``use_reconstruction``); otherwise the decoder never runs, so its
    size need not match.

    Arguments
    ---------
    model : EnhancementModel
    pretrain_save_folder : str or Path
        The ``save`` folder of a pre-training experiment.

    Returns
    -------
    Path of the checkpoint file loaded.
    """
    path = find_pretrained_checkpoint(pretrain_save_folder)
    keys = ENCODER_KEYS + DECODER_KEYS if model.use_reconstruction else ENCODER_KEYS
    state = {k: v for k, v in torch.load(path, map_location="cpu").items() if k.startswith(keys)}
    try:
        missing, _ = model.encoder.load_state_dict(state, strict=False)
    except RuntimeError as err:
        raise ValueError(
            f"{path} does not fit the model (model_size and patch size must match the pre-training, and its decoder "
            f"too with head_reconstruction): {err}"
        ) from err
    missing = [k for k in missing if k.startswith(keys)]
    if missing:
        raise ValueError(f"{path} lacks weights {missing[:3]}... (is it an MAE pre-training checkpoint?)")
    return path
