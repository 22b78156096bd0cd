"""Inference: enhance tensors and audio files of any rate, channel count and length with a trained model.

    enhancer = Enhancer.from_experiment("recipes/DNS/results/denoise/pretrained_small_p0.1/1234")
    clean = enhancer.enhance(noisy, sample_rate=44100)     # [time] or [channels, time] -> the same shape
    enhancer.enhance_file("noisy.flac", "enhanced.wav")    # streamed: memory does not grow with the length

Conventions
-----------
- **Rates.** The model runs at its own rate (16 kHz); the input is resampled to it and the output back
  to the input's rate (band-limited sinc, :func:`maese.audio.resample`), so the output has the input's
  rate and length. Content above the model's Nyquist frequency is not restored.
- **Channels.** Each channel is enhanced on its own (the channels form the model's batch), or the
  channels are averaged first (``downmix=True``: a mono output).
- **Length.** Audio is enhanced in chunks of ``chunk_seconds`` that overlap by ``overlap_seconds``
  (by default half a chunk; a fine-tuned model's chunk is its training crop, ``segment_seconds``), cross-faded
  with complementary sin^2 / cos^2 ramps that sum to one; memory stays flat whatever the length. Chunk starts
  are multiples of the model's patch column (``hop_length * patch_time`` samples)
  where the rates allow it, so chunks see the STFT frames and patch grid of the whole clip: a model
  that ignores its context gives its whole-clip output (SI-SDR > 60 dB, tests/unit/test_inference.py).
  The encoder attends over its whole input, so a chunk's output still depends on the context it sees
  (about 35 dB between 1-s chunks and a 6-s clip for a random tiny model), spread evenly, not at the
  seams. ``chunk_seconds=None`` enhances the whole clip at once.
- **Level.** The output is the model's output as it is: never normalised, rescaled nor clipped (files
  are 32-bit float). A mask model scales time-frequency bins by at most ``mask_max`` (2 in the DNS
  recipe, whose mask starts at 1: clean speech keeps its level, RESULTS.md), so a full-scale input can
  come out above full scale; the float file keeps those values and the log names it.
"""

import logging
import math
from pathlib import Path

import soundfile as sf
import torch
import yaml

from maese.audio import AudioError, atomic_sound_file, check_complete, check_finite, read_info, resample
from maese.dataio import write_json
from maese.features import STFT, get_compression
from maese.models.heads import EnhancementModel, best_model_file
from maese.models.mae import MAE_PRESETS, SpectrogramMAE

logger = logging.getLogger(__name__)

INFERENCE_CONFIG = "inference.json"
PACKAGED_WEIGHTS = "model.ckpt"  # a packaged model: <folder>/inference.json beside <folder>/model.ckpt
DEFAULT_MODEL = Path(__file__).parent / "pretrained" / "denoise"  # the model maese ships (maese/pretrained/)
CONFIG_KEYS = ("sample_rate", "n_fft", "hop_length", "freq_bins", "compression_name", "model_size", "patch_time",
               "patch_freq", "head_target", "mask_max", "head_proj_dim", "head_hidden", "head_kernel_size",
               "head_layers", "head_reconstruction", "visible_skip", "input_level_db", "head_noise_floor_frames",
               "deep_filter_bins", "deep_filter_order", "deep_filter_lookahead", "segment_seconds")
# Keys that experiments made before they existed lack: the values those experiments ran with.
LEGACY_DEFAULTS = {"head_reconstruction": False, "visible_skip": False, "input_level_db": None,
                   "head_noise_floor_frames": None, "deep_filter_bins": 0, "deep_filter_order": 5,
                   "deep_filter_lookahead": 2, "segment_seconds": None}


def inference_config(hparams):
    """The model's settings from (fine-tuning) hparams: a plain dict of :data:`CONFIG_KEYS`."""
    return {key: hparams[key] for key in CONFIG_KEYS}


def write_inference_config(folder, hparams):
    """Write :func:`inference_config` of ``hparams`` as ``folder/inference.json`` (atomically)."""
    write_json(Path(folder) / INFERENCE_CONFIG, inference_config(hparams))


def build_model(config):
    """A randomly initialised :class:`EnhancementModel` of ``config`` (see :data:`CONFIG_KEYS`)."""
    encoder = SpectrogramMAE.from_preset(config["model_size"], patch_size=(config["patch_time"], config["patch_freq"]),
                                         visible_skip=config["visible_skip"])
    stft = STFT(config["sample_rate"], config["n_fft"], config["hop_length"], config["n_fft"])
    return EnhancementModel(
        encoder, stft, get_compression(config["compression_name"]), config["freq_bins"], config["head_target"],
        config["mask_max"], freeze="frozen", proj_dim=config["head_proj_dim"], hidden=config["head_hidden"],
        kernel_size=config["head_kernel_size"], num_layers=config["head_layers"],
        use_reconstruction=config["head_reconstruction"], input_level_db=config["input_level_db"],
        noise_floor_frames=config["head_noise_floor_frames"], deep_filter_bins=config["deep_filter_bins"],
        deep_filter_order=config["deep_filter_order"], deep_filter_lookahead=config["deep_filter_lookahead"],
    )


def find_best_checkpoint(experiment):
    """``model.ckpt`` of the checkpoint with the lowest valid ``loss`` in ``experiment/save``, or the weights of a
    packaged model (``experiment/model.ckpt`` beside its ``inference.json``, as in ``maese/pretrained/``)."""
    packaged = Path(experiment) / PACKAGED_WEIGHTS
    if packaged.is_file() and (Path(experiment) / INFERENCE_CONFIG).is_file():
        return packaged
    return best_model_file(
        Path(experiment) / "save",
        f"{experiment}: no fine-tuning checkpoint (expected save/CKPT*/model.ckpt with a valid loss). "
        "Point --model at the output_folder of a finished fine-tuning (or scratch) run.",
    )


class _PlainLoader(yaml.SafeLoader):
    """Reads a saved HyperPyYAML file's plain values; tagged entries (``!new:`` ...) load as None."""


_PlainLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def shape_config(state):
    """The size-dependent :data:`CONFIG_KEYS` read off a model ``state_dict``'s tensor shapes."""
    depth = len({key.split(".")[2] for key in state if key.startswith("encoder.encoder_blocks.")})
    embed_dim = state["encoder.patch_embed.weight"].shape[0]
    sizes = [name for name, p in MAE_PRESETS.items() if (p["embed_dim"], p["depth"]) == (embed_dim, depth)]
    if not sizes:
        raise ValueError(f"No MAE preset has {depth} blocks of width {embed_dim}; presets: {sorted(MAE_PRESETS)}.")
    first = state["head.body.0.weight"]
    return {"model_size": sizes[0], "head_proj_dim": state["head.proj.weight"].shape[0], "head_hidden": first.shape[0],
            "head_kernel_size": first.shape[2], "freq_bins": state["head.out.weight"].shape[0],
            "head_layers": sum(1 for key in state if key.startswith("head.body.") and key.endswith(".weight"))}


def experiment_config(experiment, state):
    """The model config of an experiment folder: ``inference.json``, written by fine-tuning.

    Older experiments lack it: their ``hyperparams.yaml`` is read instead, with the size-dependent keys
    taken from the checkpoint (the saved yaml predates the ``--size`` preset, so its sizes may be wrong).
    Keys added since (:data:`LEGACY_DEFAULTS`) take the values those experiments ran with.
    """
    experiment = Path(experiment)
    source = experiment / INFERENCE_CONFIG
    if source.is_file():
        config = yaml.safe_load(source.read_text())
    elif (experiment / "hyperparams.yaml").is_file():
        source = experiment / "hyperparams.yaml"
        saved = yaml.load(source.read_text(), Loader=_PlainLoader)
        config = {**{key: saved[key] for key in CONFIG_KEYS if key in saved}, **shape_config(state)}
        logger.info("%s: no %s; model config from hyperparams.yaml and the checkpoint.", experiment, INFERENCE_CONFIG)
    else:
        raise FileNotFoundError(f"{experiment}: neither {INFERENCE_CONFIG} nor hyperparams.yaml; is it an experiment "
                                "folder of the fine-tuning stage?")
    config = {**LEGACY_DEFAULTS, **config}
    missing = [key for key in CONFIG_KEYS if key not in config]
    if missing:
        raise ValueError(f"{source}: no value for {missing}. Re-run the fine-tuning stage to write {INFERENCE_CONFIG}.")
    return config


def chunk_starts(frames, chunk, hop):
    """Start samples of chunks ``[s, min(s + chunk, frames))``, ``hop`` apart, covering ``frames`` samples.

    Every chunk but the last has ``chunk`` samples; the last is longer than the overlap ``chunk - hop``.
    """
    return range(0, max(frames - (chunk - hop), 1), hop)


def crossfade(chunks, overlap):
    """Join consecutive chunks ``[C, n_k]`` that overlap by ``overlap`` samples; yields the output piece by piece.

    The overlap is cross-faded with sin^2 (rising) and cos^2 (falling) ramps that sum to one.
    """
    fade = torch.sin(0.5 * math.pi * (torch.arange(overlap) + 0.5) / overlap) ** 2
    tail = None
    for chunk in chunks:
        if tail is not None and overlap:
            head = tail * (1 - fade) + chunk[..., :overlap] * fade
            chunk = torch.cat([head, chunk[..., overlap:]], dim=-1)
        cut = max(chunk.shape[-1] - overlap, 0)
        if cut:
            yield chunk[..., :cut]
        tail = chunk[..., cut:]
    if tail is not None and tail.shape[-1]:
        yield tail


def read_block(src, start, n, path):
    """``n`` samples from ``start`` of an open ``sf.SoundFile`` as float32 ``[channels, n]``, validated."""
    src.seek(start)
    try:
        block = torch.from_numpy(src.read(n, dtype="float32", always_2d=True).T.copy())
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioError(f"{path}: the audio data is corrupt ({err}). Re-copy the file.") from err
    if block.shape[-1] < n:
        raise AudioError(f"{path}: truncated: the header promises {src.frames} samples, the data ends at "
                         f"{start + block.shape[-1]}. Re-copy the file.")
    bad = (~torch.isfinite(block)).any(dim=0).nonzero()
    if len(bad):
        raise AudioError(f"{path}: NaN/Inf samples, the first at {(start + int(bad[0])) / src.samplerate:.2f} s. "
                         "Repair or remove the file.")
    return block


class Enhancer:
    """Enhance audio of any rate, channel count and length with an enhancement model (see the module docstring).

    Arguments
    ---------
    model : torch.nn.Module
        Maps ``[B, time]`` at ``sample_rate`` to an output whose ``wav`` is ``[B, time]``
        (an :class:`EnhancementModel`).
    sample_rate : int
        The model's rate.
    chunk_seconds : float or None
        Longest stretch the model sees at once (overlap included); None: whole clips.
    overlap_seconds : float or None
        Cross-faded overlap of consecutive chunks; None: half a chunk (each sample the mean of two chunks' estimates,
        DNS RESULTS.md, "The input length at inference").
    downmix : bool
        Average the channels first (mono output) instead of enhancing each.
    device : str or torch.device or None
        Where the model runs; None: where its parameters are.
    """

    def __init__(self, model, sample_rate=16000, chunk_seconds=4.0, overlap_seconds=None, downmix=False, device=None):
        if chunk_seconds is not None and overlap_seconds is None:
            overlap_seconds = chunk_seconds / 2
        if chunk_seconds is not None and not 0 < overlap_seconds < chunk_seconds:
            raise ValueError(f"Need 0 < overlap_seconds ({overlap_seconds}) < chunk_seconds ({chunk_seconds}).")
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.model = model.to(self.device).eval()
        self.sample_rate = int(sample_rate)
        self.chunk_seconds, self.overlap_seconds = chunk_seconds, overlap_seconds
        self.downmix = downmix
        is_mae = isinstance(model, EnhancementModel)
        self.column = model.stft.hop_length * model.encoder.patch_size[0] if is_mae else 1

    @classmethod
    def from_experiment(cls, experiment, **kwargs):
        """The best checkpoint (lowest valid loss) of a fine-tuning experiment folder (``output_folder``), or a
        packaged model's folder (``inference.json`` and ``model.ckpt``).

        The folder may have been moved: only ``inference.json`` (or ``hyperparams.yaml``) and
        ``save/CKPT*/model.ckpt`` (or ``model.ckpt``) are read. ``kwargs`` go to the constructor; without
        ``chunk_seconds`` the model sees chunks of its training crop (``segment_seconds``; on the real-speech valid
        split +0.004 ESTOI and +0.01 PESQ against 4-s chunks overlapping by 0.5 s, DNS RESULTS.md), or the
        constructor's default for an experiment that did not record its crop.
        """
        path = find_best_checkpoint(experiment)
        state = torch.load(path, map_location="cpu")
        config = experiment_config(experiment, state)
        model = build_model(config)
        try:
            model.load_state_dict(state)
        except RuntimeError as err:
            raise ValueError(f"{path} does not fit the model config of {experiment} ({err}).") from err
        logger.info("Enhancer: %s (%s, %s head)", path, config["model_size"], config["head_target"])
        if config["segment_seconds"]:
            kwargs.setdefault("chunk_seconds", config["segment_seconds"])
        return cls(model, config["sample_rate"], **kwargs)

    @classmethod
    def default(cls, **kwargs):
        """The denoiser maese ships in ``maese/pretrained/denoise/`` (its ``MODEL_CARD.md`` says how it was trained
        and on what data). ``kwargs`` go to the constructor."""
        if not (DEFAULT_MODEL / PACKAGED_WEIGHTS).is_file():
            raise FileNotFoundError(f"{DEFAULT_MODEL}: the packaged default model is missing from this installation "
                                    "(reinstall maese, or give a model folder: --model DIR).")
        return cls.from_experiment(DEFAULT_MODEL, **kwargs)

    def chunking(self, rate):
        """(chunk, hop) in samples at ``rate``; hop a multiple of a patch column where the rates allow."""
        ratio = math.gcd(int(rate), self.sample_rate)
        up, down = self.sample_rate // ratio, int(rate) // ratio  # model samples = input samples * up / down
        step = math.lcm(self.column, up) // up * down  # input samples of a whole number of patch columns
        hop = (self.chunk_seconds - self.overlap_seconds) * rate
        step = step if step <= hop else 1
        hop = max(step, int(hop // step) * step)
        return hop + round(self.overlap_seconds * rate), hop

    @torch.inference_mode()
    def enhance_chunk(self, wav, rate):
        """``[C, n]`` at ``rate`` -> ``[C, n]``: resampled to the model's rate, enhanced, resampled back."""
        model_in = resample(wav, rate, self.sample_rate).to(self.device)
        enhanced = self.model(model_in).wav.float().cpu()
        return resample(enhanced, self.sample_rate, rate)[..., : wav.shape[-1]]

    def enhanced_pieces(self, read, frames, rate):
        """Enhanced output ``[C, n_k]`` pieces, in order, of ``frames`` samples read by ``read(start, n) -> [C, n]``."""
        chunk, hop = (frames, frames) if self.chunk_seconds is None else self.chunking(rate)
        chunks = (self.enhance_chunk(read(s, min(chunk, frames - s)), rate) for s in chunk_starts(frames, chunk, hop))
        return crossfade(chunks, chunk - hop)

    def enhance_channels(self, wav, rate):
        """``[C, time]`` at ``rate`` -> ``[C, time]``, each channel enhanced on its own (no downmix)."""
        return torch.cat(list(self.enhanced_pieces(lambda s, n: wav[:, s:s + n], wav.shape[-1], rate)), dim=-1)

    def enhance(self, wav, sample_rate):
        """Enhance ``wav`` ``[time]`` or ``[channels, time]`` at ``sample_rate``.

        Returns
        -------
        torch.Tensor, float32 on the CPU at ``sample_rate``: the shape of ``wav``, or ``[time]`` with ``downmix``.
        """
        if not torch.is_floating_point(wav) or wav.dim() not in (1, 2) or wav.shape[-1] == 0:
            raise ValueError(f"enhance takes a float waveform [time] or [channels, time], got {wav.dtype} "
                             f"{tuple(wav.shape)}.")
        check_finite(wav, "enhance input")
        channels = wav.float().reshape(-1, wav.shape[-1])
        if self.downmix:
            return self.enhance_channels(channels.mean(dim=0, keepdim=True), sample_rate)[0]
        return self.enhance_channels(channels, sample_rate).reshape(wav.shape)

    def enhance_batch(self, wavs, lengths=None):
        """Enhance a padded batch ``[B, time]`` at the model's rate (SpeechBrain convention).

        Arguments
        ---------
        wavs : torch.Tensor ``[B, time]``
        lengths : torch.Tensor ``[B]`` or None
            Relative lengths in ``(0, 1]``; the samples past a row's length are zeroed in the input and
            the output (the model sees them as silence).

        Returns
        -------
        torch.Tensor ``[B, time]``.
        """
        if lengths is None:
            return self.enhance_channels(wavs.float(), self.sample_rate)
        keep = torch.arange(wavs.shape[-1]) < (lengths.cpu() * wavs.shape[-1]).round()[:, None]
        return self.enhance_channels(wavs.float() * keep, self.sample_rate) * keep

    def enhance_file(self, in_path, out_path, overwrite=False, info=None):
        """Enhance an audio file into a 32-bit float wav at the input's rate, streaming chunk by chunk.

        The output is written under a temporary name and renamed when complete. ``info``: the input's
        :func:`maese.audio.read_info` where the caller has it (its header is then not read again).

        Returns
        -------
        float: the output's peak (above 1 is kept, not clipped).

        Raises
        ------
        AudioError naming the file (missing, empty, unreadable, truncated, NaN/Inf samples);
        FileExistsError if ``out_path`` exists and not ``overwrite``.
        """
        info = read_info(in_path) if info is None else info
        check_complete(in_path, info)
        if Path(out_path).exists() and not overwrite:
            raise FileExistsError(f"{out_path} exists; refusing to overwrite it (pass overwrite=True).")
        peak = 0.0
        channels = 1 if self.downmix else info.channels
        with sf.SoundFile(str(in_path)) as src, atomic_sound_file(out_path, info.samplerate, channels) as out:
            def read(start, n):
                block = read_block(src, start, n, in_path)
                return block.mean(dim=0, keepdim=True) if self.downmix else block

            for piece in self.enhanced_pieces(read, info.frames, info.samplerate):
                out.write(piece.T.numpy())
                peak = max(peak, float(piece.abs().max()))
        if peak > 1:
            logger.info("%s: peak %.3f above full scale (kept: float wav).", out_path, peak)
        return peak
