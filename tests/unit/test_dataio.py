"""maese.dataio: manifest read/write and audio checks that report every bad file."""

import numpy as np
import pytest
import soundfile as sf

from maese.dataio import ManifestError, check_audio_entries, list_audio_files, read_manifest, write_manifest


def test_manifest_round_trip(tmp_path):
    entries = {"a": {"wav": "x.wav", "duration": 1.0}, "b": {"wav": "y.wav", "duration": 2.0}}
    write_manifest(tmp_path / "m" / "train.json", entries)
    assert read_manifest(tmp_path / "m" / "train.json") == entries


def test_manifest_errors(tmp_path):
    with pytest.raises(ManifestError, match="no such manifest"):
        read_manifest(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ManifestError, match="bad.json.*not valid JSON"):
        read_manifest(bad)
    nokey = tmp_path / "nokey.json"
    write_manifest(nokey, {"a": {"path": "x"}})
    with pytest.raises(ManifestError, match="without a 'wav'"):
        read_manifest(nokey)


def test_check_audio_entries_lists_all_bad_files(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, np.zeros(160), 16000)
    (tmp_path / "empty.wav").write_bytes(b"")
    entries = {
        "good": {"wav": str(good)},
        "gone": {"wav": str(tmp_path / "gone.wav")},
        "empty": {"wav": str(tmp_path / "empty.wav")},
    }
    with pytest.raises(ManifestError) as err:
        check_audio_entries(entries, manifest_name="train.json")
    message = str(err.value)
    assert "2 of 3" in message and "gone.wav" in message and "empty.wav" in message and "good.wav" not in message
    check_audio_entries({"good": {"wav": str(good)}})
    assert list_audio_files(tmp_path) == [tmp_path / "empty.wav", good]
