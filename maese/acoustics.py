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


def level_gain(wav, level_db, max_gain_db=60.0):
    """``[B, time]`` -> ``[B, 1]`` gain that brings each row's RMS to ``level_db`` (dB re full scale), at most
    ``max_gain_db`` (digital silence stays silent); no gradient flows through it."""
    target = 10 ** (level_db / 20)
    rms = wav.detach().pow(2).mean(dim=-1, keepdim=True).sqrt()
    return target / rms.clamp_min(target * 10 ** (-max_gain_db / 20))


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


def joint_peak_scale(*signals, peak=0.99):
    """The numpy ``signals`` scaled by one gain so that none passes ``peak`` (none is scaled up).

    Returns
    -------
    (list of np.float32 arrays, float gain)
    """
    largest = max(float(np.max(np.abs(s))) for s in signals)
    gain = min(1.0, peak / largest) if largest > 0 else 1.0
    return [(s * gain).astype(np.float32) for s in signals], gain


def _direct_mask(rirs, sample_rate, direct_window_ms):
    """``[..., time]`` bool, True on each RIR's direct part (same split as :func:`direct_path_split`)."""
    split = rirs.abs().argmax(dim=-1, keepdim=True) + int(round(direct_window_ms * 1e-3 * sample_rate)) + 1
    return torch.arange(rirs.shape[-1], device=rirs.device) < split


def drr_db(rirs, sample_rate, direct_window_ms=2.5):
    """Batched :func:`direct_to_reverberant_ratio` on tensors.

    Arguments
    ---------
    rirs : torch.Tensor ``[..., time]`` (zero padding at the end does not change the result)
    sample_rate : int
    direct_window_ms : float

    Returns
    -------
    torch.Tensor ``[...]``, float64: DRR in dB, ``inf`` where the RIR has no tail energy.
    """
    mask = _direct_mask(rirs, sample_rate, direct_window_ms)
    power = rirs.double().pow(2)
    direct = (power * mask).sum(dim=-1).clamp_min(EPS)
    tail = (power * ~mask).sum(dim=-1)
    drr = 10 * torch.log10(direct / tail.clamp_min(EPS * EPS))
    return torch.where(tail <= EPS * direct, torch.full_like(drr, float("inf")), drr)


def set_drr(rirs, target_db, sample_rate, direct_window_ms=2.5):
    """Scale each RIR's direct part (up to ``direct_window_ms`` after its peak) to reach a DRR.

    The tail is kept, so lowering the DRR moves the source "farther away". The output's DRR
    (:func:`drr_db`) is exact for targets above :func:`drr_floor_db`, where the scaled direct peak
    is still the RIR's largest sample; below it, a reflection becomes the peak and the split moves.

    Arguments
    ---------
    rirs : torch.Tensor ``[batch, time]``
    target_db : torch.Tensor ``[batch]`` requested DRR in dB
    sample_rate : int
    direct_window_ms : float

    Returns
    -------
    torch.Tensor ``[batch, time]``
    """
    current = drr_db(rirs, sample_rate, direct_window_ms)
    if torch.isinf(current).any():
        raise ValueError("set_drr: an RIR has no reverberant tail (DRR = inf); its DRR cannot be set.")
    gain = torch.pow(10.0, (target_db.to(current) - current) / 20).to(rirs.dtype)
    mask = _direct_mask(rirs, sample_rate, direct_window_ms)
    return torch.where(mask, rirs * gain.unsqueeze(-1), rirs)


def drr_floor_db(rirs, sample_rate, direct_window_ms=2.5):
    """Lowest DRR that :func:`set_drr` reaches exactly: the direct peak scaled down to the tail's largest sample.

    Arguments
    ---------
    rirs : torch.Tensor ``[..., time]``
    sample_rate : int
    direct_window_ms : float

    Returns
    -------
    torch.Tensor ``[...]``, float64 dB; ``inf`` for an RIR without tail (its DRR cannot be set).
    """
    mask = _direct_mask(rirs, sample_rate, direct_window_ms)
    magnitude = rirs.double().abs()
    ratio = (magnitude * ~mask).amax(dim=-1) / magnitude.amax(dim=-1).clamp_min(EPS)
    return drr_db(rirs, sample_rate, direct_window_ms) + 20 * torch.log10(ratio.clamp_min(EPS))
