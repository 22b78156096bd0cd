"""Enhance waveforms and folders of audio files with a trained enhancement model.

Outputs are 32-bit float wav files: the model's output as it is, never clipped nor rescaled (a
peak above full scale is only logged). Existing outputs are never overwritten: a folder records
which model wrote it (``.enhanced_by``); re-running with the same model skips the files already
written (an interrupted run resumes), another model raises.
"""

import logging
from pathlib import Path

import torch

from maese.audio import load_audio, save_audio
from maese.dataio import list_audio_files

logger = logging.getLogger(__name__)

MARKER = ".enhanced_by"


@torch.no_grad()
def enhance_waveform(model, wav):
    """Enhance one waveform ``[time]`` (or a batch ``[B, time]``) with ``model`` in eval mode.

    Arguments
    ---------
    model : torch.nn.Module
        Maps ``[B, time]`` to an output whose ``wav`` is ``[B, time]`` (e.g. an EnhancementModel).
    wav : torch.Tensor

    Returns
    -------
    torch.Tensor, the shape of ``wav``, on the CPU.
    """
    model.eval()
    device = next(model.parameters()).device
    batch = wav.unsqueeze(0) if wav.dim() == 1 else wav
    enhanced = model(batch.to(device)).wav.cpu()
    return enhanced.reshape(wav.shape)


def enhance_folder(model, in_folder, out_folder, model_id, sample_rate=16000):
    """Enhance every audio file under ``in_folder`` into ``out_folder`` (same relative names, ``.wav``).

    Arguments
    ---------
    model : torch.nn.Module
    in_folder, out_folder : str or Path
    model_id : str
        Identifies the model (e.g. its checkpoint path); recorded in ``out_folder/.enhanced_by``.
    sample_rate : int

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
    written = skipped = 0
    for path in list_audio_files(in_folder):
        out = (out_folder / path.relative_to(in_folder)).with_suffix(".wav")
        if out.exists():
            skipped += 1
            continue
        enhanced = enhance_waveform(model, load_audio(path, sample_rate))
        if enhanced.abs().max() > 1:
            logger.info("%s: peak %.3f above full scale (kept: float wav).", out, float(enhanced.abs().max()))
        save_audio(out, enhanced, sample_rate, subtype="FLOAT")
        written += 1
    logger.info("%s: %d enhanced, %d already there (kept).", out_folder, written, skipped)
    return written, skipped
