"""maese.pairs: layout and twin checks (named folders, counts), the resampled cache, idempotent manifests."""

import json

import numpy as np
import pytest
import soundfile as sf

from maese.dataprep import PreparationError
from maese.pairs import cached_pairs, check_layout, twin_names, write_pair_manifests


def write(path, seconds=0.5, rate=48000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, 0.1 * np.sin(np.arange(int(seconds * rate)) / 10), rate, subtype="PCM_16")


def test_check_layout_names_every_missing_folder(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(PreparationError, match=r"not the X layout: missing b, c/d\. .*holding a/, b/, c/d/ \(hint\)"):
        check_layout(tmp_path, ["a", "b", "c/d"], "X", "hint")
    check_layout(tmp_path, ["a"], "X", "hint")


def test_twins_in_sub_folders_and_a_missing_twin_counted(tmp_path):
    for name in ("s/x.wav", "s/y.wav"):
        write(tmp_path / "in" / name)
        write(tmp_path / "out" / name)
    assert twin_names(tmp_path, "in", "out") == ["s/x.wav", "s/y.wav"]
    (tmp_path / "out" / "s" / "y.wav").unlink()
    with pytest.raises(PreparationError, match=r"\(1 out, 2 in, 1 paired\): 0 out files .* 1 in files without"):
        twin_names(tmp_path, "in", "out")


def test_cached_pairs_resample_once_and_never_into_the_corpus(tmp_path):
    data = tmp_path / "data"
    write(data / "in" / "a.wav")
    write(data / "out" / "a.wav")
    entries = cached_pairs(data, tmp_path / "cache", "in", "out", 16000)
    assert entries["a"]["duration"] == 0.5 and sf.info(entries["a"]["wav"]).samplerate == 16000
    stamp = (tmp_path / "cache" / "in" / "a.wav").stat().st_mtime_ns
    cached_pairs(data, tmp_path / "cache", "in", "out", 16000)
    assert (tmp_path / "cache" / "in" / "a.wav").stat().st_mtime_ns == stamp
    with pytest.raises(PreparationError, match="lies inside data_folder"):
        cached_pairs(data, data / "cache", "in", "out", 16000)


def test_manifests_are_written_once_per_options(tmp_path):
    calls = []
    entries = {"a": {"wav": "x", "clean_wav": str(tmp_path / "missing.wav"), "duration": 1.0}}
    with pytest.raises(ValueError, match="missing.wav"):  # unreadable targets are listed
        write_pair_manifests(tmp_path / "prep", {"k": 1}, lambda: {"train": entries})
    write(tmp_path / "t.wav")
    entries["a"]["clean_wav"] = str(tmp_path / "t.wav")
    write_pair_manifests(tmp_path / "prep", {"k": 1}, lambda: calls.append(1) or {"train": entries})
    write_pair_manifests(tmp_path / "prep", {"k": 1}, lambda: calls.append(1) or {"train": entries})
    assert calls == [1] and json.loads((tmp_path / "prep" / "train.json").read_text()) == entries
    with pytest.raises(PreparationError, match=r"other options \(changed: \['k'\]\)"):
        write_pair_manifests(tmp_path / "prep", {"k": 2}, lambda: {"train": entries})
