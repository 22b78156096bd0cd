"""Audio I/O through soundfile: load, downmix, resample, validate and save atomically.

Every failure raises :class:`AudioError`, whose message names the file and what to do.
"""

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")


class AudioError(ValueError):
    """A file that cannot be used as audio; the message names the file and the fix."""


@contextmanager
def temporary_sibling(path, suffix=""):
    """Yield a temporary path next to ``path`` (created, mode 0644 minus the umask); renamed to ``path``
    when the block succeeds, removed when it fails, so a killed writer never leaves a truncated ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextmanager
def atomic_sound_file(path, sample_rate, channels, subtype="FLOAT"):
    """An ``sf.SoundFile`` open for writing under a temporary name, renamed to ``path`` on success."""
    with temporary_sibling(path, Path(path).suffix) as tmp:
        with sf.SoundFile(tmp, "w", int(sample_rate), channels, subtype) as out:
            yield out


def read_info(path):
    """Sample rate, channels and frames of an audio file, validated.

    Arguments
    ---------
    path : str or Path

    Returns
    -------
    soundfile._SoundFileInfo
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file. Check the path (or the manifest entry that names it).")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes). Re-copy or regenerate it.")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioError(
            f"{path}: not a readable audio file ({err}). Re-copy it, or convert it to wav/flac."
        ) from err
    if info.frames == 0:
        raise AudioError(f"{path}: the file holds no samples. Re-copy or regenerate it.")
    return info


# libsndfile's log line of an audio data chunk (WAV: data, AIFF: SSND; W64 logs only its riff container) whose
# size in the header differs from what the file holds
_SIZE_MISMATCH = re.compile(r"^\s*(data|SSND|riff)\s*: (\d+) \(should be (\d+)\)", re.MULTILINE)
PLACEHOLDER_SIZE = 0x7FFF0000  # header sizes from here up are a streaming writer's "unknown length", not a promise


def check_complete(path, info):
    """Raise :class:`AudioError` if the audio data of ``path`` is shorter than its header promises (a cut copy).

    libsndfile reads such a WAV/AIFF/W64 file up to where its data ends and reports that shorter length, so a
    cut copy would pass as a shorter recording; its log (``info.extra_info``, ``info`` the file's :func:`read_info`)
    keeps the header's size ("data : N (should be M)"). (A cut FLAC or Ogg fails when its data is read instead.)
    """
    for chunk, promised, held in _SIZE_MISMATCH.findall(info.extra_info):
        if int(held) < int(promised) < PLACEHOLDER_SIZE:
            raise AudioError(f"{path}: truncated: its header promises {promised} bytes of audio data ({chunk} chunk), "
                             f"the file holds {held}. Re-copy the file.")


def downmix(wav):
    """Average the channels: ``[channels, time]`` -> ``[time]``; ``[time]`` is returned as is."""
    return wav.mean(dim=0) if wav.dim() == 2 else wav


def resample(wav, orig_rate, new_rate):
    """Band-limited resampling (torchaudio's sinc interpolation) along the last axis.

    Arguments
    ---------
    wav : torch.Tensor ``[..., time]``
    orig_rate, new_rate : int

    Returns
    -------
    torch.Tensor ``[..., time * new_rate / orig_rate]``
    """
    if orig_rate == new_rate:
        return wav
    return AF.resample(wav, int(orig_rate), int(new_rate))


def check_finite(wav, name):
    """Raise :class:`AudioError` naming ``name`` if ``wav`` holds NaN or Inf samples."""
    if not torch.isfinite(wav).all():
        bad = int((~torch.isfinite(wav)).sum())
        raise AudioError(f"{name}: {bad} NaN/Inf samples. Repair or remove the file.")


def load_audio(path, sample_rate=16000, mono=True):
    """Read a wav/flac file (any bit depth) as float32 in [-1, 1].

    Arguments
    ---------
    path : str or Path
    sample_rate : int or None
        Resample to this rate; ``None`` keeps the file's rate.
    mono : bool
        Downmix to one channel (``[time]``); otherwise ``[channels, time]``.

    Returns
    -------
    torch.Tensor ``[time]`` or ``[channels, time]``, float32.
    """
    info = read_info(path)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioError(f"{path}: the audio data is corrupt ({err}). Re-copy the file.") from err
    wav = torch.from_numpy(np.ascontiguousarray(data.T))
    check_finite(wav, str(path))
    if mono:
        wav = downmix(wav)
    if sample_rate is not None:
        wav = resample(wav, info.samplerate, sample_rate)
    return wav


def save_audio(path, wav, sample_rate, subtype="PCM_16", overwrite=False):
    """Write audio atomically: a temporary file in the same folder, then a rename.

    Arguments
    ---------
    path : str or Path
    wav : torch.Tensor or np.ndarray ``[time]`` or ``[channels, time]``
    sample_rate : int
    subtype : str
        soundfile subtype, e.g. ``PCM_16``, ``PCM_24``, ``FLOAT``.
    overwrite : bool
        An existing file raises ``FileExistsError`` unless this is set.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; refusing to overwrite it (pass overwrite=True).")
    if isinstance(wav, torch.Tensor):
        wav = wav.detach().cpu().numpy()
    wav = np.asarray(wav, dtype=np.float32)
    if not np.isfinite(wav).all():
        raise AudioError(f"{path}: refusing to write NaN/Inf samples.")
    data = wav.T if wav.ndim == 2 else wav
    with atomic_sound_file(path, sample_rate, 1 if data.ndim == 1 else data.shape[1], subtype) as out:
        out.write(data)
