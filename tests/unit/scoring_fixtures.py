"""Test audio for metrics, baselines and scoring: an eSpeak utterance, exact-SNR mixes, a synthetic room."""

import functools
import importlib.util
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16000
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def load_file_module(name, path):
    """The Python file ``path`` imported as module ``name`` (recipes and tools are not packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_recipe_module(recipe, name):
    """``recipes/<recipe>/<name>.py`` imported as ``<recipe>_<name>``."""
    return load_file_module(f"{recipe}_{name}", RECIPES / recipe / f"{name}.py")


def load_tool(name):
    """``tools/<name>.py`` imported as ``<name>``."""
    return load_file_module(name, RECIPES.parent / "tools" / f"{name}.py")


@functools.lru_cache(maxsize=4)
def _speech(text):
    from maese.simulation.speech import UtteranceParams, VoiceSpec, synthesize_utterance

    return synthesize_utterance(text, UtteranceParams(VoiceSpec("en-us", "m3"), level_db=-25.0), RATE)


def speech(text="The quick brown fox jumps over the lazy dog, and then it runs away."):
    """An eSpeak utterance, float64 ``[time]`` at 16 kHz (about 3 s, -25 dBFS); a fresh copy."""
    return _speech(text).astype(np.float64)


def add_noise(clean, snr_db, seed=0):
    """``clean`` plus white noise at exactly ``snr_db``."""
    noise = np.random.default_rng(seed).standard_normal(clean.size)
    noise *= np.sqrt(np.mean(clean**2) / np.mean(noise**2) * 10 ** (-snr_db / 10))
    return clean + noise


def reverberate(clean, t60=0.6, seed=0):
    """``clean`` convolved with a unit direct path plus an exponentially decaying noise tail (same length)."""
    n = int(t60 * RATE)
    rir = 0.03 * np.random.default_rng(seed).standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    rir[0] = 1.0
    return np.convolve(clean, rir)[: clean.size]


def write(path, data, rate=RATE, subtype="FLOAT"):
    """Write ``data`` as a wav file (creating folders) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(data, dtype=np.float32), rate, subtype=subtype)
    return path

