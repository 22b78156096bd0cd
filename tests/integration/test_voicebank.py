"""recipes/Voicebank on a miniature copy of the corpus (its real folder and file names, 48 kHz audio):
prepare (resampled cache), one tiny fine-tuning epoch from a pre-trained encoder, scratch, scoring,
the out-of-domain stage; and bad input (wrong folder, partial copy)."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO, assert_all_scored, assert_run_recorded, load_recipe_module, run_pairs_recipe

VOICEBANK = REPO / "recipes" / "Voicebank"
RATE = 48000
TRAIN_SPEAKERS, TEST_SPEAKERS = ("p226", "p227", "p287"), ("p232", "p257")
BASELINES = ("spectral_gating", "wiener", "rnnoise", "deepfilternet3")
vb = load_recipe_module("Voicebank", "prepare")


def make_voicebank(root, utterances=2, seconds=1.5):
    """A miniature VoiceBank-DEMAND: the four folders, ``pXXX_00N.wav`` twins, 48 kHz, 16-bit."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    for speakers, split in ((TRAIN_SPEAKERS, "train"), (TEST_SPEAKERS, "test")):
        clean_name, noisy_name = vb.SPLITS[split]
        for folder in (clean_name, noisy_name):
            (root / folder).mkdir(parents=True)
        for s, spk in enumerate(speakers):
            for i in range(1, utterances + 1):
                f0 = 110 + 20 * s + 7 * i
                clean = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
                clean *= 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)  # syllable-rate envelope
                clean = 0.2 * clean / np.abs(clean).max()
                noisy = clean + 0.05 * rng.standard_normal(t.size)
                sf.write(root / clean_name / f"{spk}_{i:03d}.wav", clean, RATE, subtype="PCM_16")
                sf.write(root / noisy_name / f"{spk}_{i:03d}.wav", noisy, RATE, subtype="PCM_16")
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_voicebank(tmp_path_factory.mktemp("vb") / "VoiceBank")


def test_prepare_resamples_into_a_cache_and_splits_by_speaker(corpus, tmp_path):
    before = sorted(p.relative_to(corpus) for p in corpus.rglob("*"))
    vb.prepare_voicebank(tmp_path / "prep", str(corpus), str(tmp_path / "cache"))
    assert sorted(p.relative_to(corpus) for p in corpus.rglob("*")) == before  # never written to
    train, valid, test = (json.loads((tmp_path / "prep" / f"{n}.json").read_text()) for n in ("train", "valid", "test"))
    assert sorted(train) == ["p227_001", "p227_002"]
    assert sorted(valid) == ["p226_001", "p226_002", "p287_001", "p287_002"]
    assert sorted(test) == [f"{s}_00{i}" for s in TEST_SPEAKERS for i in (1, 2)]
    entry = test["p232_001"]
    assert entry["wav"] == str((tmp_path / "cache" / "noisy_testset_wav" / "p232_001.wav").resolve())
    assert entry["clean_wav"] == str((tmp_path / "cache" / "clean_testset_wav" / "p232_001.wav").resolve())
    info = sf.info(entry["wav"])
    assert info.samplerate == 16000 and info.frames == 24000
    vb.prepare_voicebank(tmp_path / "prep", str(corpus), str(tmp_path / "cache"))  # done: skipped


def test_a_wrong_data_folder_names_the_expected_folders(tmp_path):
    dns_like = tmp_path / "DNS"
    for name in ("clean", "noise", "clean_testset_wav"):
        (dns_like / name).mkdir(parents=True)
    with pytest.raises(vb.PreparationError) as err:
        vb.prepare_voicebank(tmp_path / "prep", str(dns_like), str(tmp_path / "cache"))
    message = str(err.value)
    for name in ("clean_trainset_28spk_wav", "noisy_trainset_28spk_wav", "noisy_testset_wav"):
        assert name in message
    assert "missing clean_testset_wav" not in message and not (tmp_path / "cache").exists()
    with pytest.raises(vb.PreparationError, match="does not exist"):
        vb.prepare_voicebank(tmp_path / "prep", str(tmp_path / "nowhere"), str(tmp_path / "cache"))


def test_a_partial_copy_is_reported_with_counts(corpus, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(corpus, partial)
    (partial / "noisy_trainset_28spk_wav" / "p227_002.wav").unlink()
    with pytest.raises(vb.PreparationError) as err:
        vb.prepare_voicebank(tmp_path / "prep", str(partial), str(tmp_path / "cache"))
    message = str(err.value)
    assert "(6 clean_trainset_28spk_wav, 5 noisy_trainset_28spk_wav, 5 paired)" in message
    assert "1 clean_trainset_28spk_wav files without their noisy_trainset_28spk_wav twin" in message
    assert "p227_002.wav" in message and not (tmp_path / "prep" / "train.json").exists()


def test_a_truncated_twin_is_reported(corpus, tmp_path):
    partial = tmp_path / "truncated"
    shutil.copytree(corpus, partial)
    path = partial / "noisy_testset_wav" / "p257_001.wav"
    data, rate = sf.read(path)
    sf.write(path, data[: len(data) // 2], rate)
    with pytest.raises(vb.PreparationError, match=r"1 of 4 pairs .* differ in length, e.g. \['p257_001.wav"):
        vb.prepare_voicebank(tmp_path / "prep", str(partial), str(tmp_path / "cache"))


def test_train_py_stops_at_once_on_a_wrong_data_folder(tmp_path):
    args = [sys.executable, "train.py", "hparams/scratch.yaml", "--size", "tiny", "--device", "cpu",
            "--data_folder", tmp_path, "--cache_folder", tmp_path / "cache", "--prep_folder", tmp_path / "prep",
            "--output_folder", tmp_path / "out"]
    bad = subprocess.run([str(a) for a in args], cwd=VOICEBANK, capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "missing clean_trainset_28spk_wav" in bad.stdout + bad.stderr


def test_run_sh_finetunes_trains_from_scratch_and_scores(corpus, tmp_path):
    options = ["--dns_model", tmp_path / "results" / "finetune"]
    results, proc = run_pairs_recipe("Voicebank", corpus, tmp_path, *options)
    assert_run_recorded(results, "--data_folder")
    assert "Encoder from" in proc.stdout + proc.stderr
    for name in ("finetune", "scratch"):
        out = results / name
        assert (out / ".done").exists() and (out / "inference.json").exists()
        metrics = json.loads((out / "valid_metrics.json").read_text())
        assert {"loss", "si_sdr", "pesq", "stoi"} <= set(metrics)
        enhanced = sorted(p.name for p in (out / "enhanced" / "test").glob("*.wav"))
        assert enhanced == [f"{s}_00{i}.wav" for s in TEST_SPEAKERS for i in (1, 2)]
        assert sf.info(out / "enhanced" / "test" / enhanced[0]).samplerate == 16000
    systems = {"eval": ("unprocessed", *BASELINES, "mae", "scratch"), "dns_ood": ("unprocessed", "dns")}
    for table, rows in systems.items():
        assert_all_scored(results / table / "results.md", rows, files=4, metrics=3)  # pesq, stoi, si_sdr
    assert len(list((results / "dns_ood" / "enhanced").glob("*.wav"))) == 4
    _, again = run_pairs_recipe("Voicebank", corpus, tmp_path, *options)
    assert again.stdout.count("is done") == 2 and again.stdout.count("exists; skipped") == 2
    _, rescored = run_pairs_recipe("Voicebank", corpus, tmp_path, *options, "--metrics", "pesq si_sdr")
    assert rescored.stdout.count("was scored with other metrics; scored again") == 2
    for table, rows in systems.items():
        assert "- metrics: pesq, si_sdr at 16000 Hz" in (results / table / "results.md").read_text()
        assert_all_scored(results / table / "results.md", rows, files=4, metrics=2)


@pytest.mark.parametrize("args, message", [(["--bogus", "1"], "unknown option --bogus"),
                                           (["--size", "huge", "--data_folder", "x"], "--size: unknown value 'huge'"),
                                           ([], "--data_folder: give the VoiceBank-DEMAND folder"),
                                           (["--data_folder"], "option --data_folder needs a value"),
                                           (["--data_folder", "x", "--metrics", "pesq mos"],
                                            "--metrics: unknown metric 'mos'")])
def test_run_sh_refuses_bad_options_before_any_work(args, message):
    bad = subprocess.run(["bash", "run.sh", *args], cwd=VOICEBANK, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and message in bad.stderr
