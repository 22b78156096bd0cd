"""Synthetic speech from eSpeak NG, called through ctypes on the ``espeakng-loader`` wheel.

eSpeak keeps synthesis state in C statics (pitch-flutter phase, gain control, noise
generators), so a long-lived library would make each output depend on the calls before it.
``EspeakEngine`` therefore loads a private copy of the library afresh for every synthesis,
unloads it afterwards (about 1 ms) and fixes the noise seed eSpeak would take from the
clock: the audio is a pure function of text, voice and parameters. The library has one global state per loaded copy, so use one engine per
process (``get_engine()``) and parallelise with worker processes, not threads.
"""

import _ctypes
import contextlib
import ctypes
import dataclasses
import enum
import functools
import hashlib
import html
import itertools
import math
import os
import shutil
import tempfile
import threading

import espeakng_loader
import numpy as np
from scipy.signal import firwin, resample_poly

from maese.simulation.text import LANGUAGES

# Constants from espeak-ng's speak_lib.h.
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000  # report data errors instead of calling exit()
CHARS_UTF8 = 1
SSML = 0x10
POS_CHARACTER = 1
EE_OK = 0
BUFFER_MS = 200  # length of the audio chunks handed to the callback
RAND_SEED = 1

# Variants (files in espeak-ng-data/voices/!v) used by the voice pool.
VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8",
    "f1", "f2", "f3", "f4", "f5",
    "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6",
    "croak", "whisper", "whisperf",
)
# Left out of the pool: en-shaw expects the Shavian script; on our text en-shaw, fr-be and
# fr-ch give the same audio as en-gb / fr-fr, which would put one voice on both split sides.
EXCLUDED_LANGUAGES = ("en-shaw", "fr-be", "fr-ch")
VOLUME = 50  # eSpeak amplitude (100 = normal): at 100 the klatt4/klatt5 variants clip


class Param(enum.IntEnum):
    """``espeak_PARAMETER`` values (speak_lib.h)."""

    RATE = 1  # words per minute, 80-450
    VOLUME = 2  # 0-200, 100 = normal
    PITCH = 3  # base pitch 0-99, 50 = normal
    RANGE = 4  # pitch range 0-99, 50 = normal, 0 = monotone
    WORDGAP = 7  # extra pause between words, units of 10 ms at the default rate


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _Voice(ctypes.Structure):
    """``espeak_VOICE``; ``languages`` is a list of (priority byte, name, NUL), ended by a 0 byte."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


def _declare(lib):
    """Set the ctypes signatures of the functions used on a freshly loaded ``lib``."""
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
        ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
    ]
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))


def _install():
    """Paths (library, data) of our copy of the wheel's library and a mirror of its data.

    The copy is ours alone, so unloading it really resets it even if other code in the
    process loaded the wheel's library. The mirror links every data entry and lowercases
    the voice files under ``lang/`` (``en-US`` -> ``en-us``): eSpeak lowercases voice names
    before opening the file and otherwise scans every voice (~5 ms a load). Built once
    under the temp dir, atomically, and shared by this user's processes.
    """
    library, source = espeakng_loader.get_library_path(), espeakng_loader.get_data_path()
    origin = f"{os.path.realpath(library)}:{os.path.getmtime(library)}:{os.path.realpath(source)}"
    key = hashlib.sha1(origin.encode()).hexdigest()[:16]
    target = os.path.join(tempfile.gettempdir(), f"maese-espeak-{os.getuid()}-{key}")
    if not os.path.isdir(target):
        staging = tempfile.mkdtemp(prefix=os.path.basename(target) + ".", dir=os.path.dirname(target))
        _populate(staging, library, source)
        try:
            os.rename(staging, target)
        except OSError:  # another process got there first
            shutil.rmtree(staging)
    return os.path.join(target, os.path.basename(library)), os.path.join(target, "espeak-ng-data")


def _populate(directory, library, source):
    """Fill ``directory`` with a copy of ``library`` and the mirror of the data dir ``source``."""
    shutil.copyfile(library, os.path.join(directory, os.path.basename(library)))
    data = os.path.join(directory, "espeak-ng-data")
    os.mkdir(data)
    for entry in os.listdir(source):
        if entry != "lang":
            os.symlink(os.path.join(source, entry), os.path.join(data, entry))
    for root, _, files in os.walk(os.path.join(source, "lang")):
        mirrored = os.path.join(data, os.path.relpath(root, source).lower())
        os.makedirs(mirrored, exist_ok=True)
        for name in files:
            os.symlink(os.path.join(root, name), os.path.join(mirrored, name.lower()))


def _languages(voice):
    """[(priority, language code)] of an ``espeak_VOICE``."""
    out, address = [], voice.languages
    while (priority := ctypes.string_at(address, 1)[0]) != 0:
        code = ctypes.string_at(address + 1)
        out.append((priority, code.decode()))
        address += len(code) + 2
    return out


class EspeakEngine:
    """eSpeak NG synthesiser at its native rate (``sample_rate``, 22050 Hz).

    Settings (``set_voice``, ``set_parameter``) are kept here and applied to every
    ``synthesize`` call. Attributes: ``languages`` (primary language code of each bundled
    voice -> voice file), ``variants`` (names of the voice variants).
    """

    def __init__(self):
        self.pid = os.getpid()
        self._library, self._data = _install()
        self._chunks = []
        # The C side holds only a raw pointer: this reference keeps the thunk alive.
        self._callback = _SYNTH_CALLBACK(self._collect)
        self._lock = threading.Lock()
        self._voice_name = None
        self._voice_id = None
        self._params = {}
        self.sample_rate = None
        with self._loaded() as lib:
            self.languages, self._codes = self._inventory(lib)
        variant_dir = os.path.join(self._data, "voices", "!v")
        # eSpeak lowercases variant names, so mixed-case files cannot be selected.
        self.variants = sorted(v for v in os.listdir(variant_dir) if v == v.lower())

    def _collect(self, samples, n_samples, events):
        if n_samples > 0:
            self._chunks.append(ctypes.string_at(samples, 2 * n_samples))
        return 0

    @contextlib.contextmanager
    def _loaded(self):
        """Load, initialise and finally unload a fresh instance of the library."""
        lib = ctypes.CDLL(self._library, mode=os.RTLD_LOCAL)
        try:
            _declare(lib)
            rate = lib.espeak_Initialize(
                AUDIO_OUTPUT_SYNCHRONOUS, BUFFER_MS, self._data.encode(), INITIALIZE_DONT_EXIT
            )
            if rate <= 0:
                raise RuntimeError(f"espeak_Initialize failed ({rate}) with data {self._data}")
            self.sample_rate = rate
            lib.espeak_SetSynthCallback(self._callback)
            # eSpeak seeds its noise generator (breathy variants) from the clock.
            lib.espeak_ng_SetRandSeed(RAND_SEED)
            try:
                yield lib
            finally:
                lib.espeak_Terminate()
        finally:
            _ctypes.dlclose(lib._handle)

    @staticmethod
    def _inventory(lib):
        """({primary language: voice file}, {any language code: voice file of best priority})."""
        primary, best = {}, {}
        voices = lib.espeak_ListVoices(None)
        for i in itertools.count():
            if not voices[i]:
                break
            voice = voices[i].contents
            identifier = voice.identifier.decode()
            languages = _languages(voice)
            primary.setdefault(languages[0][1], identifier)
            for priority, code in languages:
                if code not in best or priority < best[code][0]:
                    best[code] = (priority, identifier)
        return primary, {code: identifier for code, (_, identifier) in best.items()}

    def set_voice(self, name):
        """Select ``language[+variant]``, e.g. ``en-us``, ``en+m3``, ``en-gb+klatt``, ``es+f2``."""
        language, _, variant = name.partition("+")
        if language not in self._codes:
            raise RuntimeError(f"unknown eSpeak voice {name!r}: no voice for language {language!r}")
        if variant and variant not in self.variants:
            raise RuntimeError(f"unknown eSpeak voice {name!r}: no variant {variant!r}")
        self._voice_name = name
        self._voice_id = self._codes[language] + (f"+{variant}" if variant else "")

    def set_parameter(self, param, value):
        """Set ``param`` (a ``Param``) to the integer ``value`` for the next syntheses."""
        self._params[Param(param)] = int(value)

    def synthesize(self, text, ssml=False):
        """Speak ``text`` (SSML markup if ``ssml``) with the current voice and parameters.

        Returns np.float32 ``[time]`` in [-1, 1) at ``sample_rate``.
        """
        if self._voice_name is None:
            raise RuntimeError("no eSpeak voice selected: call set_voice first")
        data = text.encode("utf-8")
        flags = CHARS_UTF8 | (SSML if ssml else 0)
        with self._lock, self._loaded() as lib:
            self._chunks.clear()
            self._check(lib.espeak_SetVoiceByName(self._voice_id.encode()), "SetVoiceByName", text)
            for param, value in self._params.items():
                self._check(lib.espeak_SetParameter(param, value, 0), f"SetParameter({param.name}={value})", text)
            self._check(lib.espeak_Synth(data, len(data) + 1, 0, POS_CHARACTER, 0, flags, None, None), "Synth", text)
            pcm = b"".join(self._chunks)
            self._chunks.clear()
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768

    def _check(self, status, call, text):
        if status != EE_OK:
            raise RuntimeError(f"espeak_{call} failed ({status}) for voice {self._voice_name!r}, text {text!r}")


_ENGINE = None
_ENGINE_LOCK = threading.Lock()


def get_engine():
    """The process's ``EspeakEngine``, made on first use (a forked child makes its own)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None or _ENGINE.pid != os.getpid():
            _ENGINE = EspeakEngine()
        return _ENGINE


@dataclasses.dataclass(frozen=True, order=True)
class VoiceSpec:
    """One synthetic talker: an eSpeak language (``en-us``, ``pt-br``, ...) and a variant (``f3``)."""

    language: str
    variant: str

    @property
    def name(self):
        """eSpeak voice name, e.g. ``en-us+f3``."""
        return f"{self.language}+{self.variant}"

    @property
    def text_language(self):
        """Language of the text to give this voice (a key of ``text.LANGUAGES``)."""
        return self.language.split("-")[0]


def voice_pool(variants=VARIANTS):
    """Every (language, variant) pair for the bundled voices whose language ``text`` writes.

    Returns a sorted list of ``VoiceSpec`` (the same for the same eSpeak data).
    """
    engine = get_engine()
    missing = sorted(set(variants) - set(engine.variants))
    if missing:
        raise RuntimeError(f"eSpeak variants not in the bundled data: {missing}")
    languages = sorted(
        code for code in engine.languages
        if code.split("-")[0] in LANGUAGES and code not in EXCLUDED_LANGUAGES
    )
    return [VoiceSpec(language, variant) for language in languages for variant in sorted(variants)]


def split_voices(voices, ood_fraction=0.25, seed=0):
    """Disjoint (train, out-of-domain) voice lists that hold out whole eSpeak variants (timbres).

    A held-out variant leaves training in every language, so no out-of-domain voice shares its
    timbre with a training voice; both sides keep every language, English included.

    Arguments
    ---------
    voices : list of VoiceSpec
    ood_fraction : float
        Share of the variants held out (at least one, never all).
    seed : int or sequence of int
        Seed of ``np.random.default_rng``.
    """
    variants = sorted({v.variant for v in voices})
    if len(variants) < 2:
        raise ValueError(f"Need at least 2 voice variants to split, got {variants}.")
    count = min(max(1, round(ood_fraction * len(variants))), len(variants) - 1)
    held_out = set(np.random.default_rng(seed).choice(variants, count, replace=False))
    return sorted(v for v in voices if v.variant not in held_out), sorted(v for v in voices if v.variant in held_out)


@dataclasses.dataclass(frozen=True)
class UtteranceParams:
    """How one utterance is spoken.

    ``pauses``: ((position in [0, 1] along the words, duration in ms), ...), silences
    inserted at the nearest word boundary. ``level_db``: RMS of the output in dBFS.
    """

    voice: VoiceSpec
    rate: int = 175  # words per minute
    pitch: int = 50  # 0-99
    pitch_range: int = 50  # 0-99
    word_gap: int = 0  # extra gap between words, 10 ms units
    level_db: float = -25.0
    pauses: tuple = ()


def sample_params(rng, voices):
    """Random ``UtteranceParams`` with a voice from ``voices``; ``rng`` a ``np.random.Generator``."""
    pauses = tuple(sorted(
        (round(float(rng.uniform(0, 1)), 3), int(rng.integers(50, 401)))
        for _ in range(int(rng.choice([0, 0, 1, 1, 2, 3])))
    ))
    return UtteranceParams(
        voice=voices[int(rng.integers(len(voices)))],
        rate=int(rng.integers(120, 261)),
        pitch=int(rng.integers(0, 100)),
        pitch_range=int(rng.integers(0, 100)),
        word_gap=int(rng.choice([0, 0, 0, 0, 1, 2, 3])),
        level_db=round(float(rng.uniform(-35, -15)), 2),
        pauses=pauses,
    )


def with_pauses(text, pauses):
    """``text`` as SSML with ``<break>`` silences at word boundaries (see ``UtteranceParams``)."""
    words = [html.escape(word, quote=False) for word in text.split()]
    breaks = {}
    if len(words) > 1:
        for position, ms in pauses:
            boundary = min(max(round(position * len(words)), 1), len(words) - 1)
            breaks[boundary] = breaks.get(boundary, 0) + ms
    return " ".join(
        (f'<break time="{breaks[i]}ms"/> ' if i in breaks else "") + word for i, word in enumerate(words)
    )


def trim_silence(audio, sample_rate, keep_ms=100.0, threshold_db=-50.0):
    """Cut leading/trailing silence (below ``threshold_db`` re peak) beyond ``keep_ms``.

    ``audio`` ``[time]`` -> ``[time']``; empty if all silent.
    """
    peak = np.abs(audio).max(initial=0.0)
    active = np.flatnonzero(np.abs(audio) > peak * 10 ** (threshold_db / 20))
    if active.size == 0:
        return audio[:0]
    keep = int(round(keep_ms * sample_rate / 1000))
    return audio[max(active[0] - keep, 0): active[-1] + 1 + keep]


@functools.lru_cache(maxsize=8)
def _lowpass(up, down):
    """``resample_poly``'s default anti-aliasing filter for ``up/down`` (designing it costs as much as filtering)."""
    half_length = 10 * max(up, down)
    return firwin(2 * half_length + 1, 1 / max(up, down), window=("kaiser", 5.0))


def resample(audio, orig_rate, new_rate):
    """Polyphase resampling of ``audio`` ``[time]`` -> np.float32 ``[time * new/orig]``."""
    if orig_rate == new_rate:
        return audio.astype(np.float32)
    g = math.gcd(orig_rate, new_rate)
    up, down = new_rate // g, orig_rate // g
    return resample_poly(audio, up, down, window=_lowpass(up, down)).astype(np.float32)


def set_level(audio, level_db, peak_db=-1.0):
    """Scale ``audio`` ``[time]`` to an RMS of ``level_db`` dBFS, less if its peak would pass ``peak_db``."""
    rms = np.sqrt(np.mean(np.square(audio, dtype=np.float64)))
    gain = min(10 ** (level_db / 20) / rms, 10 ** (peak_db / 20) / np.abs(audio).max())
    return (audio * gain).astype(np.float32)


def synthesize_utterance(text, params, sample_rate=16000):
    """Speak ``text`` as ``params`` say: trimmed, resampled, levelled.

    Returns np.float32 ``[time]`` at ``sample_rate``.
    """
    engine = get_engine()
    engine.set_voice(params.voice.name)
    for param, value in (
        (Param.RATE, params.rate), (Param.PITCH, params.pitch), (Param.RANGE, params.pitch_range),
        (Param.WORDGAP, params.word_gap), (Param.VOLUME, VOLUME),
    ):
        engine.set_parameter(param, value)
    audio = trim_silence(engine.synthesize(with_pauses(text, params.pauses), ssml=True), engine.sample_rate)
    if audio.size == 0:
        raise RuntimeError(f"eSpeak produced no audio for voice {params.voice.name!r}, text {text!r}")
    return set_level(resample(audio, engine.sample_rate, sample_rate), params.level_db)
