"""maese.simulation.folders: a DNS-layout corpus from plain folders of speech, noise and impulse responses."""

import json

import numpy as np
import pytest
import soundfile as sf

from folders_fixtures import noise_folder, speech_folder, write

from maese.simulation import folders, layout
from maese.simulation.folders import FolderError, build_folder_corpus, split_folder


@pytest.fixture
def sources(tmp_path):
    return speech_folder(tmp_path / "speech"), noise_folder(tmp_path / "noise")


def build(sources, out, **kwargs):
    return build_folder_corpus(*sources, out, train_rooms=3, eval_rooms=2, **kwargs)


def test_split_folders_are_taken_as_they_are(sources):
    splits = split_folder(sources[0], "speech", seed=0)
    assert [len(splits[s]) for s in folders.SPLITS] == [6, 2, 2]
    assert {p.parent.name for p in splits["valid"]} == {"spk3"} and {p.parent.name for p in splits["test"]} == {"spk4"}


def test_a_folder_without_split_folders_is_split_by_speaker_seeded(tmp_path):
    root = speech_folder(tmp_path / "speech", speakers=(8, 1, 1), split_folders=False)
    splits = split_folder(root, "speech", seed=3)
    speakers = {s: {p.parent.name for p in splits[s]} for s in folders.SPLITS}
    assert [len(speakers[s]) for s in folders.SPLITS] == [8, 1, 1]
    assert not (speakers["train"] & speakers["valid"]) and not (speakers["train"] & speakers["test"])
    assert split_folder(root, "speech", seed=3) == splits
    assert any(split_folder(root, "speech", seed=s) != splits for s in range(4, 10))


def test_a_flat_folder_is_split_by_file(tmp_path):
    for i in range(5):
        write(tmp_path / "noise" / f"n{i}.wav", 1.0, seed=i, kind="noise")
    splits = split_folder(tmp_path / "noise", "noise", seed=0)
    assert sorted(p.name for s in folders.SPLITS for p in splits[s]) == [f"n{i}.wav" for i in range(5)]
    assert all(splits[s] for s in folders.SPLITS)


@pytest.mark.parametrize("make,message", [
    (lambda root: None, "is not a folder"),
    (lambda root: (root / "notes").mkdir(parents=True), "holds no audio files"),
    (lambda root: [write(root / f"{i}.wav", 1.0, i) for i in range(2)], "at least 3 are needed"),
    (lambda root: [write(root / s / "a.wav", 1.0, 0) for s in ("train", "valid")] + [(root / "test").mkdir()],
     "test hold no audio files"),
])
def test_unusable_folders_fail_naming_the_folder(tmp_path, make, message):
    root = tmp_path / "speech"
    make(root)
    with pytest.raises(FolderError, match=message) as err:
        split_folder(root, "speech", seed=0)
    assert str(root) in str(err.value)


def test_the_corpus_has_the_dns_layout_from_the_train_split_and_pairs_of_the_others(sources, tmp_path):
    out = tmp_path / "corpus"
    summary = build(sources, out)
    assert summary["train"] == {"speech": 6, "noise": 3, "rirs": 3}
    clean = sorted(p.relative_to(out / "clean").as_posix() for p in (out / "clean").rglob("*.flac"))
    assert clean == [f"spk{k}/{i}.flac" for k in range(3) for i in range(2)]
    assert all((out / "clean" / c).resolve() == (sources[0] / "train" / c).resolve() for c in clean)
    assert sorted(p.name for p in (out / "noise").iterdir()) == [f"train_noise_{i}.flac" for i in range(3)]
    assert len(list((out / "impulse_responses").glob("*.wav"))) == 3
    for folder, speech in (("valid_set", "valid"), ("test_set/indomain", "test")):
        for task, key in (("denoise", "noisy"), ("dereverb", "reverb")):
            assert len(list((out / folder / task / key).glob("*.wav"))) == 2
            assert len(list((out / folder / task / "clean").glob("*.wav"))) == 2
            entries = layout.load_corpus_manifest(out, f"{folder}/{task}/pairs.json")
            assert {e["source"].split(f"/{speech}/")[0] for e in entries.values()} == {str(sources[0].resolve())}
            if task == "denoise":  # the noise of the split's own folder
                assert {e["noise"].split("/")[-2] for e in entries.values()} == {speech}
            else:
                assert {e["rir"].split("/")[-2] for e in entries.values()} == {"rirs"}
                assert all(f"{folder}/rirs/" in e["rir"] for e in entries.values())


def test_denoising_pairs_are_mixed_at_their_snr_and_dereverb_targets_are_aligned(sources, tmp_path):
    out = tmp_path / "corpus"
    build(sources, out, snr_range=(5.0, 10.0))
    for uid, entry in layout.load_corpus_manifest(out, "test_set/indomain/denoise/pairs.json").items():
        noisy, clean = sf.read(entry["wav"])[0], sf.read(entry["clean_wav"])[0]
        snr = 10 * np.log10(np.sum(clean ** 2) / np.sum((noisy - clean) ** 2))
        assert 5.0 - 0.1 < snr < 10.0 + 0.1 and abs(snr - entry["snr"]) < 0.1, uid
    for entry in layout.load_corpus_manifest(out, "valid_set/dereverb/pairs.json").values():
        wet, dry = sf.read(entry["wav"])[0], sf.read(entry["clean_wav"])[0]
        lags = np.arange(-200, 201)
        corr = [np.dot(wet[max(0, k):len(wet) + min(0, k)], dry[max(0, -k):len(dry) - max(0, k)]) for k in lags]
        assert lags[int(np.argmax(corr))] == 0


def test_a_second_build_does_nothing_and_other_sources_are_refused(sources, tmp_path):
    out = tmp_path / "corpus"
    build(sources, out)
    mtimes = {p: p.lstat().st_mtime_ns for p in out.rglob("*")}
    build(sources, out)
    assert {p: p.lstat().st_mtime_ns for p in out.rglob("*")} == mtimes
    write(sources[0] / "train" / "spk0" / "extra.flac", 1.2, seed=7)
    with pytest.raises(layout.CorpusError, match="Nothing was changed"):
        build(sources, out)


def test_given_impulse_responses_are_split_and_linked_instead_of_simulated(sources, tmp_path):
    rirs = tmp_path / "rirs"
    for split, count in zip(folders.SPLITS, (2, 1, 1)):
        for i in range(count):
            write(rirs / split / f"{split}_rir_{i}.wav", 0.3, seed=i, kind="rir")
    out = tmp_path / "corpus"
    build(sources, out, rirs=rirs)
    assert sorted(p.name for p in (out / "impulse_responses").iterdir()) == ["train_rir_0.wav", "train_rir_1.wav"]
    entries = json.loads((out / "test_set/indomain/dereverb/pairs.json").read_text())
    assert {e["rir"] for e in entries.values()} == {str((rirs / "test" / "test_rir_0.wav").resolve())}
    assert not (out / "test_set/indomain/rirs").exists()


def test_speech_below_16_khz_fails_naming_the_file_before_anything_is_written(tmp_path):
    speech = speech_folder(tmp_path / "speech", rate=8000)
    out = tmp_path / "corpus"
    with pytest.raises(FolderError, match="sampled at 8000 Hz") as err:
        build((speech, noise_folder(tmp_path / "noise")), out)
    assert "spk0/0.flac" in str(err.value) and not out.exists()


def test_a_noise_split_shorter_than_one_crop_fails_naming_it(sources, tmp_path):
    for path in (sources[1] / "valid").iterdir():
        path.unlink()
    write(sources[1] / "valid" / "short.wav", 0.5, seed=0, kind="noise")
    with pytest.raises(FolderError, match=r"the valid split of .*noise holds 0.50 s of noise"):
        build(sources, tmp_path / "corpus")


def test_command_line_reports_a_bad_folder_with_exit_status_1(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        folders.main(["--speech", str(tmp_path / "missing"), "--noise", str(tmp_path), "--out", str(tmp_path / "c")])
    assert exit_info.value.code == 1 and "missing is not a folder" in capsys.readouterr().err
