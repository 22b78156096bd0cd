"""Fine-tuning (or training from scratch) of an :class:`~maese.models.heads.EnhancementModel` on pairs.

Training pairs are made on the fly from clean utterances, as the DNS Challenge synthesizer does:

- ``denoise``: noise from the noise pool at an SNR drawn from ``snr_range`` (:class:`~maese.augment.AddNoise`,
  exact over the utterance); the target is the clean utterance.
- ``dereverb``: an RIR from the RIR pool (:class:`~maese.augment.Reverberate` with
  ``preserve_level=False``, direct path aligned at lag 0); the target is the dry utterance times the
  RIR's direct-path amplitude, i.e. the direct-path component of the input, at the level it has in
  the input. This is the convention of the corpus' ``dereverb`` pairs (RIR peak 1: target = dry).
  With ``preserve_level=True`` the input would be rescaled but not the target, so it is refused.

Before it is distorted, the clean utterance goes through the distortions of ``speech_augment`` in order (the
recipes' list: speed perturbation for other voices, spectral tilt and band limits for other microphones, a silent
gap for noise without speech; ``None`` entries skipped), the target alike.
The whole utterance is distorted (a reverberant tail starts before the crop), then one random window
of ``segment_seconds`` is cut from input and target alike; with ``gain_range_db`` both are then scaled by one gain
per example drawn from that range (dB), so that the model meets recordings at other levels. An epoch draws
``examples_per_epoch`` utterances with replacement, so runs with any ``paired_fraction`` take the same number of
steps.
Validation uses the corpus' fixed pairs of the task, whole utterances.

With ``train_pairs: fixed`` (a corpus distributed as noisy/clean pairs, e.g. VoiceBank-DEMAND) the
training batches hold the corpus' own ``noisy``/``clean`` pairs instead (:func:`paired_dataset`),
cropped alike; ``distortion`` is then not used. The default is ``on_the_fly``.
"""

import functools
import math

import numpy as np
import speechbrain as sb
import torch
import torchaudio
from speechbrain.dataio.sampler import ReproducibleRandomSampler
from speechbrain.nnet.loss.stoi_loss import removeSilentFrames, smallVal, thirdoct
from speechbrain.nnet.losses import cal_si_snr
from speechbrain.utils.data_pipeline import provides, takes
from torch_pesq import PesqLoss

from maese.audio import load_audio
from maese.augment import AddNoise, Reverberate
from maese.augment.base import check_prob, check_range, uniform
from maese.augment.bandlimit import BandLimit
from maese.augment.gap import SilenceGap
from maese.augment.speed import SpeedPerturb
from maese.augment.tilt import Tilt
from maese.brains.common import LoggedBrain, random_crops
from maese.dataio import audio_dataset
from maese.features import COMPRESSIONS, get_compression
from maese.hparams import HparamError, require
from maese.metrics import compute_metrics
from maese.models.heads import FREEZE_MODES, HEAD_TARGETS, find_pretrained_checkpoint
from maese.plots import plot_spectrograms

# The input folder of a task's pair folders (beside clean/).
TASK_INPUT = {"denoise": "noisy", "dereverb": "reverb"}
INITS = ("pretrained", "scratch")
TRAIN_PAIRS = ("on_the_fly", "fixed")
VALID_METRICS = ("pesq", "stoi", "estoi")  # of the best checkpoint on the validation pairs (valid_pesq_stoi)
LOSS_EPS = 1e-4  # added to magnitudes before a loss compression other than the model's


def require_range(hparams, key, example, low=-math.inf, high=math.inf):
    """:class:`HparamError` naming ``key`` unless ``hparams[key]`` is a ``[lo, hi]`` pair within ``[low, high]``
    (:func:`maese.augment.base.check_range`, which the distortions check their ranges with)."""
    try:
        check_range(key, hparams[key], low, high)
    except ValueError as err:
        raise HparamError(f"hparam {err} Example: {example}.") from None


def check_finetune_hparams(hparams):
    """Fail early, naming the key, on a fine-tuning hparam value that cannot work."""
    require(hparams, "enhance_task", lambda v: v in TASK_INPUT, f"one of {sorted(TASK_INPUT)}")
    require(hparams, "init", lambda v: v in INITS, f"one of {list(INITS)}")
    if "train_pairs" in hparams:
        require(hparams, "train_pairs", lambda v: v in TRAIN_PAIRS, f"one of {list(TRAIN_PAIRS)}")
    require(hparams, "paired_fraction", lambda v: 0 < v <= 1, "a share in (0, 1]")
    require(hparams, "min_paired_utterances", lambda v: isinstance(v, int) and v >= 1, "an integer >= 1")
    require(hparams, "head_target", lambda v: v in HEAD_TARGETS, f"one of {list(HEAD_TARGETS)}")
    require(hparams, "mask_max", lambda v: v > 0, "a bound > 0")
    require(hparams, "freeze", lambda v: v in FREEZE_MODES, f"one of {list(FREEZE_MODES)}")
    require(hparams, "unfreeze_top_k", lambda v: isinstance(v, int) and v >= 0, "an integer >= 0")
    require(hparams, "si_sdr_weight", lambda v: v >= 0, "a weight >= 0")
    if hparams.get("si_sdr_max_db") is not None:
        require(hparams, "si_sdr_max_db", lambda v: v > 0, "a level in dB > 0, or null (no saturation)")
    if "clean_input_prob" in hparams:
        require(hparams, "clean_input_prob", lambda v: isinstance(v, (int, float)) and 0 <= v < 1,
                "a share in [0, 1) of the denoising examples left without noise")
    if "background_noise_prob" in hparams:
        require(hparams, "background_noise_prob", lambda v: isinstance(v, (int, float)) and 0 <= v <= 1,
                "a share in [0, 1] of the recorded training noises that get a procedural one under them")
        require_range(hparams, "background_noise_range", "[-10.0, 5.0] (dB relative to the recorded noise)")
    if hparams.get("gain_range_db") is not None:
        require_range(hparams, "gain_range_db", "[-20.0, 10.0] (dB), or null for the recorded levels", -60.0, 40.0)
    if hparams.get("clean_input_prob", 0) > 0 and hparams["si_sdr_weight"] > 0:
        require(hparams, "si_sdr_max_db", lambda v: v is not None,
                "a level in dB such as 30 when clean_input_prob > 0: the clean inputs' own SI-SDR is unbounded and "
                "teaches the model to pass every input through")
    if "encoder_lr_scale" in hparams:
        require(hparams, "encoder_lr_scale", lambda v: 0 < v <= 1, "a factor in (0, 1]")
    if "stoi_weight" in hparams:
        require(hparams, "stoi_weight", lambda v: v >= 0, "a weight >= 0")
        if hparams["stoi_weight"] > 0:
            require(hparams, "sample_rate", lambda v: v == 16000, "16000 (the STOI loss works at 16 kHz only)")
    if "stoi_extended" in hparams:
        require(hparams, "stoi_extended", lambda v: isinstance(v, bool), "True (ESTOI) or False (STOI)")
    if "pesq_weight" in hparams:
        require(hparams, "pesq_weight", lambda v: v >= 0, "a weight >= 0")
        if hparams["pesq_weight"] > 0:
            require(hparams, "sample_rate", lambda v: v == 16000, "16000 (the PESQ loss works at 16 kHz here)")
    if hparams.get("loss_compression_name") is not None:
        require(hparams, "loss_compression_name", lambda v: v in COMPRESSIONS,
                f"null (the model's compression) or one of {sorted(COMPRESSIONS)}")
        if hparams["loss_compression_name"] == "power":
            require(hparams, "loss_power_exponent", lambda v: 0 < v <= 1, "an exponent in (0, 1]")
    require(hparams, "segment_seconds", lambda v: v > 0, "a positive number of seconds")
    require(hparams, "examples_per_epoch", lambda v: isinstance(v, int) and v >= 1, "an integer >= 1")
    if hparams["init"] == "pretrained":
        require(hparams, "pretrained_folder", lambda v: v is not None,
                "the save/ folder of a pre-training experiment (or init: scratch)")
        try:
            find_pretrained_checkpoint(hparams["pretrained_folder"])
        except FileNotFoundError as err:
            raise HparamError(f"hparam pretrained_folder: {err}") from None


def make_distortion(enhance_task, noise_files, rir_files, snr_range, sample_rate, seed, noise_tilt_range=None,
                    noise_tilt_prob=1.0, procedural_noise_prob=0.0, procedural_noise_families=None,
                    clean_input_prob=0.0, background_noise_prob=0.0, background_noise_range=(-10.0, 5.0),
                    noise_speed_factors=None, noise_speed_prob=1.0):
    """The distortion that makes training inputs: AddNoise (denoise; its noise spectrally tilted with
    ``noise_tilt_range``, and made by a procedural family (of ``procedural_noise_families``; None: the corpus'
    training families) for a ``procedural_noise_prob`` share of the examples, see :class:`AddNoise`; a
    ``clean_input_prob`` share of the examples gets no noise, so that their input is their target; a
    ``background_noise_prob`` share of the recorded noises gets a procedural one under it, ``background_noise_range``
    dB from its level; a ``noise_speed_prob`` share of them is played at a speed of ``noise_speed_factors``) or
    Reverberate (dereverb)."""
    if enhance_task == "denoise":
        noise_prob = 1.0 - check_prob("clean_input_prob", clean_input_prob)
        return AddNoise(noise_files, snr_range=snr_range, prob=noise_prob, sample_rate=sample_rate, seed=seed,
                        tilt_range=noise_tilt_range, tilt_prob=noise_tilt_prob, procedural_prob=procedural_noise_prob,
                        procedural_families=procedural_noise_families, background_prob=background_noise_prob,
                        background_range=background_noise_range, speed_factors=noise_speed_factors,
                        speed_prob=noise_speed_prob)
    return Reverberate(rir_files, preserve_level=False, sample_rate=sample_rate, seed=seed)


def make_speech_tilt(speech_tilt_range, speech_tilt_prob, sample_rate):
    """The colouring of the clean speech before it is distorted (:class:`maese.augment.tilt.Tilt`), or ``None`` when
    ``speech_tilt_range`` is None (nothing drawn: the same pairs as without it). HparamError naming a bad value."""
    if speech_tilt_range is None:
        return None
    try:
        return Tilt(speech_tilt_range, speech_tilt_prob, sample_rate)
    except ValueError as err:
        raise HparamError(f"hparam speech_tilt_range / speech_tilt_prob: {err} Example: [-3.0, 3.0] and 0.5.") from None


def make_speech_band(speech_highpass_range, speech_lowpass_range, speech_band_prob, sample_rate):
    """The pass band of the clean speech before it is distorted (:class:`maese.augment.bandlimit.BandLimit`), or
    ``None`` when both ranges are None (nothing drawn). HparamError naming a bad value."""
    if speech_highpass_range is None and speech_lowpass_range is None:
        return None
    try:
        return BandLimit(speech_highpass_range, speech_lowpass_range, speech_band_prob, sample_rate)
    except ValueError as err:
        raise HparamError(f"hparam speech_highpass_range / speech_lowpass_range / speech_band_prob: {err} Example: "
                          "[20.0, 300.0], [3500.0, 8000.0] and 0.5.") from None


def make_speech_gap(speech_gap_range, speech_gap_prob, sample_rate):
    """A silent stretch in the clean speech before it is distorted (:class:`maese.augment.gap.SilenceGap`), or
    ``None`` when ``speech_gap_range`` is None (nothing drawn). HparamError naming a bad value."""
    if speech_gap_range is None:
        return None
    try:
        return SilenceGap(speech_gap_range, speech_gap_prob, sample_rate)
    except ValueError as err:
        raise HparamError(f"hparam speech_gap_range / speech_gap_prob: {err} Example: [0.2, 1.0] and 0.5.") from None


def make_speech_speed(speech_speed_factors, speech_speed_prob):
    """The speed perturbation of the clean speech before it is distorted (:class:`maese.augment.speed.SpeedPerturb`),
    or ``None`` when ``speech_speed_factors`` is None (nothing drawn). HparamError naming a bad value."""
    if speech_speed_factors is None:
        return None
    try:
        return SpeedPerturb(speech_speed_factors, speech_speed_prob)
    except ValueError as err:
        raise HparamError(f"hparam speech_speed_factors / speech_speed_prob: {err} Example: [0.9, 1.0, 1.1] and "
                          "1.0.") from None


def direct_path_gain(rirs):
    """``[batch, rir_time]`` -> ``[batch, 1]`` signed amplitude of each RIR's peak (its direct path)."""
    return rirs.gather(1, rirs.abs().argmax(dim=1, keepdim=True))


def make_pairs(distortion, clean, lengths, generator):
    """Distort clean utterances ``[B, time]`` into ``(input, target)``, both ``[B, time]`` (module docstring)."""
    noisy, params = distortion(clean, generator=generator, lengths=lengths)
    if not isinstance(distortion, Reverberate):
        return noisy, clean
    if distortion.preserve_level:
        raise ValueError("Reverberate(preserve_level=True) rescales the input but not the dry target.")
    applied = params["applied"].cpu()
    gain = torch.ones(clean.shape[0], 1)
    if applied.any():
        gain[applied] = direct_path_gain(distortion.pool.clips(params["rir_index"].cpu()[applied]))
    return noisy, clean * gain.to(clean)


def paired_crops(noisy, target, lengths, num_samples, generator):
    """The same random window of ``num_samples`` from both ``[B, time]`` signals (see ``random_crops``)."""
    # Packed as real and imaginary parts, the two signals share one crop.
    both = random_crops(torch.complex(noisy, target), lengths, num_samples, generator)
    return both.real.contiguous(), both.imag.contiguous()


def random_gain(noisy, target, gain_range_db, generator):
    """Both ``[B, time]`` signals scaled by one gain per example, drawn uniformly in dB from ``gain_range_db``
    (a pair alike, so the target keeps the input's level) -> ``(noisy, target)``, ``[B, time]`` each."""
    gain = 10 ** (uniform(generator, gain_range_db, noisy.shape[0]) / 20)
    gain = gain.to(noisy).unsqueeze(1)
    return noisy * gain, target * gain


def si_sdr(estimate, target, lengths):
    """SI-SDR (dB) ``[B]`` of ``estimate`` vs. ``target`` ``[B, time]`` over each example's true length."""
    samples = torch.round(lengths * target.shape[1]).long().clamp(min=1).tolist()
    # cal_si_snr takes [time, batch, sources], returns minus the SI-SNR and scales its input in place.
    return torch.stack([-cal_si_snr(t[:n, None, None], e[:n, None, None].clone()).reshape(())
                        for e, t, n in zip(estimate, target, samples)])


def saturate_db(values, max_db):
    """``[B]`` dB values saturated softly at ``max_db``: ``-10 log10(10^(-v/10) + 10^(-max_db/10))``, the
    thresholded SNR of Wisdom et al. (2020, "Unsupervised sound separation using mixture invariant training"):
    about ``v`` well below ``max_db``, never above it, so that examples already reconstructed to ``max_db`` (such as
    clean inputs, whose identity would score 80 dB or more) stop pulling the loss."""
    scale = math.log(10.0) / 10.0
    return -torch.logaddexp(-values * scale, values.new_tensor(-max_db * scale)) / scale


STOI_RATE, STOI_HOP, STOI_ENVELOPE_FRAMES = 10000, 128, 30  # speechbrain's stoi_loss: 384-ms envelopes at 10 kHz
STOI_BANDS = thirdoct(fs=STOI_RATE, nfft=512, num_bands=15, min_freq=150)  # [15, 257] one-third octave bands
STOI_CLIP = 5.62341325  # 10 ** (15 / 20): the estimate's envelope is clipped at 15 dB above the reference's
_to_stoi_rate = torchaudio.transforms.Resample(16000, STOI_RATE)
_power_spectrogram = torchaudio.transforms.Spectrogram(n_fft=512, win_length=256, hop_length=STOI_HOP, power=2)


def _unit(x, dim):
    """``x`` minus its mean along ``dim``, divided by its norm along ``dim``."""
    x = x - x.mean(dim, keepdim=True)
    return x / (torch.norm(x, dim=dim, keepdim=True) + smallVal)


def _stoi_of_active(est, ref, extended=False):
    """speechbrain's ``stoi_loss`` score of one ``est`` vs ``ref`` pair ``[time]`` at 10 kHz, silent frames removed;
    the same computation with its envelopes ``[M, 15, 30]`` stacked by ``unfold`` instead of a Python loop.
    ``extended``: ESTOI (Jensen and Taal, 2016) instead: no clipping, and each envelope normalised over time and then
    over bands, so that a band's level relative to the others counts (pystoi's ``extended=True``)."""
    bands_ref = torch.sqrt(STOI_BANDS @ _power_spectrogram(ref) + 1e-14)  # [15, frames]
    bands_est = torch.sqrt(STOI_BANDS @ _power_spectrogram(est) + 1e-14)
    x = bands_ref.unfold(-1, STOI_ENVELOPE_FRAMES, 1).transpose(0, 1)  # [M, 15, 30]
    y = bands_est.unfold(-1, STOI_ENVELOPE_FRAMES, 1).transpose(0, 1)
    if extended:
        x, y = _unit(_unit(x, -1), -2), _unit(_unit(y, -1), -2)
        return torch.sum(x * y) / (x.shape[0] * STOI_ENVELOPE_FRAMES)
    y = torch.min(y * torch.norm(x, dim=-1, keepdim=True) / (torch.norm(y, dim=-1, keepdim=True) + smallVal),
                  x + x * STOI_CLIP)
    x, y = _unit(x, -1), _unit(y, -1)
    return torch.sum(x * y) / (x.shape[0] * x.shape[1])  # the mean over envelopes and bands


def stoi(estimate, target, lengths, extended=False):
    """Differentiable STOI ``[B']`` of ``estimate`` vs. ``target`` ``[B, time]`` at 16 kHz (the score of
    speechbrain's ``stoi_loss``, computed on the CPU; equal to it within float error, tested) over each example's
    true length, for the examples whose active speech (STOI's own silent-frame removal) fills at least one
    envelope; the others (a crop of a pause) are left out. ``None`` when none is left. ``extended``: ESTOI."""
    samples = torch.round(lengths * target.shape[1]).long().tolist()
    scores = []
    for est, ref, n in zip(estimate.cpu(), target.cpu(), samples):
        ref_active, est_active = removeSilentFrames(_to_stoi_rate(ref[:n]), _to_stoi_rate(est[:n]))
        if ref_active.shape[0] // STOI_HOP + 1 >= STOI_ENVELOPE_FRAMES:
            scores.append(_stoi_of_active(est_active, ref_active, extended))
    return torch.stack(scores).to(estimate.device) if scores else None


@functools.cache
def _pesq_loss():
    """torch-pesq's PesqLoss at 16 kHz, built on first use (its filters and tables are not needed without a
    PESQ term)."""
    return PesqLoss(1.0, sample_rate=16000)


PESQ_MIN_SAMPLES = 6400  # 0.4 s at 16 kHz: the loss needs 20 of its 256-sample frames


def pesq_distance(estimate, target, lengths):
    """Differentiable PESQ distance ``[B']`` of ``estimate`` vs. ``target`` ``[B, time]`` at 16 kHz (torch-pesq's
    ``PesqLoss``: ITU P.862's symmetric and asymmetric disturbances without the time alignment, 0 when equal; MOS
    falls as it grows), computed on the CPU over each example's true length, for the examples at least
    ``PESQ_MIN_SAMPLES`` long whose target and estimate are not all zero (P.862's level alignment divides by their
    power), in batch order; ``None`` when none is left. Examples of one length go through ``PesqLoss`` together
    (its normalisations are per row), so a training batch of equal crops is one call."""
    samples = torch.round(lengths * target.shape[1]).long().tolist()
    estimate_cpu, target_cpu = estimate.cpu(), target.cpu()
    kept = [i for i, n in enumerate(samples) if n >= PESQ_MIN_SAMPLES
            and target_cpu[i, :n].abs().max() > 0 and estimate_cpu[i, :n].abs().max() > 0]
    if not kept:
        return None
    order, distances = [], []
    for n in sorted({samples[i] for i in kept}):
        rows = [i for i in kept if samples[i] == n]
        order += rows
        distances.append(_pesq_loss()(target_cpu[rows, :n], estimate_cpu[rows, :n]))
    in_batch_order = torch.tensor(order).argsort()
    return torch.cat(distances)[in_batch_order].float().to(estimate.device)


def paired_dataset(manifest, sample_rate=16000):
    """Dataset of pairs ``{id: {"wav": input, "clean_wav": target, "duration": s}}``, sorted by duration (the
    batches of validation and test hold similar lengths: little zero padding, which the encoder attends to, unlike
    on a file enhanced alone); output keys ``id, noisy, clean``."""
    data = audio_dataset(manifest, sample_rate, key="wav", output_key="noisy").filtered_sorted(sort_key="duration")

    @takes("clean_wav")
    @provides("clean")
    def read_clean(path):
        return load_audio(path, sample_rate)

    data.add_dynamic_item(read_clean)
    data.set_output_keys(["id", "noisy", "clean"])
    return data


class EnhanceFinetuneBrain(LoggedBrain):
    """Trains ``modules.model`` (an EnhancementModel) on pairs made on the fly; the same Brain for scratch.

    hparams used: ``model`` (the unwrapped module), ``distortion`` (from :func:`make_distortion`;
    not with ``train_pairs: fixed``), optional ``train_pairs`` (``on_the_fly`` or ``fixed``),
    ``segment_seconds``, ``sample_rate``, ``examples_per_epoch``, ``si_sdr_weight``, ``seed``,
    ``valid_pesq_stoi``, ``plot_folder``, ``metrics_file``, ``train_logger``, ``epoch_counter``,
    optional ``lr_scheduler``, and those of :func:`check_finetune_hparams`.
    Training batches hold ``clean`` utterances (``noisy``/``clean`` pairs with ``train_pairs: fixed``);
    validation and test batches hold ``noisy``/``clean`` pairs.
    """

    check_hparams = staticmethod(check_finetune_hparams)

    def init_optimizers(self):
        """``opt_class`` over two parameter groups: the encoder's trainable parameters learn at
        ``encoder_lr_scale`` times the head's rate (a pre-trained encoder gets its own, lower learning rate, as in
        SpeechBrain's fine-tuning recipes); the schedule's value is rescaled per group after each step."""
        super().init_optimizers()
        scale = getattr(self.hparams, "encoder_lr_scale", 1.0)
        if scale == 1.0 or self.opt_class is None:
            return
        encoder = {id(p) for p in self.hparams.model.encoder.parameters()}
        trainable = [p for p in self.modules.parameters() if p.requires_grad]
        groups = [{"params": [p for p in trainable if id(p) in encoder], "lr_scale": scale},
                  {"params": [p for p in trainable if id(p) not in encoder], "lr_scale": 1.0}]
        self.optimizer = self.opt_class([g for g in groups if g["params"]])
        for group in self.optimizer.param_groups:
            group["lr"] *= group["lr_scale"]
        self.optimizers_dict = {"opt_class": self.optimizer}
        if self.checkpointer is not None:
            self.checkpointer.add_recoverable("optimizer", self.optimizer)

    def on_fit_batch_end(self, batch, outputs, loss, should_step):
        """The learning-rate schedule (which sets one rate for all groups), then each group's ``lr_scale``; without a
        schedule the groups keep the rates :meth:`init_optimizers` gave them."""
        super().on_fit_batch_end(batch, outputs, loss, should_step)
        if should_step and getattr(self.hparams, "lr_scheduler", None) is not None:
            for group in self.optimizer.param_groups:
                group["lr"] *= group.get("lr_scale", 1.0)

    def make_dataloader(self, dataset, stage, ckpt_prefix="dataloader-", **loader_kwargs):
        """Training draws ``examples_per_epoch`` utterances with replacement, reseeded every epoch."""
        if stage == sb.Stage.TRAIN:
            self.train_sampler = ReproducibleRandomSampler(
                dataset, seed=self.hparams.seed, replacement=True, num_samples=self.hparams.examples_per_epoch
            )
            loader_kwargs["sampler"] = self.train_sampler
        return super().make_dataloader(dataset, stage, ckpt_prefix, **loader_kwargs)

    def compute_forward(self, batch, stage):
        """Make (train) or read (valid/test) the pairs and enhance; returns a dict (see ``compute_objectives``)."""
        batch = batch.to(self.device)
        if stage == sb.Stage.TRAIN:
            (clean, lengths), generator = batch.clean, self.train_rng.generator
            with torch.no_grad():
                if getattr(self.hparams, "train_pairs", "on_the_fly") == "fixed":
                    noisy, target = batch.noisy[0], clean
                else:
                    for augment in getattr(self.hparams, "speech_augment", None) or []:  # other voices, microphones
                        if augment is not None:
                            clean, draws = augment(clean, generator=generator, lengths=lengths)
                            lengths = draws.get("lengths", lengths)  # a speed change moves the ends
                    noisy, target = make_pairs(self.hparams.distortion, clean, lengths, generator)
                segment = int(self.hparams.segment_seconds * self.hparams.sample_rate)
                noisy, target = paired_crops(noisy, target, lengths, segment, generator)
                if getattr(self.hparams, "gain_range_db", None) is not None:  # drawn last: the rest as without it
                    noisy, target = random_gain(noisy, target, self.hparams.gain_range_db, generator)
            lengths = torch.ones(noisy.shape[0], device=self.device)
        else:
            (noisy, lengths), (target, _) = batch.noisy, batch.clean
        out = self.modules.model(noisy)
        with torch.no_grad():  # the target at the input's level gain, as the model saw the input
            target_mag = self.hparams.model.features(target if out.gain is None else target * out.gain)[1]
        return {"out": out, "noisy": noisy, "target": target, "target_mag": target_mag, "lengths": lengths}

    def frame_weights(self, lengths, num_samples, like):
        """Relative lengths ``[B]`` of ``num_samples``-long signals -> ``[B, T, F]``: 1 on the true frames."""
        frames = self.hparams.model.stft.num_frames(torch.round(lengths * num_samples).long())
        keep = torch.arange(like.shape[1], device=like.device) < frames.unsqueeze(1)
        return keep.unsqueeze(-1).to(like.dtype).expand_as(like)

    def loss_domain(self, compressed):
        """Magnitudes ``[B, T, F]`` compressed as the model's input -> compressed as the loss compares them.

        ``loss_compression_name: null`` (default) keeps the model's compression; another name (e.g. ``power``
        with ``loss_power_exponent`` 0.3, which weights weak speech bins more than log1p does at speech levels)
        re-compresses ``magnitude + LOSS_EPS`` (a finite gradient at silent bins).
        """
        name = getattr(self.hparams, "loss_compression_name", None)
        if name is None:
            return compressed
        kwargs = {"exponent": self.hparams.loss_power_exponent} if name == "power" else {}
        magnitude = self.hparams.model.compression.decompress(compressed)
        return get_compression(name, **kwargs).compress(magnitude + LOSS_EPS)

    def compute_objectives(self, predictions, batch, stage):
        """L1 on compressed magnitudes (:meth:`loss_domain`) over the true frames, plus ``si_sdr_weight`` x
        (minus SI-SDR, saturated at ``si_sdr_max_db`` when given: :func:`saturate_db`), ``stoi_weight`` x (minus STOI,
        or ESTOI with ``stoi_extended``) and ``pesq_weight`` x the PESQ distance."""
        out, target, lengths = predictions["out"], predictions["target"], predictions["lengths"]
        weights = self.frame_weights(lengths, target.shape[1], out.estimate)
        err = (self.loss_domain(out.estimate) - self.loss_domain(predictions["target_mag"])).abs()
        loss = (err * weights).sum() / weights.sum().clamp_min(1.0)
        if self.hparams.si_sdr_weight > 0:
            scores = si_sdr(out.wav, target, lengths)
            max_db = getattr(self.hparams, "si_sdr_max_db", None)
            if max_db is not None:
                scores = saturate_db(scores, max_db)
            loss = loss - self.hparams.si_sdr_weight * scores.mean()
        if getattr(self.hparams, "stoi_weight", 0) > 0:
            scores = stoi(out.wav, target, lengths, getattr(self.hparams, "stoi_extended", False))
            if scores is not None:
                loss = loss - self.hparams.stoi_weight * scores.mean()
        if getattr(self.hparams, "pesq_weight", 0) > 0:
            distances = pesq_distance(out.wav, target, lengths)
            if distances is not None:
                loss = loss + self.hparams.pesq_weight * distances.mean()
        if stage != sb.Stage.TRAIN:
            self.accumulate_metrics(predictions, weights)
        return loss

    def accumulate_metrics(self, predictions, weights):
        """Add this batch's SI-SDR of the enhanced and of the unprocessed input, the input's L1 (the
        loss of doing nothing), and PESQ/STOI/ESTOI of both on test."""
        out, noisy, target, lengths = (predictions[k] for k in ("out", "noisy", "target", "lengths"))
        input_err = ((self.loss_domain(out.noisy) - self.loss_domain(predictions["target_mag"])).abs() * weights).sum()
        self.input_l1 = [self.input_l1[0] + float(input_err), self.input_l1[1] + float(weights.sum())]
        scores = {"si_sdr": si_sdr(out.wav, target, lengths), "si_sdr_input": si_sdr(noisy, target, lengths)}
        for name, values in scores.items():
            self.metric_values.setdefault(name, []).extend(values.tolist())
        if self.stage == sb.Stage.TEST and self.hparams.valid_pesq_stoi:
            samples = torch.round(lengths * target.shape[1]).long().tolist()
            for e, x, t, n in zip(out.wav.cpu().numpy(), noisy.cpu().numpy(), target.cpu().numpy(), samples):
                for suffix, signal in (("", e), ("_input", x)):
                    for name, value in compute_metrics(t[:n], signal[:n], self.hparams.sample_rate,
                                                       VALID_METRICS).items():
                        self.metric_values.setdefault(name + suffix, []).append(value)
        if self.plot_example is None:
            frames = int(weights[0, :, 0].sum())
            self.plot_example = {"input": out.noisy[0, :frames], "enhanced": out.estimate[0, :frames],
                                 "clean": predictions["target_mag"][0, :frames]}
            if out.mask is not None:
                self.plot_example["mask"] = out.mask[0, :frames]

    def on_stage_start(self, stage, epoch=None):
        """Reset the metrics."""
        self.stage, self.metric_values, self.plot_example, self.input_l1 = stage, {}, None, [0.0, 0.0]

    def stage_metrics(self, loss):
        """Loss and the input's, mean SI-SDR of enhanced and input, their difference (and PESQ/STOI/ESTOI on test)."""
        stats = {"loss": loss, "input_l1": self.input_l1[0] / max(self.input_l1[1], 1.0)}
        stats.update({k: float(np.mean(v)) for k, v in self.metric_values.items()})
        stats["si_sdr_improvement"] = stats["si_sdr"] - stats["si_sdr_input"]
        return stats

    def plot(self, path, epoch):
        """PNG of one validation clip: input, enhanced, clean (compressed magnitudes) and the mask."""
        hop = self.hparams.model.stft.hop_length / self.hparams.sample_rate
        plot_spectrograms(path, self.plot_example, hop_seconds=hop, title=f"epoch {epoch}")
