"""Pools of audio clips (noise, RIRs, speech) read from manifests, folders or file lists."""

import math
from pathlib import Path

import soundfile as sf
import torch
import torch.nn.functional as F

from maese.audio import AudioError, check_finite, load_audio, read_info, resample
from maese.dataio import list_audio_files, read_manifest


def resolve_files(spec, replacements=None):
    """Audio paths named by a JSON manifest (its ``wav`` fields), a folder (recursively), a file, or a list of these.

    ``replacements`` fills manifest placeholders as SpeechBrain does, e.g. ``{"data_root": folder}``
    for ``{data_root}/noise/a.wav``.
    """
    if isinstance(spec, (list, tuple)):
        return [path for item in spec for path in resolve_files(item, replacements)]
    path = Path(spec)
    if path.suffix.lower() == ".json":
        entries = read_manifest(path).values()
        return [str(entry["wav"]).format_map(replacements) if replacements else str(entry["wav"]) for entry in entries]
    if path.is_dir():
        return [str(p) for p in list_audio_files(path)]
    return [str(path)]


class AudioPool:
    """Mono clips at one sample rate, cut into batches of segments or returned whole.

    Memory policy: a pool whose total duration is at most ``max_cache_seconds`` is read once at
    construction into one float32 tensor (3600 s take 230 MB at 16 kHz). A larger pool (DNS has
    60k noise files) keeps only the file headers and reads just the samples each batch needs with
    soundfile partial reads (``sf.read(path, start=, frames=)``), so memory stays flat.

    Validation: all headers at construction (missing, empty, unreadable files); for in-memory pools
    also the samples (corrupt, NaN/Inf, all zeros). Every bad file is listed in one AudioError.
    Lazy pools check the samples of each read and raise an AudioError naming the file.

    Arguments
    ---------
    files : str, Path or list
        JSON manifest ``{id: {"wav": path, ...}}`` (e.g. prepared from DNS Challenge folders), a
        folder, an audio file, or a list of these.
    sample_rate : int
        Clips are downmixed and resampled to it.
    max_cache_seconds : float
        Largest total duration kept in memory (see above).
    name : str
        Names the pool in error messages.
    replacements : dict or None
        Manifest placeholders to fill, e.g. ``{"data_root": corpus_folder}``.
    """

    def __init__(self, files, sample_rate=16000, max_cache_seconds=3600.0, name="audio pool", replacements=None):
        self.name = name
        self.sample_rate = int(sample_rate)
        self.files = resolve_files(files, replacements)
        if not self.files:
            raise ValueError(f"{name}: no audio files found in {files!r}.")
        infos = self._each(read_info)
        self.rates = [info.samplerate for info in infos]
        self.cached = sum(info.frames / info.samplerate for info in infos) <= max_cache_seconds
        if self.cached:
            clips = self._each(self._load)
            self.lengths = torch.tensor([len(clip) for clip in clips])
            self._flat = torch.cat(clips)
            self._offsets = self.lengths.cumsum(0) - self.lengths
        else:
            self.lengths = torch.tensor([math.ceil(i.frames * self.sample_rate / i.samplerate) for i in infos])

    def __len__(self):
        return len(self.files)

    def _each(self, read):
        """``read(path)`` for every file; raise one AudioError listing all failures."""
        results, problems = [], []
        for path in self.files:
            try:
                results.append(read(path))
            except AudioError as err:
                problems.append(str(err))
        if problems:
            listed = "\n  ".join(problems[:20])
            raise AudioError(f"{self.name}: {len(problems)} of {len(self.files)} files are unusable:\n  {listed}")
        return results

    def _load(self, path):
        clip = load_audio(path, self.sample_rate)
        if not clip.abs().max() > 0:
            raise AudioError(f"{path}: every sample is zero (silent). Remove it from the pool.")
        return clip

    def _read(self, i, start, frames):
        """Samples ``[start, start + frames)`` (at the pool's rate) of file ``i``, read from disk."""
        path, rate = self.files[i], self.rates[i]
        first = start * rate // self.sample_rate
        count = math.ceil((start + frames) * rate / self.sample_rate) - first
        try:
            data, _ = sf.read(path, start=first, frames=count, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as err:
            raise AudioError(f"{path}: the audio data is corrupt ({err}). Re-copy the file.") from err
        wav = torch.from_numpy(data).mean(dim=1)
        check_finite(wav, path)
        wav = resample(wav, rate, self.sample_rate)
        return F.pad(wav, (0, max(0, frames - len(wav))))[:frames]

    def _span(self, i, start, count):
        """Samples ``[start, start + count)`` of clip ``i`` (a view for in-memory pools)."""
        if self.cached:
            first = int(self._offsets[i]) + start
            return self._flat[first : first + count]
        return self._read(i, start, count)

    def segments(self, index, position, length, tile=True):
        """One segment of ``length`` samples per example, at a random offset.

        Arguments
        ---------
        index : torch.LongTensor ``[batch]`` clip of each example
        position : torch.Tensor ``[batch]`` uniform draws in [0, 1) that place the segment
        length : int
        tile : bool
            A clip shorter than ``length`` is repeated from a random offset (noise); without
            ``tile`` it is zero-padded around a random offset (speech).

        Returns
        -------
        torch.Tensor ``[batch, length]`` float32 on the CPU.
        """
        rows = []
        for i, p in zip(index.tolist(), position.tolist()):
            n = int(self.lengths[i])
            if n >= length:
                rows.append(self._span(i, min(int(p * (n - length + 1)), n - length), length))
            elif tile:
                clip = self._span(i, 0, n).roll(-min(int(p * n), n - 1))
                rows.append(clip.repeat(-(-length // n))[:length])
            else:
                start = min(int(p * (length - n + 1)), length - n)
                rows.append(F.pad(self._span(i, 0, n), (start, length - n - start)))
        return torch.stack(rows)

    def clips(self, index):
        """Whole clips ``index [batch]``, zero-padded at the end to the longest: ``[batch, time]`` on the CPU."""
        lengths = self.lengths[index].tolist()
        longest = max(lengths)
        return torch.stack([F.pad(self._span(i, 0, n), (0, longest - n)) for i, n in zip(index.tolist(), lengths)])


def as_pool(files, sample_rate, max_cache_seconds, name):
    """``files`` as an :class:`AudioPool` (an existing pool is shared, not copied)."""
    if files is None:
        raise ValueError(f"{name}: no files given; pass a manifest, a folder or a list of audio files.")
    if isinstance(files, AudioPool):
        if files.sample_rate != sample_rate:
            raise ValueError(f"{name}: the pool is at {files.sample_rate} Hz but {sample_rate} Hz is needed.")
        return files
    return AudioPool(files, sample_rate, max_cache_seconds, name)
