"""The embedded corpus on disk: DNS-Challenge folder names, manifests, build markers and resume records.

Manifests name files as ``{data_root}/<path inside the corpus>`` (SpeechBrain's replacement syntax,
``load_data_json(path, replacements={"data_root": corpus})``), so a corpus can be moved and two
builds with the same seed are byte-identical; :func:`load_corpus_manifest` resolves them.
"""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from maese.dataio import write_json, write_text

CORPUS_FILE = "corpus.json"
DONE_FILE = ".done"
README_FILE = "README.md"
BUILD_DIR = ".build"
DATA_ROOT = "{data_root}"
PATH_KEYS = ("wav", "clean_wav", "rir_wav")


class CorpusError(RuntimeError):
    """A corpus folder that cannot be built or used; the message says what to do."""


@dataclass(frozen=True)
class Stage:
    """One build stage: ``count`` items of one kind, written under ``folder``.

    ``kind`` is ``clean``, ``noise``, ``rir``, ``denoise`` or ``dereverb``; ``domain`` is ``train``
    (training voices, noise families and rooms) or ``ood`` (the held-out ones); ``stage_id`` seeds
    the per-item random generators.
    """

    folder: str
    stage_id: int
    kind: str
    domain: str

    def uid(self, index):
        """Manifest id (the file stem) of item ``index``."""
        prefix = {"clean": "clean_", "noise": "noise_", "rir": "rir_"}.get(self.kind, "")
        return f"{prefix}fileid_{index}"

    def files(self, index):
        """Manifest key -> path inside the corpus, for each file of item ``index``."""
        name = f"{self.uid(index)}.wav"
        if self.kind in ("clean", "noise", "rir"):
            return {"wav": f"{self.folder}/{name}"}
        files = {"wav": f"{self.folder}/{'noisy' if self.kind == 'denoise' else 'reverb'}/{name}",
                 "clean_wav": f"{self.folder}/clean/{name}"}
        if self.kind == "dereverb":
            files["rir_wav"] = f"{self.folder}/rir/{name}"
        return files

    @property
    def is_test(self):
        """True for the test sets (``test_set/...``), which have their own item count."""
        return self.folder.startswith("test_set/")

    @property
    def manifest(self):
        """Path of the stage's manifest inside the corpus."""
        names = {"clean": "clean.json", "noise": "noise.json", "rir": "impulse_responses.json"}
        return f"{self.folder}/{names.get(self.kind, 'pairs.json')}"


STAGES = (
    Stage("clean", 1, "clean", "train"),
    Stage("noise", 2, "noise", "train"),
    Stage("impulse_responses", 3, "rir", "train"),
    Stage("valid_set/denoise", 4, "denoise", "train"),
    Stage("valid_set/dereverb", 5, "dereverb", "train"),
    Stage("test_set/indomain/denoise", 6, "denoise", "train"),
    Stage("test_set/indomain/dereverb", 7, "dereverb", "train"),
    Stage("test_set/ood/denoise", 8, "denoise", "ood"),
    Stage("test_set/ood/dereverb", 9, "dereverb", "ood"),
)


def read_json(path):
    """Parsed JSON of ``path``; a corrupt file raises :class:`CorpusError` naming it."""
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CorpusError(f"{path} is corrupt ({err}). Delete the corpus folder and build it again.") from err


def open_corpus(out, identity):
    """Check that ``out`` can hold the corpus described by ``identity``; True if it is complete.

    ``identity`` is the JSON-ready dict (size, seed, config, ...) that the build records.
    Raises :class:`CorpusError` without touching anything if ``out`` is a file, holds something that
    is not a maese corpus, or holds a corpus built with another size, seed or configuration.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CorpusError(f"{out} is a file, not a folder. Choose another --out folder.")
    if not out.is_dir() or not any(out.iterdir()):
        return False
    if not (out / CORPUS_FILE).is_file():
        shown = ", ".join(sorted(p.name for p in out.iterdir())[:5])
        raise CorpusError(
            f"{out} is not empty ({shown}, ...) and is not a maese corpus (no {CORPUS_FILE}). "
            "Nothing was changed; choose an empty or new --out folder."
        )
    found = read_json(out / CORPUS_FILE).get("identity") or {}
    if found != identity:
        asked = {key: identity[key] for key in ("size", "seed")}
        other = " (same size and seed, other settings or maese version)" if asked == {k: found.get(k) for k in asked} else ""
        raise CorpusError(
            f"{out} holds a maese corpus built with size={found.get('size')!r}, seed={found.get('seed')!r}; "
            f"you asked for size={identity['size']!r}, seed={identity['seed']!r}{other}. "
            "Nothing was changed; use another --out folder, or delete this one to rebuild."
        )
    return (out / DONE_FILE).is_file() and read_json(out / DONE_FILE) == identity


def start_corpus(out, identity):
    """Mark ``out`` as a maese corpus in progress (its identity in ``corpus.json``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / CORPUS_FILE).is_file():
        write_json(out / CORPUS_FILE, {"identity": identity, "status": "building"})


def finish_corpus(out, identity, summary, readme):
    """Write ``corpus.json`` with the summary, ``README.md``, then the completion marker."""
    out = Path(out)
    write_json(out / CORPUS_FILE, {"identity": identity, "status": "complete", "summary": summary})
    write_text(out / README_FILE, readme)
    write_json(out / DONE_FILE, identity)


def _record_path(out, stage, index):
    return Path(out) / BUILD_DIR / stage.folder / f"{index}.json"


def record_item(out, stage, index, entry):
    """Note that item ``index`` of ``stage`` is written (after its audio files), with its manifest entry."""
    write_json(_record_path(out, stage, index), entry)


def finished_items(out, stage, count):
    """Manifest entries (index -> entry) of the items of ``stage`` already built, all files present.

    Entries come from the stage manifest of an earlier run or from per-item records of a run
    that was interrupted; an item with a missing file counts as not built.
    """
    out = Path(out)
    manifest = out / stage.manifest
    known = {}
    if manifest.is_file():
        by_uid = read_json(manifest)
        known = {i: by_uid[stage.uid(i)] for i in range(count) if stage.uid(i) in by_uid}
    records = out / BUILD_DIR / stage.folder
    if records.is_dir():
        for path in records.glob("*.json"):
            if path.stem.isdigit() and int(path.stem) < count:
                known[int(path.stem)] = read_json(path)
    return {i: e for i, e in known.items() if all((out / p).is_file() for p in stage.files(i).values())}


def finish_stage(out, stage, entries):
    """Write the stage manifest (uid -> entry, sorted by index) and drop its per-item records."""
    write_json(Path(out) / stage.manifest, {stage.uid(i): entries[i] for i in sorted(entries)})
    shutil.rmtree(Path(out) / BUILD_DIR / stage.folder, ignore_errors=True)


def drop_build_records(out):
    """Remove the per-item records folder once every stage is finished."""
    shutil.rmtree(Path(out) / BUILD_DIR, ignore_errors=True)


def corpus_path(relative):
    """``{data_root}/relative``: a manifest path inside the corpus."""
    return f"{DATA_ROOT}/{relative}"


def load_corpus_manifest(corpus, manifest):
    """A corpus manifest with its ``{data_root}`` paths resolved against the folder ``corpus``.

    Arguments
    ---------
    corpus : str or Path
        The corpus folder.
    manifest : str
        Path of the manifest inside it, e.g. ``"clean/clean.json"`` or ``"test_set/ood/denoise/pairs.json"``.

    Returns
    -------
    dict: uid -> entry, with absolute paths under ``wav``, ``clean_wav`` and ``rir_wav``.
    """
    root = str(Path(corpus).resolve())
    entries = read_json(Path(corpus) / manifest)
    for entry in entries.values():
        for key in PATH_KEYS:
            if key in entry:
                entry[key] = entry[key].replace(DATA_ROOT, root)
    return entries
