"""JSON manifests in SpeechBrain's format: ``{utt_id: {"wav": path, "duration": s, ...}}``."""

import json
from pathlib import Path

from speechbrain.dataio.dataset import DynamicItemDataset
from speechbrain.utils.data_pipeline import provides, takes

from maese.audio import AUDIO_EXTENSIONS, AudioError, load_audio, read_info, temporary_sibling


class ManifestError(ValueError):
    """A manifest that is missing, malformed, or names unusable files."""


def write_text(path, text):
    """Write ``text`` atomically (temporary file in the same folder, then rename)."""
    with temporary_sibling(path) as tmp:
        Path(tmp).write_text(text)


def write_json(path, data):
    """Write ``data`` as sorted, indented JSON, atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_manifest(path, entries):
    """Write a manifest (dict id -> dict) as JSON, atomically."""
    write_json(path, entries)


def read_manifest(path, key="wav"):
    """Read a manifest; every entry must be a dict holding ``key``.

    Returns
    -------
    dict: utt_id -> entry.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: no such manifest. Run the data preparation step first.")
    try:
        entries = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ManifestError(f"{path}: not valid JSON ({err}). Delete it and re-run data preparation.") from err
    if not isinstance(entries, dict) or not entries:
        raise ManifestError(f"{path}: expected a non-empty JSON object {{id: {{'{key}': path, ...}}}}.")
    bad = [uid for uid, e in entries.items() if not isinstance(e, dict) or key not in e]
    if bad:
        raise ManifestError(f"{path}: entries without a '{key}' field: {bad[:5]} ({len(bad)} in all).")
    return entries


def check_audio_entries(entries, key="wav", manifest_name="manifest"):
    """Check that every entry's ``key`` file is readable audio; report all bad ones at once.

    Raises
    ------
    ManifestError listing each unusable file with its reason.
    """
    problems = []
    for uid, entry in entries.items():
        try:
            read_info(entry[key])
        except AudioError as err:
            problems.append(f"  {uid}: {err}")
    if problems:
        shown = "\n".join(problems[:20])
        raise ManifestError(
            f"{manifest_name}: {len(problems)} of {len(entries)} entries name unusable audio:\n{shown}\n"
            "Fix or remove these files and re-run data preparation."
        )


def list_audio_files(folder):
    """Sorted audio files (wav/flac/ogg) under ``folder``, recursively."""
    folder = Path(folder)
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())


def audio_dataset(manifest, sample_rate=16000, key="wav", output_key="sig"):
    """A SpeechBrain ``DynamicItemDataset`` reading one audio field of a manifest.

    Arguments
    ---------
    manifest : str or Path
        JSON manifest; entries hold ``key`` (a path).
    sample_rate : int
        Audio is resampled to this rate and downmixed to mono.
    key, output_key : str
        Manifest field to read, and the name of the loaded signal ``[time]`` in batches.

    Returns
    -------
    speechbrain.dataio.dataset.DynamicItemDataset with output keys ``id`` and ``output_key``.
    """
    read_manifest(manifest, key=key)
    dataset = DynamicItemDataset.from_json(str(manifest))

    @takes(key)
    @provides(output_key)
    def read(path):
        return load_audio(path, sample_rate)

    dataset.add_dynamic_item(read)
    dataset.set_output_keys(["id", output_key])
    return dataset
