"""Acoustic measures shared by the augmentation stack and the simulators: SNR, DRR, levels."""

import numpy as np
import torch

EPS = 1e-12


def _as_numpy(x):
    """Tensor or array -> float64 numpy array (no copy of the caller's data is modified)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def energy_db(x):
    """Mean power of ``x`` in dB.

    Arguments
    ---------
    x : torch.Tensor
        Signals ``[..., time]``.

    Returns
    -------
    torch.Tensor ``[...]``: ``10 log10(mean(x^2))``.
    """
    return 10 * torch.log10(x.pow(2).mean(dim=-1).clamp_min(EPS))


def snr_db(signal, noise):
    """Signal-to-noise ratio in dB of ``signal`` over ``noise``, both ``[..., time]`` -> ``[...]``."""
    return energy_db(signal) - energy_db(noise)


def direct_path_split(rir, sample_rate, direct_window_ms=2.5):
    """Index splitting an RIR into its direct part and its reverberant tail.

    The direct part runs from the start up to ``direct_window_ms`` after the
    direct-path peak (the sample of largest magnitude).

    Arguments
    ---------
    rir : array-like ``[time]``
    sample_rate : int
    direct_window_ms : float

    Returns
    -------
    int: first index of the reverberant tail.
    """
    peak = int(np.argmax(np.abs(_as_numpy(rir))))
    return peak + int(round(direct_window_ms * 1e-3 * sample_rate)) + 1


def direct_to_reverberant_ratio(rir, sample_rate, direct_window_ms=2.5):
    """Direct-to-reverberant ratio of an RIR in dB: ``10 log10(P_D / P_R)``.

    ``P_D`` is the energy up to ``direct_window_ms`` after the direct peak,
    ``P_R`` the energy of the rest (see :func:`direct_path_split`).

    Arguments
    ---------
    rir : array-like ``[time]`` (numpy array or tensor)
    sample_rate : int
    direct_window_ms : float

    Returns
    -------
    float: DRR in dB (``inf`` for an RIR with no tail energy).
    """
    h = _as_numpy(rir)
    if h.ndim != 1 or h.size == 0:
        raise ValueError(f"An RIR must be a non-empty 1-D signal, got shape {h.shape}.")
    split = direct_path_split(h, sample_rate, direct_window_ms)
    direct = np.sum(h[:split] ** 2)
    tail = np.sum(h[split:] ** 2)
    if tail <= EPS * max(direct, EPS):
        return float("inf")
    return float(10 * np.log10(max(direct, EPS) / tail))


def noise_gain_for_snr(signal, noise, snr):
    """Gain that brings ``noise`` to ``snr`` dB below ``signal``.

    Arguments
    ---------
    signal, noise : torch.Tensor ``[..., time]``
    snr : torch.Tensor or float, ``[...]`` dB

    Returns
    -------
    torch.Tensor ``[..., 1]``: multiply ``noise`` by it before adding.
    """
    snr = torch.as_tensor(snr, dtype=signal.dtype, device=signal.device)
    gain_db = energy_db(signal) - energy_db(noise) - snr
    return torch.pow(10.0, gain_db / 20).unsqueeze(-1)


def mix_at_snr(signal, noise, snr):
    """``signal + g * noise`` with ``g`` set so that the SNR is exactly ``snr`` dB.

    Arguments
    ---------
    signal, noise : torch.Tensor ``[..., time]`` (same shape)
    snr : torch.Tensor or float, ``[...]`` dB

    Returns
    -------
    torch.Tensor ``[..., time]``
    """
    return signal + noise_gain_for_snr(signal, noise, snr) * noise
