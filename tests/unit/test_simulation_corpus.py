"""maese.simulation.corpus: the embedded corpus, built once at size tiny and checked file by file."""

import dataclasses
import errno
import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from maese.acoustics import direct_to_reverberant_ratio
from maese.augment.reverb import convolve_aligned
from maese.simulation import corpus
from maese.simulation.corpus import SIZES, build_corpus, ensure_corpus
from maese.simulation.layout import STAGES, CorpusError, load_corpus_manifest, read_json


def tree(root):
    """{relative path: sha1} of every file under ``root``."""
    files = sorted(p for p in Path(root).rglob("*") if p.is_file())
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in files}


def manifests(root):
    """{stage folder: resolved manifest} of a corpus."""
    return {stage.folder: load_corpus_manifest(root, stage.manifest) for stage in STAGES}


def failing_writer(calls, error):
    """A save_audio that writes ``calls`` files, then raises ``error``."""
    real, count = corpus.save_audio, [0]

    def save(*args, **kwargs):
        count[0] += 1
        if count[0] > calls:
            raise error
        return real(*args, **kwargs)

    return save


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "tiny"
    build_corpus(out, "tiny", seed=0, jobs=1)
    return out


def test_every_file_is_there_readable_and_as_long_as_its_manifest_says(tiny):
    listed = set()
    for stage in STAGES:
        entries = load_corpus_manifest(tiny, stage.manifest)
        assert len(entries) == SIZES["tiny"].count(stage), stage.folder
        for entry in entries.values():
            frames = set()
            for key in ("wav", "clean_wav", "rir_wav"):
                if key in entry:
                    info = sf.info(entry[key])
                    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
                    frames.add(info.frames)
                    listed.add(Path(entry[key]).relative_to(tiny.resolve()))
            if stage.kind != "dereverb":  # an RIR is shorter than its pair
                assert len(frames) == 1
            assert entry["duration"] == sf.info(entry["wav"]).frames / 16000
    assert {p.relative_to(tiny) for p in tiny.rglob("*.wav")} == listed  # nothing unlisted
    summary = read_json(tiny / "corpus.json")
    assert summary["status"] == "complete" and summary["identity"]["size"] == "tiny"
    assert "test_set/ood/" in (tiny / "README.md").read_text()
    assert not (tiny / ".build").exists()


def test_second_build_changes_nothing(tiny, capsys):
    before = {p: (p.stat().st_mtime_ns, h) for p, h in ((tiny / r, h) for r, h in tree(tiny).items())}
    assert ensure_corpus(tiny, "tiny") == tiny
    printed = capsys.readouterr().out
    assert "complete; nothing to do" in printed
    assert re.search(r"^clean\s+12\s", printed, re.M), "the summary table lists the clean files"
    assert {p: (p.stat().st_mtime_ns, h) for p, h in ((tiny / r, h) for r, h in tree(tiny).items())} == before


def test_killed_build_resumes_to_the_same_bytes(tiny, tmp_path, monkeypatch):
    out = tmp_path / "killed"
    monkeypatch.setattr(corpus, "save_audio", failing_writer(30, KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        build_corpus(out, "tiny", seed=0, jobs=1)
    assert not (out / ".done").exists() and (out / ".build").is_dir()
    monkeypatch.undo()
    build_corpus(out, "tiny", seed=0, jobs=1)
    assert tree(out) == tree(tiny)


def test_deleted_files_are_rebuilt_identically(tiny, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(tiny, out)
    for name in (".done", "clean/clean_fileid_3.wav", "test_set/ood/denoise/noisy/fileid_1.wav",
                 "valid_set/dereverb/rir/fileid_0.wav", "noise/noise.json"):
        (out / name).unlink()
    build_corpus(out, "tiny", seed=0, jobs=1)
    assert tree(out) == tree(tiny)


def test_another_seed_gives_other_audio(tiny, tmp_path):
    out = tmp_path / "seed1"
    build_corpus(out, "tiny", seed=1, jobs=1)
    ours, theirs = tree(tiny), tree(out)
    audio = [p for p in ours if p.endswith(".wav")]
    assert all(ours[p] != theirs[p] for p in audio)


def test_ood_split_shares_no_voice_family_or_room_with_training(tiny):
    found = manifests(tiny)
    voices, families, rooms = {"train": set(), "ood": set()}, {"train": set(), "ood": set()}, {"train": [], "ood": []}
    for stage in STAGES:
        for entry in found[stage.folder].values():
            voices[stage.domain].update(entry.get("talker_voices", []))
            if "voice" in entry:
                voices[stage.domain].add(entry["voice"])
            if "family" in entry:
                families[stage.domain].add(entry["family"])
            if "dims" in entry:  # a room: an RIR or a dereverb pair
                assert entry["domain"] == stage.domain
                rooms[stage.domain].append(entry["dims"])
    assert voices["train"] and voices["ood"] and not voices["train"] & voices["ood"]
    variant = lambda names: {n.split("+")[1] for n in names}  # noqa: E731
    assert not variant(voices["train"]) & variant(voices["ood"])
    assert families["train"] and families["ood"] and not families["train"] & families["ood"]
    splits = read_json(tiny / "corpus.json")["summary"]["splits"]
    for kind in splits["train"]["rooms"]:  # every OOD room has a side outside each training room range
        low, high = np.array(kind["dims_low"]), np.array(kind["dims_high"])
        assert rooms["ood"] and all(np.any((np.array(d) < low) | (np.array(d) > high)) for d in rooms["ood"])
    for domain in ("train", "ood"):
        assert voices[domain] <= set(splits[domain]["voices"])
        assert families[domain] <= set(splits[domain]["noise_families"])
    assert not set(splits["train"]["voices"]) & set(splits["ood"]["voices"])
    assert not set(splits["train"]["noise_families"]) & set(splits["ood"]["noise_families"])


def test_babble_talkers_come_from_the_same_split(tiny):
    found = manifests(tiny)
    train_voices = set(read_json(tiny / "corpus.json")["summary"]["splits"]["train"]["voices"])
    talkers = {v for e in found["noise"].values() for v in e["talker_voices"]}
    assert talkers and talkers <= train_voices


def test_denoise_pairs_have_their_snr(tiny):
    for folder in ("valid_set/denoise", "test_set/indomain/denoise", "test_set/ood/denoise"):
        for entry in load_corpus_manifest(tiny, f"{folder}/pairs.json").values():
            noisy, clean = sf.read(entry["wav"])[0], sf.read(entry["clean_wav"])[0]
            snr = 10 * np.log10(np.sum(clean**2) / np.sum((noisy - clean) ** 2))
            assert abs(snr - entry["snr"]) < 0.1
            assert -5 <= entry["snr"] <= 20 and np.abs(noisy).max() <= 0.99 + 1e-4


def test_dereverb_pairs_have_their_drr_and_are_aligned(tiny):
    for folder in ("valid_set/dereverb", "test_set/indomain/dereverb", "test_set/ood/dereverb"):
        for entry in load_corpus_manifest(tiny, f"{folder}/pairs.json").values():
            reverb, clean, rir = (sf.read(entry[k])[0] for k in ("wav", "clean_wav", "rir_wav"))
            assert abs(direct_to_reverberant_ratio(rir, 16000) - entry["drr_db"]) < 0.5
            expected = convolve_aligned(torch.from_numpy(clean)[None], torch.from_numpy(rir)[None])[0].numpy()
            residual = 10 * np.log10(np.sum((reverb - expected) ** 2) / np.sum(reverb**2))
            assert residual < -30  # the pair is the clean speech through its RIR, direct path at lag 0


def test_a_folder_holding_something_else_is_refused_untouched(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(CorpusError, match="not a maese corpus.*Nothing was changed"):
        build_corpus(tmp_path, "tiny", seed=0, jobs=1)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_another_size_or_seed_on_a_corpus_is_refused_untouched(tiny):
    before = tree(tiny)
    with pytest.raises(CorpusError, match="size='tiny', seed=0; you asked for size='tiny', seed=1"):
        build_corpus(tiny, "tiny", seed=1, jobs=1)
    with pytest.raises(CorpusError, match="you asked for size='small'"):
        build_corpus(tiny, "small", seed=0, jobs=1)
    assert tree(tiny) == before


def test_a_full_disk_stops_with_a_clear_error_and_keeps_what_was_built(tmp_path, monkeypatch):
    out = tmp_path / "full"
    monkeypatch.setattr(corpus, "save_audio", failing_writer(5, OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(CorpusError, match=f"{out}.*full.*Free some space and re-run"):
        build_corpus(out, "tiny", seed=0, jobs=1)
    written = sorted(out.rglob("clean_fileid_*.wav"))
    assert len(written) == 5 and all(sf.info(p).frames > 0 for p in written)
    assert len(list((out / ".build" / "clean").glob("*.json"))) == 5


def test_an_unknown_size_or_a_bad_seed_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'huge'.*tiny, small, paper"):
        build_corpus(tmp_path / "x", "huge")
    with pytest.raises(ValueError, match="non-negative integer"):
        build_corpus(tmp_path / "x", "tiny", seed=-1)
    assert not (tmp_path / "x").exists()


def test_test_sets_have_their_own_count_and_more_test_pairs_extend_the_same_sets(tiny, tmp_path, monkeypatch):
    small = SIZES["small"]
    assert [stage.folder for stage in STAGES if stage.is_test] == [
        "test_set/indomain/denoise", "test_set/indomain/dereverb", "test_set/ood/denoise", "test_set/ood/dereverb"]
    counts = {stage.folder: small.count(stage) for stage in STAGES}
    assert counts["valid_set/denoise"] == small.pairs and counts["test_set/ood/dereverb"] == small.test_pairs
    assert small.test_pairs > small.pairs
    # Items draw from default_rng([seed, stage, index]): 5 test pairs are tiny's 3, then 2 new ones.
    monkeypatch.setitem(SIZES, "tiny", dataclasses.replace(SIZES["tiny"], test_pairs=5))
    build_corpus(tmp_path / "more", "tiny", seed=0, jobs=1)
    new_files = 0
    for stage in STAGES:
        old, more = (load_corpus_manifest(root, stage.manifest) for root in (tiny, tmp_path / "more"))
        assert len(more) == (5 if stage.is_test else len(old)), stage.folder
        new_files += sum(len([k for k in entry if k.endswith("wav")]) for uid, entry in more.items() if uid not in old)
    before, after = tree(tiny), tree(tmp_path / "more")
    shared = [path for path in before if path.endswith(".wav")]
    assert shared and all(after[path] == before[path] for path in shared)
    assert new_files == 4 * 2 * 2 + 2 * 2  # 4 test sets of 2 new pairs (2 wavs each), and the dereverb pairs' RIRs
    assert len([p for p in after if p.endswith(".wav")]) == len(shared) + new_files
