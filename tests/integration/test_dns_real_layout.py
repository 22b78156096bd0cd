"""recipes/DNS on miniature copies of the real DNS Challenge releases (16 kHz and 48 kHz fullband): prepare.py,
and run.sh from preparation through one tiny fine-tuning epoch to the scores of the synthetic test sets.

The folder and file names are the releases' (``datasets/``, ``datasets_fullband/clean_fullband/``, SLR26/SLR28
impulse responses, ``test_set/synthetic/{no_reverb,with_reverb}/{noisy,clean}/``); the audio is 1.5 s of
generated signal.
"""

import csv
import hashlib
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from conftest import DNS_RECIPE, fake_pretraining, run_recipe

sys.path.insert(0, str(DNS_RECIPE))
from dns_paired import prepare_paired
from dns_test_sets import prepare_test_sets
from prepare import prepare_dns

from maese.dataprep import PreparationError

SECONDS = 1.5
CLEAN = ["read_speech/book_00000_chp_0009_reader_06709_0.wav", "read_speech/book_00001_chp_0012_reader_00812_3.wav",
         "emotional_speech/crowd_neutral_1_00018.wav", "read_speech/book_00002_chp_0003_reader_11003_7.wav"]
NOISE = ["AirConditioner_6.wav", "Babble_Freesound_validated_00_1.wav", "door_Freesound_validated_380_0.wav",
         "Typing_Freesound_validated_21_2.wav"]
RIRS = ["SLR26/simulated_rirs_16k/smallroom/Room001/Room001-00001.wav",
        "SLR26/simulated_rirs_16k/largeroom/Room012/Room012-00004.wav",
        "SLR28/RIRS_NOISES/real_rirs_isotropic_noises/RVB2014_type1_rir_largeroom1_near_angla.wav"]
SLR28_NOISE = "SLR28/RIRS_NOISES/real_rirs_isotropic_noises/RVB2014_type1_noise_largeroom1_1.wav"
TEST_NOISY = ["clnsp1_train_69005_1_snr15_tl-21_fileid_0.wav", "clnsp44_wind_97396_2_snr14_tl-26_fileid_1.wav",
              "clnsp52_amMeH4u6AO4_snr5_tl-18_fileid_2.wav"]


def write_wav(path, rate, seconds=SECONDS, seed=0, rir=False):
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    if rir:
        wav = rng.normal(0, 1, n) * np.exp(-np.arange(n) / (0.05 * rate))
        wav[0] = 1.0
    else:
        t = np.arange(n) / rate
        wav = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2 + 0.05 * rng.normal(0, 1, n)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (wav / np.abs(wav).max() * 0.5).astype(np.float32), rate, subtype="PCM_16")


def build_release(root, fullband):
    """A miniature ``datasets/`` (16 kHz) or ``datasets_fullband/`` (48 kHz speech and noise) under ``root``."""
    rate = 48000 if fullband else 16000
    data = root / ("datasets_fullband" if fullband else "datasets")
    clean, noise = ("clean_fullband", "noise_fullband") if fullband else ("clean", "noise")
    for i, name in enumerate(CLEAN):
        write_wav(data / clean / name, rate, seed=i)
    for i, name in enumerate(NOISE):
        write_wav(data / noise / name, rate, seed=10 + i)
    for i, name in enumerate(RIRS + [SLR28_NOISE]):
        write_wav(data / "impulse_responses" / name, 16000, seconds=0.3, seed=20 + i, rir=name in RIRS)
    for s, test_set in enumerate(("no_reverb", "with_reverb")):
        for i, name in enumerate(TEST_NOISY):
            write_wav(data / "test_set" / "synthetic" / test_set / "noisy" / name, rate, seed=30 + 10 * s + i)
            write_wav(data / "test_set" / "synthetic" / test_set / "clean" / f"clean_fileid_{i}.wav", rate, seed=60 + i)
    return data


def snapshot(folder):
    """{relative path: sha1} of every file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    root = tmp_path_factory.mktemp("DNS-Challenge")
    return root, build_release(root, fullband=False), build_release(root, fullband=True)


def manifest(path):
    return json.loads(path.read_text())


@pytest.mark.parametrize("fullband", [False, True], ids=["16k", "48k-fullband"])
def test_release_prepared_at_model_rate_without_touching_it(releases, tmp_path, fullband):
    data = releases[2] if fullband else releases[1]
    before = snapshot(data)
    save = tmp_path / "prep"
    prepare_dns(save, data_folder=data, min_duration=1.0, valid_fraction=0.25)
    test_sets = prepare_test_sets(save, data)
    assert snapshot(data) == before, "preparation wrote into the data folder"

    train, valid = manifest(save / "pretrain_train.json"), manifest(save / "pretrain_valid.json")
    assert len(train) == 3 and len(valid) == 1
    rirs, noise = manifest(save / "stack_rirs.json"), manifest(save / "stack_noise.json")
    assert len(rirs) == len(RIRS) and not any("_noise_" in e["wav"] for e in rirs.values()), "SLR28 noises are not RIRs"
    assert len(noise) == 2  # the other half of noise/ made the noisy input
    assert sorted(test_sets) == ["no_reverb", "with_reverb"]
    for name in test_sets:
        pairs = manifest(save / f"test_synthetic_{name}.json")
        assert sorted(pairs) == [f"{name}_fileid_{i}" for i in range(3)]
        for uid, entry in pairs.items():
            fileid = uid.rsplit("_", 1)[1]
            assert entry["wav"].endswith(f"fileid_{fileid}.wav") and "noisy" in entry["wav"]
            assert entry["clean_wav"].endswith(f"clean_fileid_{fileid}.wav")
    every = [e[k] for m in (train, valid, rirs, noise, *(manifest(save / f"test_synthetic_{n}.json") for n in test_sets))
             for e in m.values() for k in ("wav", "clean_wav") if k in e]
    assert all(sf.info(p).samplerate == 16000 for p in every)
    cached = sorted((save / "resampled").rglob("*.wav")) if (save / "resampled").exists() else []
    if fullband:  # speech, noise and test sets resampled once into the cache; the 16 kHz RIRs used in place
        assert len(cached) == len(CLEAN) + len(NOISE) + 2 * 2 * len(TEST_NOISY)
        assert (save / "resampled" / "clean" / CLEAN[0]).is_file()
        assert all(str(save) in e["wav"] for e in noise.values())
    else:
        assert cached == [], "16 kHz files must be used in place, not copied"


def test_second_run_resamples_nothing(releases, tmp_path):
    data = releases[2]
    save = tmp_path / "prep"
    prepare_dns(save, data_folder=data, min_duration=1.0)
    prepare_test_sets(save, data)
    cache = {p: p.stat().st_mtime_ns for p in (save / "resampled").rglob("*.wav")}
    first = {p.name: p.read_text() for p in save.glob("*.json")}
    prepare_dns(save, data_folder=data, min_duration=1.0)  # done marker: skipped
    prepare_test_sets(save, data)
    for marker in save.glob("*_done.json"):  # forced redo: the cache is reused, the manifests are the same
        marker.unlink()
    prepare_dns(save, data_folder=data, min_duration=1.0)
    prepare_test_sets(save, data)
    assert {p: p.stat().st_mtime_ns for p in (save / "resampled").rglob("*.wav")} == cache
    assert {p.name: p.read_text() for p in save.glob("*.json")} == first


def test_wrong_data_folder_fails_at_once_naming_the_subfolder(releases, tmp_path):
    root = releases[0]
    proc = subprocess.run([sys.executable, "prepare.py", "--data_folder", str(root), "--save_folder",
                           str(tmp_path / "prep")], cwd=DNS_RECIPE, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert "missing clean/ or clean_fullband/" in proc.stderr and "noise/" in proc.stderr
    assert "datasets_fullband" in proc.stderr  # the release folder to point at
    assert not (tmp_path / "prep").exists(), "nothing is written before the layout is checked"


def test_partial_copy_is_reported_with_counts(releases, tmp_path):
    import shutil

    data = tmp_path / "datasets"
    shutil.copytree(releases[1], data)
    (data / "test_set/synthetic/no_reverb/clean/clean_fileid_2.wav").unlink()
    with pytest.raises(PreparationError, match=r"1 of 3 noisy files have no clean twin.*fileid_2"):
        prepare_test_sets(tmp_path / "prep", data)

    full = tmp_path / "datasets_fullband"
    shutil.copytree(releases[2], full)
    (full / "clean_fullband" / CLEAN[1]).write_bytes(b"")  # an interrupted copy
    with open(full / "clean_fullband" / CLEAN[2], "r+b") as f:
        f.truncate(40)
    with pytest.raises(PreparationError, match=r"2 of 4 files are unusable"):
        prepare_dns(tmp_path / "prep2", data_folder=full, min_duration=1.0)


def test_paired_preparation_uses_the_same_cache(releases, tmp_path):
    import shutil

    data = tmp_path / "datasets_fullband"
    shutil.copytree(releases[2], data)
    for i in range(2):  # the recipe's own validation pairs (not part of the DNS release)
        write_wav(data / "valid_set" / "denoise" / "noisy" / f"fileid_{i}.wav", 48000, seed=90 + i)
        write_wav(data / "valid_set" / "denoise" / "clean" / f"fileid_{i}.wav", 48000, seed=95 + i)
    save = tmp_path / "prep"
    prepare_dns(save, data_folder=data, min_duration=1.0)
    cache = {p: p.stat().st_mtime_ns for p in (save / "resampled").rglob("*.wav")}
    prepare_paired(save, "denoise", 0.5, data_folder=data, min_paired_utterances=2, min_duration=1.0)
    assert {p: p.stat().st_mtime_ns for p in (save / "resampled").rglob("*.wav")} == cache  # nothing resampled twice
    paired = manifest(save / "paired_clean_0.5.json")
    assert len(paired) == 2 and all(e["wav"].startswith(str(save / "resampled" / "clean")) for e in paired.values())
    assert all(str(save) in e["wav"] for e in manifest(save / "finetune_noise.json").values())


def test_release_without_valid_set_gets_fixed_held_out_validation_pairs(releases, tmp_path):
    data = releases[2]
    runs = [tmp_path / "prep1", tmp_path / "prep2"]
    for save in runs:
        for task in ("denoise", "dereverb"):
            prepare_paired(save, task, 1.0, data_folder=data, min_paired_utterances=3, min_duration=1.0)
    save = runs[0]
    for task, input_name in (("denoise", "noisy"), ("dereverb", "reverb")):
        valid = manifest(save / f"valid_{task}.json")
        assert len(valid) == 1  # a tenth of the 4 utterances, at least one
        uid, entry = next(iter(valid.items()))
        assert entry["wav"] == str(save / "valid_pairs" / task / input_name / f"{uid}.wav")
        assert sf.info(entry["wav"]).samplerate == sf.info(entry["clean_wav"]).samplerate == 16000
        assert uid not in manifest(save / "paired_clean_1.json"), "a validation utterance is also a training pair"
        assert len(manifest(save / "paired_clean_1.json")) == len(CLEAN) - 1
    assert len(manifest(save / "finetune_noise.json")) == len(NOISE) - 1  # one noise file held out
    assert len(manifest(save / "finetune_rirs.json")) == len(RIRS) - 1
    assert snapshot(runs[0] / "valid_pairs") == snapshot(runs[1] / "valid_pairs"), "validation pairs not reproducible"
    with pytest.raises(PreparationError, match="once 1 are held out for the validation pairs; min_paired_utterances"):
        prepare_paired(tmp_path / "prep3", "denoise", 1.0, data_folder=data, min_paired_utterances=4, min_duration=1.0)


def test_target_filter_writes_filtered_targets_beside_the_unfiltered_manifest(releases, tmp_path):
    from maese.audio import load_audio
    from maese.baselines import wiener_filter

    data, save = releases[1], tmp_path / "prep"
    prepare_paired(save, "denoise", 1.0, data_folder=data, min_paired_utterances=3, min_duration=1.0)
    prepare_paired(save, "denoise", 1.0, data_folder=data, min_paired_utterances=3, min_duration=1.0,
                   target_filter="wiener")
    plain, filtered = manifest(save / "paired_clean_1.json"), manifest(save / "paired_clean_1_wiener.json")
    assert filtered.keys() == plain.keys()
    for uid, entry in filtered.items():
        assert entry["wav"] == str(save / "targets_wiener" / f"{uid}.wav")
        expected = wiener_filter(load_audio(plain[uid]["wav"], 16000))
        written = sf.read(entry["wav"], dtype="float32")[0]
        assert np.abs(written - expected).max() < 2e-4  # 16-bit copy of the filter's output
        assert np.abs(written - load_audio(plain[uid]["wav"], 16000).numpy()).max() > 1e-3  # not the recording
    # a run killed while filtering: the marker never written, one target missing
    (save / "paired_denoise_1_wiener_done.json").unlink()
    lost = save / "targets_wiener" / f"{sorted(filtered)[0]}.wav"
    lost.unlink()
    stamps = {p: p.stat().st_mtime_ns for p in (save / "targets_wiener").glob("*.wav")}
    prepare_paired(save, "denoise", 1.0, data_folder=data, min_paired_utterances=3, min_duration=1.0,
                   target_filter="wiener")
    assert lost.is_file() and manifest(save / "paired_clean_1_wiener.json") == filtered
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # the targets already written are kept
    with pytest.raises(PreparationError, match="target_filter 'wiener2' is not a method of maese.baselines"):
        prepare_paired(tmp_path / "prep2", "denoise", 1.0, data_folder=data, target_filter="wiener2")


def read_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("fullband", [False, True], ids=["16k", "48k-fullband"])
def test_run_sh_prepares_fine_tunes_and_scores_the_synthetic_test_sets(releases, tmp_path, fullband):
    data = releases[2] if fullband else releases[1]
    before = snapshot(data)
    results = tmp_path / "results"
    run_recipe(["run.sh", "--size", "tiny", "--data_folder", data, "--results", results, "--tasks", "denoise",
                "--real_data", "none", "--pretrained_folder", fake_pretraining(tmp_path / "pretrain" / "save"),
                "--python", sys.executable,
                "--", "--device", "cpu", "--finetune_epochs", 1, "--min_paired_utterances", 3],
               launcher=["bash"], env={"METRICS": "pesq stoi estoi si_sdr"})
    assert snapshot(data) == before, "the pipeline wrote into the data folder"
    assert (results / "finetune_denoise" / "valid_metrics.json").is_file()
    assert manifest(results / "prepared" / "valid_denoise.json"), "no validation pairs"
    report = (results / "RESULTS.md").read_text()
    for name in ("no_reverb", "with_reverb"):
        out = results / "eval" / f"synthetic_{name}_denoise"
        assert f"test_set/synthetic/{name}/denoise" in report
        for system in ("unprocessed", "spectral_gating", "wiener", "rnnoise", "deepfilternet3", "mae", "scratch"):
            rows = read_rows(out / f"{system}.csv")
            assert [r["file"] for r in rows] == [f"fileid_{i}.wav" for i in range(len(TEST_NOISY))]
            assert all(not r["error"] and math.isfinite(float(r["si_sdr"])) for r in rows), (system, rows)
