"""Per-utterance speech-quality metrics: PESQ (wide-band), STOI, ESTOI, SI-SDR and DNSMOS.

Every function takes 1-D float signals ``[time]`` (numpy arrays or tensors) at ``sample_rate``.
A metric that cannot be computed for one utterance (PESQ finds no speech, STOI has too few
speech frames, a signal is empty or not finite) raises :class:`MetricError`, so a folder
scorer can record it for that file and go on.
"""

import warnings

import numpy as np
import torch

METRICS = ("pesq", "stoi", "estoi", "si_sdr", "dnsmos")
DNSMOS_KEYS = {"sig_mos": "dnsmos_sig", "bak_mos": "dnsmos_bak", "ovrl_mos": "dnsmos_ovrl", "p808_mos": "dnsmos_p808"}
PESQ_RATE = 16000
MAX_SI_SDR = 150.0  # dB


class MetricError(ValueError):
    """A metric that cannot be computed for this utterance; the message says why."""


def as_signal(x, name):
    """A 1-D, finite float64 numpy array; raises :class:`MetricError` naming ``name`` otherwise."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise MetricError(f"{name}: expected a non-empty 1-D signal [time], got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise MetricError(f"{name}: {int((~np.isfinite(x)).sum())} NaN/Inf samples.")
    return x


def check_pair(ref, est):
    """Reference and estimate as float64 arrays of equal length (no trimming: a mismatch is an error)."""
    ref, est = as_signal(ref, "reference"), as_signal(est, "estimate")
    if ref.size != est.size:
        raise MetricError(
            f"length mismatch: reference has {ref.size} samples, estimate {est.size}. "
            "An enhancer must return as many samples as its input; nothing is trimmed."
        )
    return ref, est


def si_sdr(ref, est):
    """Scale-invariant SDR in dB (Le Roux et al., 2019), both signals made zero-mean.

    ``10 log10(|a s|^2 / |a s - e|^2)`` with ``a = <e, s> / |s|^2``, in float64, capped at
    :data:`MAX_SI_SDR` (a perfect estimate would give inf, and one inf spoils a mean). No absolute
    epsilon: SpeechBrain's ``cal_si_snr`` adds 1e-8 to both energies (biasing quiet signals) and
    modifies its input in place.
    """
    ref, est = check_pair(ref, est)
    ref, est = ref - ref.mean(), est - est.mean()
    ref_energy = np.dot(ref, ref)
    if ref_energy == 0:
        raise MetricError("SI-SDR: the reference is silent (constant).")
    target = np.dot(est, ref) / ref_energy * ref
    target_energy, error = np.dot(target, target), np.dot(est - target, est - target)
    if target_energy == 0:
        return -MAX_SI_SDR  # the estimate is orthogonal to the reference (or silent)
    return float(10 * np.log10(target_energy / max(error, target_energy * 10 ** (-MAX_SI_SDR / 10))))


def pesq_wb(ref, est, sample_rate=PESQ_RATE):
    """Wide-band PESQ (ITU-T P.862.2, MOS-LQO 1.04 ... 4.64) at 16 kHz."""
    from pesq import NoUtterancesError, PesqError, pesq

    if sample_rate != PESQ_RATE:
        raise ValueError(f"Wide-band PESQ needs {PESQ_RATE} Hz audio, got {sample_rate} Hz: resample first.")
    ref, est = check_pair(ref, est)
    try:
        return float(pesq(sample_rate, ref, est, "wb"))
    except NoUtterancesError as err:
        raise MetricError("PESQ: no utterances detected in the reference (silent or too quiet).") from err
    except PesqError as err:
        raise MetricError(f"PESQ failed: {type(err).__name__}: {err}") from err


def stoi(ref, est, sample_rate, extended=False):
    """STOI (Taal et al., 2011) or, with ``extended``, ESTOI (Jensen and Taal, 2016), 0 ... 1."""
    from pystoi import stoi as pystoi

    ref, est = check_pair(ref, est)
    if not ref.any():
        raise MetricError(f"{'ESTOI' if extended else 'STOI'}: the reference is silent (all zeros).")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # pystoi warns and returns 1e-5 on too little speech
        try:
            return float(pystoi(ref, est, sample_rate, extended=extended))
        except RuntimeWarning as err:
            raise MetricError(f"{'ESTOI' if extended else 'STOI'}: {err}") from err


def estoi(ref, est, sample_rate):
    """Extended STOI (see :func:`stoi`)."""
    return stoi(ref, est, sample_rate, extended=True)


def dnsmos(est, sample_rate):
    """Non-intrusive DNSMOS P.835 (SIG, BAK, OVRL) and P.808 of one signal, each about 1 ... 5.

    speechmos accepts samples in ``[-1, 1]`` only; an estimate that peaks above 1 (a float wav from a
    model, not clipped) is scored after scaling its peak to 1, as a player would have to play it.

    Returns
    -------
    dict with keys ``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_ovrl``, ``dnsmos_p808``.
    """
    try:
        from speechmos import dnsmos as speechmos_dnsmos
    except ImportError as err:
        raise ImportError(
            f"DNSMOS needs the speechmos package ({err}): pip install -r requirements-dnsmos.txt"
        ) from err
    est = as_signal(est, "estimate")
    peak = np.abs(est).max()
    if peak > 1:
        est = est / peak
    scores = speechmos_dnsmos.run(est.astype(np.float32), sample_rate)
    return {key: float(scores[source]) for source, key in DNSMOS_KEYS.items()}


def metric_keys(metrics):
    """Output column names of ``metrics`` (``dnsmos`` gives four)."""
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}; choose from {list(METRICS)}.")
    return [k for m in metrics for k in (DNSMOS_KEYS.values() if m == "dnsmos" else [m])]


def compute_metrics(ref, est, sample_rate, metrics=METRICS, strict=True):
    """Score one estimate against its reference.

    Arguments
    ---------
    ref, est : array or tensor ``[time]``, same length, at ``sample_rate``.
    sample_rate : int
    metrics : names from :data:`METRICS`.
    strict : bool
        Raise the first :class:`MetricError`; otherwise a failing metric gives NaN and its
        reason goes into ``result["error"]``. Pair errors (length, NaN/Inf) always raise.

    Returns
    -------
    dict: metric key (see :func:`metric_keys`) -> float, plus ``error`` (str) when not strict.
    """
    keys = metric_keys(metrics)
    ref, est = check_pair(ref, est)
    functions = {
        "pesq": lambda: pesq_wb(ref, est, sample_rate),
        "stoi": lambda: stoi(ref, est, sample_rate),
        "estoi": lambda: estoi(ref, est, sample_rate),
        "si_sdr": lambda: si_sdr(ref, est),
        "dnsmos": lambda: dnsmos(est, sample_rate),
    }
    result, errors = dict.fromkeys(keys, float("nan")), []
    for name in metrics:
        try:
            value = functions[name]()
        except MetricError as err:
            if strict:
                raise
            errors.append(str(err))
            continue
        result.update(value if isinstance(value, dict) else {name: value})
    if not strict:
        result["error"] = "; ".join(errors)
    return result
