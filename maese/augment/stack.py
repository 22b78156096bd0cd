"""The augmentation stack ``y' = A(y)`` of MAE pre-training, with single- and multi-speaker presets."""

from maese.augment.base import check_batch, check_prob, resolve_generator, seeded_generator
from maese.augment.clipping import Clip
from maese.augment.interferer import AddInterferer
from maese.augment.noise import AddNoise
from maese.augment.reverb import Reverberate
from maese.augment.sources import as_pool


class Stack:
    """Distortions in a fixed order, each applied to an example with its own probability.

    Order, each stage working on the previous stage's output:

    1. ``reverb``: the target's RIR, which acts on the target's path only;
    2. ``interferer``: another talker in the room with its own, farther RIR; needs the target's
       DRR from stage 1 to stay farther than the target;
    3. ``noise``: ambient and sensor noise reach the microphone on top of all talkers (recorded
       noise is already reverberant); its SNR is relative to the reverberant speech mixture;
    4. ``clip``: the amplifier or converter saturates on the final mixture, so it comes last.

    A stage with probability 0 is not built and its files may be ``None``. The defaults are the
    ``single-speaker`` preset (ours: the paper gives no probabilities or ranges).

    Arguments
    ---------
    noise_files, rir_files, speech_files : manifest, folder, list of files, AudioPool, or None
        Pools (see :class:`AudioPool`); the RIR pool is shared by ``reverb`` and ``interferer``;
        ``speech_files=None`` takes interferers from the batch itself.
    sample_rate : int
    reverb_prob, interferer_prob, noise_prob, clip_prob : float
        Per-example probability of each stage.
    preserve_level : bool
        Reverberation keeps the input's mean power.
    sir_range, drr_delta_range, interferer_drr_range : (float, float) dB
        See :class:`AddInterferer` (``interferer_drr_range`` is its ``drr_range``, for dry targets).
    snr_range : (float, float) dB
    clip_range : (float, float) within (0, 1]
    direct_window_ms : float
    max_cache_seconds : float
        Memory bound of each pool.
    seed : int or None
        Seed of the stack's generator, used when a call passes none.
    """

    PRESETS = {"single-speaker": {"interferer_prob": 0.0}, "multi-speaker": {"interferer_prob": 0.5}}

    def __init__(
        self, noise_files=None, rir_files=None, speech_files=None, sample_rate=16000,
        reverb_prob=0.5, preserve_level=True,
        interferer_prob=0.0, sir_range=(0.0, 15.0), drr_delta_range=(3.0, 10.0), interferer_drr_range=(-6.0, 6.0),
        noise_prob=0.8, snr_range=(-5.0, 20.0),
        clip_prob=0.2, clip_range=(0.1, 1.0),
        direct_window_ms=2.5, max_cache_seconds=3600.0, seed=None,
    ):
        probs = {"reverb": reverb_prob, "interferer": interferer_prob, "noise": noise_prob, "clip": clip_prob}
        probs = {name: check_prob(f"{name}_prob", value) for name, value in probs.items()}
        needs = [("rir_files", rir_files, ("reverb", "interferer")), ("noise_files", noise_files, ("noise",))]
        for name, files, needed in needs:
            users = [f"{stage}_prob={probs[stage]}" for stage in needed if probs[stage] > 0]
            if files is None and users:
                raise ValueError(f"Stack: {', '.join(users)} needs {name} (a manifest, folder or list of files).")
        if probs["reverb"] or probs["interferer"]:
            rir_files = as_pool(rir_files, sample_rate, max_cache_seconds, "RIR pool")
        common = {"sample_rate": sample_rate, "max_cache_seconds": max_cache_seconds, "seed": 0}
        builders = {
            "reverb": lambda p: Reverberate(rir_files, p, preserve_level, direct_window_ms=direct_window_ms, **common),
            "interferer": lambda p: AddInterferer(
                rir_files, speech_files, sir_range, drr_delta_range, interferer_drr_range, p,
                direct_window_ms=direct_window_ms, **common,
            ),
            "noise": lambda p: AddNoise(noise_files, snr_range, p, **common),
            "clip": lambda p: Clip(clip_range, p, seed=0),
        }
        self.stages = {name: builders[name](p) for name, p in probs.items() if p > 0}
        self.generator = seeded_generator(seed)

    @classmethod
    def from_preset(cls, name, noise_files=None, rir_files=None, speech_files=None, sample_rate=16000, **overrides):
        """Build the ``single-speaker`` (reverb, noise, clipping) or ``multi-speaker`` (plus an interferer) stack."""
        if name not in cls.PRESETS:
            raise ValueError(f"Unknown augmentation preset {name!r}; valid presets: {sorted(cls.PRESETS)}.")
        kwargs = {**cls.PRESETS[name], **overrides}
        return cls(noise_files, rir_files, speech_files, sample_rate, **kwargs)

    def __call__(self, x, generator=None, lengths=None):
        """Augment ``x [batch, time]`` (``lengths``: optional relative lengths ``[batch]``).

        Returns
        -------
        (``[batch, time]``, params): every stage's params under ``"<stage>.<key>"``, e.g.
        ``reverb.drr_db``, ``interferer.sir_db``, ``noise.snr_db``, ``clip.g``; ``[batch]`` each.
        """
        check_batch(x, lengths)
        generator = resolve_generator(generator, self.generator)
        y, params = x, {}
        for name, stage in self.stages.items():
            extra = {"target_drr_db": params.get("reverb.drr_db"), "others": x} if name == "interferer" else {}
            y, out = stage(y, generator, lengths, **extra)
            params.update({f"{name}.{key}": value for key, value in out.items()})
        return y, params
