"""recipes/DNS pre-training end to end on the tiny corpus: learning, outputs, resume, DDP, bad input."""

import json
import re
import sys

import pytest

from conftest import run_recipe


def epoch_losses(train_log):
    """{epoch: (train loss, valid loss)} parsed from SpeechBrain's train_log.txt."""
    rows = re.findall(r"epoch: (\d+).*?train loss: ([\d.e+-]+) - valid loss: ([\d.e+-]+)", train_log.read_text())
    return {int(e): (float(t), float(v)) for e, t, v in rows}


def pretrain_args(corpus, prep, out, *extra):
    args = ["train.py", "hparams/pretrain.yaml", "--size", "tiny", "--device", "cpu",
            "--corpus_folder", corpus, "--prep_folder", prep, "--output_folder", out, *extra]
    return [str(a) for a in args]


@pytest.fixture(scope="module")
def prep_folder(tiny_corpus, tmp_path_factory):
    return tmp_path_factory.mktemp("prepared")


def test_pretrain_learns_and_writes_outputs(tiny_corpus, prep_folder, tmp_path):
    out = tmp_path / "exp"
    run_recipe(pretrain_args(tiny_corpus, prep_folder, out, "--number_of_epochs", 4, "--plot_every", 3))
    losses = epoch_losses(out / "train_log.txt")
    assert sorted(losses) == [1, 2, 3, 4]
    assert losses[4][0] < losses[1][0], f"train loss did not go down: {losses}"
    for name in ("pretrain_train.json", "pretrain_valid.json", "stack_noise.json", "stack_rirs.json"):
        assert json.loads((prep_folder / name).read_text())
    metrics = json.loads((out / "valid_metrics.json").read_text())
    for key in ("visible_input_l1", "visible_recon_l1", "masked_recon_l1", "masked_meanpatch_l1"):
        assert metrics[key] > 0
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == ["epoch_003.png", "epoch_004.png"]  # and the last
    assert list((out / "save").glob("CKPT*/model.ckpt"))


def test_resume_continues_the_same_loss_curve(tiny_corpus, prep_folder, tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    run_recipe(pretrain_args(tiny_corpus, prep_folder, straight, "--number_of_epochs", 3))
    run_recipe(pretrain_args(tiny_corpus, prep_folder, resumed, "--number_of_epochs", 2))
    proc = run_recipe(pretrain_args(tiny_corpus, prep_folder, resumed, "--number_of_epochs", 3))
    assert "Going into epoch 1" not in proc.stdout + proc.stderr
    a, b = epoch_losses(straight / "train_log.txt"), epoch_losses(resumed / "train_log.txt")
    assert sorted(b) == [1, 2, 3]
    for epoch in (1, 2, 3):
        assert a[epoch] == pytest.approx(b[epoch], rel=1e-3), f"epoch {epoch}: {a[epoch]} vs {b[epoch]}"


def test_ddp_two_processes_on_cpu(tiny_corpus, prep_folder, tmp_path):
    out = tmp_path / "ddp"
    # --standalone: the rendezvous on a free port of localhost (a fixed port fails when another job holds it)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    run_recipe(pretrain_args(tiny_corpus, prep_folder, out, "--number_of_epochs", 2, "--distributed_backend", "gloo"),
               launcher=launcher)
    assert sorted(epoch_losses(out / "train_log.txt")) == [1, 2]
    assert json.loads((out / "valid_metrics.json").read_text())["loss"] > 0


def test_bad_hparam_and_bad_data_folder_are_named(tiny_corpus, tmp_path):
    import subprocess

    from conftest import DNS_RECIPE

    bad = subprocess.run([sys.executable, *pretrain_args(tiny_corpus, tmp_path / "p", tmp_path / "o", "--mask_ratio", 1.5)],
                         cwd=DNS_RECIPE, capture_output=True, text=True)
    assert bad.returncode != 0 and "hparam mask_ratio: got 1.5" in bad.stdout + bad.stderr
    assert not (tmp_path / "p").exists(), "a bad hparam must fail before data preparation"
    wrong = tmp_path / "not_dns"
    (wrong / "clean").mkdir(parents=True)
    bad = subprocess.run([sys.executable, *pretrain_args(tiny_corpus, tmp_path / "p2", tmp_path / "o2",
                                                        "--data_folder", wrong)],
                         cwd=DNS_RECIPE, capture_output=True, text=True)
    message = bad.stdout + bad.stderr
    assert bad.returncode != 0 and "missing noise/" in message and "impulse_responses/" in message
