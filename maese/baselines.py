"""Classical enhancers to score beside the model: spectral gating, a Wiener filter, WPE.

Each takes a 1-D float waveform ``[time]`` at 16 kHz and returns a float32 numpy array of the
same length. :data:`BASELINES` holds them and the peer enhancers of :mod:`maese.peers` (RNNoise,
DeepFilterNet3); :func:`enhance_folder` runs one of them over a folder of wav files.
"""

from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import minimum_filter1d
from scipy.signal import lfilter

from maese.audio import load_audio, save_audio
from maese.dataio import list_audio_files
from maese.features import STFT
from maese.peers import PEERS

SAMPLE_RATE = 16000
# Minimum-statistics bias: mean noise power / mean of the tracked minimum, measured on white
# noise through this STFT (512/128 Hann) with smoothing 0.85 and a 1.5-s window.
MIN_STATS_BIAS = 2.5


def _signal(wav):
    """Tensor or array ``[time]`` -> float32 tensor ``[time]``."""
    wav = torch.as_tensor(wav, dtype=torch.float32)
    if wav.dim() != 1:
        raise ValueError(f"Baselines take one waveform [time], got shape {tuple(wav.shape)}.")
    return wav


def spectral_gating(wav, sample_rate=SAMPLE_RATE, stationary=False):
    """Spectral gating (``noisereduce``).

    Non-stationary by default: the noise threshold follows a smoothed running estimate over
    ``time_constant_s`` = 2 s, which suits the babble, click and street noise of the test sets;
    ``stationary=True`` gates with the per-bin mean + 1.5 std of the whole clip.
    """
    import noisereduce

    wav = _signal(wav).numpy()
    return noisereduce.reduce_noise(y=wav, sr=sample_rate, stationary=stationary, n_jobs=1).astype(np.float32)


def noise_psd_min_stats(power, frame_rate, smoothing=0.85, window_s=1.5):
    """Noise power per bin by minimum statistics (Martin, 2001), offline and simplified.

    The periodogram is smoothed over time (first-order recursion), its minimum over a centred
    ``window_s`` window is taken and scaled by the fixed bias :data:`MIN_STATS_BIAS`.

    Arguments
    ---------
    power : np.ndarray ``[frames, freq]``, ``|Y|^2``.
    frame_rate : float, frames per second.

    Returns
    -------
    np.ndarray ``[frames, freq]``.
    """
    smoothed = lfilter([1 - smoothing], [1, -smoothing], power, axis=0, zi=power[:1] * smoothing)[0]
    size = max(1, int(round(window_s * frame_rate)))
    return MIN_STATS_BIAS * minimum_filter1d(smoothed, size, axis=0, mode="nearest")


def wiener_filter(wav, sample_rate=SAMPLE_RATE, dd_alpha=0.98, xi_min_db=-25.0):
    """STFT-domain Wiener filter with the decision-directed a-priori SNR (Ephraim and Malah, 1984).

    ``xi_l = a |S_{l-1}|^2 / N_l + (1 - a) max(|Y_l|^2 / N_l - 1, 0)``, floored at ``xi_min_db``;
    gain ``xi / (1 + xi)``; ``N`` from :func:`noise_psd_min_stats`.
    """
    wav = _signal(wav)
    stft = STFT(sample_rate, n_fft=512, hop_length=128, win_length=512)
    spec = stft(wav).numpy().astype(np.complex128)  # [frames, freq]
    power = np.abs(spec) ** 2
    noise = np.maximum(noise_psd_min_stats(power, sample_rate / stft.hop_length), 1e-20)
    gamma, xi_min = power / noise, 10 ** (xi_min_db / 10)
    out, previous = np.empty_like(spec), np.zeros(spec.shape[1])
    for frame in range(spec.shape[0]):
        xi = dd_alpha * previous / noise[frame] + (1 - dd_alpha) * np.maximum(gamma[frame] - 1, 0)
        xi = np.maximum(xi, xi_min)
        out[frame] = xi / (1 + xi) * spec[frame]
        previous = np.abs(out[frame]) ** 2
    return stft.inverse(torch.from_numpy(out).to(torch.complex64), wav.numel()).numpy()


def wpe(wav, sample_rate=SAMPLE_RATE, taps=10, delay=3, iterations=3):
    """Single-channel Weighted Prediction Error dereverberation (``nara_wpe``, Nakatani et al., 2010).

    Runs on a 512/128 STFT (the settings nara_wpe recommends at 16 kHz).
    """
    from nara_wpe.wpe import wpe as nara_wpe

    wav = _signal(wav)
    stft = STFT(sample_rate, n_fft=512, hop_length=128, win_length=512)
    spec = stft(wav).numpy().astype(np.complex128)  # [frames, freq]
    out = nara_wpe(spec.T[:, None, :], taps=taps, delay=delay, iterations=iterations)[:, 0, :].T
    return stft.inverse(torch.from_numpy(np.ascontiguousarray(out)).to(torch.complex64), wav.numel()).numpy()


BASELINES = {"spectral_gating": spectral_gating, "wiener": wiener_filter, "wpe": wpe, **PEERS}


def enhance_folder(method, in_dir, out_dir, sample_rate=SAMPLE_RATE, overwrite=False):
    """Enhance every audio file under ``in_dir`` into ``out_dir`` (same relative names, 16-bit wav).

    Files already in ``out_dir`` are skipped unless ``overwrite``; each is written atomically.

    Returns
    -------
    list of Path: the enhanced files, in input order.
    """
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if method not in BASELINES:
        raise ValueError(f"Unknown baseline {method!r}; choose from {sorted(BASELINES)}.")
    inputs = list_audio_files(in_dir)
    if not inputs:
        raise FileNotFoundError(f"{in_dir}: no audio files to enhance.")
    outputs = []
    for path in inputs:
        target = (out_dir / path.relative_to(in_dir)).with_suffix(".wav")
        if overwrite or not target.exists():
            enhanced = BASELINES[method](load_audio(path, sample_rate), sample_rate)
            save_audio(target, enhanced, sample_rate, overwrite=overwrite)
        outputs.append(target)
    return outputs
