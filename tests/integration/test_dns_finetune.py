"""recipes/DNS fine-tuning end to end on the tiny corpus: pretrain -> finetune / scratch, outputs, resume, errors."""

import json
import math
import shutil
import subprocess
import sys

import pytest
import soundfile as sf

from conftest import DNS_RECIPE, run_recipe
from test_dns_pretrain import epoch_losses, pretrain_args

sys.path.insert(0, str(DNS_RECIPE))
from dns_paired import paired_subset  # noqa: E402


def finetune_args(hparams, corpus, prep, pretrained, out, *extra):
    args = ["train.py", f"hparams/{hparams}.yaml", "--size", "tiny", "--device", "cpu", "--corpus_folder", corpus,
            "--prep_folder", prep, "--output_folder", out, "--pretrained_folder", pretrained, *extra]
    return [str(a) for a in args]


@pytest.fixture(scope="module")
def setup(tiny_corpus, tmp_path_factory):
    """(corpus, prep folder, pre-training save folder) after a tiny pre-training."""
    prep, out = tmp_path_factory.mktemp("prepared"), tmp_path_factory.mktemp("pretrain")
    run_recipe(pretrain_args(tiny_corpus, prep, out, "--number_of_epochs", 2))
    return tiny_corpus, prep, out / "save"


@pytest.fixture(scope="module")
def runs(setup, tmp_path_factory):
    """Output folders of a tiny finetune_denoise and scratch_denoise, and the fine-tuning log."""
    folders = {}
    for name in ("finetune_denoise", "scratch_denoise"):
        folders[name] = tmp_path_factory.mktemp(name)
        proc = run_recipe(finetune_args(name, *setup, folders[name]))
        folders[f"{name}_output"] = proc.stdout + proc.stderr
    return folders


def test_paired_subsets_are_nested_and_reproducible():
    ids = [f"utt{i}" for i in range(200)]
    small, medium, full = (paired_subset(ids, f, seed=3) for f in (0.01, 0.1, 1.0))
    assert (len(small), len(medium), len(full)) == (5, 20, 200)  # 1% is raised to the minimum, 5
    assert set(small) <= set(medium) <= set(full) == set(ids)
    assert paired_subset(list(reversed(ids)), 0.1, seed=3) == medium
    assert paired_subset(ids, 0.1, seed=4) != medium
    assert len(paired_subset(ids[:100], 0.07, seed=3)) == 7  # 0.07 * 100 is 7.000000000000001


@pytest.mark.parametrize("name", ["finetune_denoise", "scratch_denoise"])
def test_training_logs_valid_metrics_and_enhances_every_test_file(runs, setup, name):
    corpus, prep, _ = setup
    out = runs[name]
    losses = epoch_losses(out / "train_log.txt")
    assert sorted(losses) == [1, 2] and all(math.isfinite(valid) for _, valid in losses.values())  # < 0: SI-SDR term
    assert ("Encoder from" in runs[f"{name}_output"]) == name.startswith("finetune")
    metrics = json.loads((out / "valid_metrics.json").read_text())
    expected = {"loss", "input_l1", "si_sdr", "si_sdr_input", "si_sdr_improvement", "pesq", "pesq_input", "stoi",
                "estoi", "estoi_input"}
    assert expected <= set(metrics)
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == ["epoch_001.png", "epoch_002.png"]
    assert json.loads((prep / "paired_clean_0.1.json").read_text())
    inputs = {"valid": corpus / "valid_set", "indomain": corpus / "test_set" / "indomain",
              "ood": corpus / "test_set" / "ood"}
    for split, folder in inputs.items():
        noisy = sorted((folder / "denoise" / "noisy").glob("*.wav"))
        enhanced = sorted((out / "enhanced" / split / "denoise").glob("*.wav"))
        assert [p.name for p in enhanced] == [p.name for p in noisy]
        for a, b in zip(noisy, enhanced):
            info = sf.info(b)
            assert info.samplerate == 16000 and info.frames == sf.info(a).frames
    assert not (out / "enhanced" / "valid" / "dereverb").exists()


def test_resume_continues_the_same_loss_curve(runs, setup, tmp_path):
    out = tmp_path / "resumed"
    run_recipe(finetune_args("scratch_denoise", *setup, out, "--finetune_epochs", 1))
    shutil.rmtree(out / "enhanced")  # as if killed after epoch 1, before the enhancement stage
    proc = run_recipe(finetune_args("scratch_denoise", *setup, out))
    assert "Going into epoch 1" not in proc.stdout + proc.stderr
    straight, resumed = epoch_losses(runs["scratch_denoise"] / "train_log.txt"), epoch_losses(out / "train_log.txt")
    assert sorted(resumed) == [1, 2]
    for epoch in (1, 2):
        # Resumed fine-tuning matches to ~0.1% (not bit-exact yet: see the notes), a wrong resume by far more.
        assert straight[epoch] == pytest.approx(resumed[epoch], rel=5e-3), f"epoch {epoch}"
    assert len(list((out / "enhanced" / "ood" / "denoise").glob("*.wav"))) == 3


def test_bad_pretrained_folder_is_named_before_any_work(setup, tmp_path):
    corpus, _, _ = setup
    missing = tmp_path / "no_pretraining" / "save"
    args = finetune_args("finetune_dereverb", corpus, tmp_path / "prep", missing, tmp_path / "out")
    bad = subprocess.run([sys.executable, *args], cwd=DNS_RECIPE, capture_output=True, text=True)
    message = bad.stdout + bad.stderr
    assert bad.returncode != 0 and f"hparam pretrained_folder: pretrained_folder {missing}" in message
    assert not (tmp_path / "prep").exists()


def test_a_training_seed_shares_the_data_preparation_and_a_data_seed_does_not(runs, setup, tmp_path):
    corpus, prep, pretrained = setup
    manifest = (prep / "paired_clean_0.1.json").read_text()
    other = finetune_args("scratch_denoise", corpus, prep, pretrained, tmp_path / "seed7", "--seed", 7,
                          "--finetune_epochs", 1)
    run_recipe(other)
    first, second = (epoch_losses(out / "train_log.txt")[1] for out in (runs["scratch_denoise"], tmp_path / "seed7"))
    assert first != second  # another initialisation and other batches, on the same prepared pairs
    assert (prep / "paired_clean_0.1.json").read_text() == manifest
    args = finetune_args("scratch_denoise", corpus, prep, pretrained, tmp_path / "data7", "--data_seed", 7)
    bad = subprocess.run([sys.executable, *args], cwd=DNS_RECIPE, capture_output=True, text=True)
    assert bad.returncode != 0 and "changed: ['seed']" in bad.stdout + bad.stderr
    assert not (tmp_path / "data7" / "train_log.txt").exists()
