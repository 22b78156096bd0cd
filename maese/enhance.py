"""Enhance folders of audio files with a trained enhancement model (the recipe's test-set enhancement).

Each file goes through :meth:`maese.inference.Enhancer.enhance_file` (streamed in chunks, resampled to
the model's rate and back, downmixed to mono): the output is a 32-bit float wav at the input's rate,
the model's output as it is, never clipped nor rescaled (a peak above full scale is only logged).
Existing outputs are never overwritten: a folder records which model wrote it (``.enhanced_by``);
re-running with the same model skips the files already written (an interrupted run resumes), another
model raises.
"""

import logging
from pathlib import Path

from maese.dataio import list_audio_files
from maese.inference import Enhancer

logger = logging.getLogger(__name__)

MARKER = ".enhanced_by"


def enhance_folder(model, in_folder, out_folder, model_id, sample_rate=16000, chunk_seconds=4.0):
    """Enhance every audio file under ``in_folder`` into ``out_folder`` (same relative names, ``.wav``).

    Arguments
    ---------
    model : torch.nn.Module
        Maps ``[B, time]`` to an output whose ``wav`` is ``[B, time]`` (e.g. an EnhancementModel).
    in_folder, out_folder : str or Path
    model_id : str
        Identifies the model (e.g. its checkpoint path); recorded in ``out_folder/.enhanced_by``.
    sample_rate : int
        The model's rate.
    chunk_seconds : float
        Longest stretch the model sees at once (its training crop); consecutive chunks overlap by half of it.

    Returns
    -------
    (int written, int skipped because they existed)

    Raises
    ------
    FileExistsError if ``out_folder`` holds outputs of another model.
    """
    in_folder, out_folder = Path(in_folder), Path(out_folder)
    marker = out_folder / MARKER
    if marker.exists() and marker.read_text() != model_id:
        raise FileExistsError(
            f"{out_folder} holds outputs of another model ({marker.read_text()}); delete it to enhance again."
        )
    out_folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(model_id)
    enhancer = Enhancer(model, sample_rate, chunk_seconds, downmix=True)
    written = skipped = 0
    for path in list_audio_files(in_folder):
        out = (out_folder / path.relative_to(in_folder)).with_suffix(".wav")
        if out.exists():
            skipped += 1
            continue
        enhancer.enhance_file(path, out)
        written += 1
    logger.info("%s: %d enhanced, %d already there (kept).", out_folder, written, skipped)
    return written, skipped
