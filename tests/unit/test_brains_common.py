"""maese.brains.common: checkpointed generator, random crops, validation every N epochs."""

import pytest
import torch
from speechbrain.utils.checkpoints import Checkpointer
from speechbrain.utils.epoch_loop import EpochCounter
from speechbrain.utils.train_logger import FileTrainLogger

from maese.brains.common import CheckpointedGenerator, LoggedBrain, random_crops
from maese.hparams import HparamError


def test_checkpointed_generator_restores_state(tmp_path):
    gen = CheckpointedGenerator(3)
    torch.rand(5, generator=gen.generator)
    gen.save(tmp_path / "rng.ckpt")
    expected = torch.rand(5, generator=gen.generator)
    other = CheckpointedGenerator(99)
    other.load(tmp_path / "rng.ckpt")
    assert torch.equal(torch.rand(5, generator=other.generator), expected)


def test_random_crops_stay_inside_true_length():
    wav = torch.zeros(3, 100)
    for i, n in enumerate([100, 60, 40]):
        wav[i, :n] = torch.arange(1, n + 1).float()
    lengths = torch.tensor([1.0, 0.6, 0.4])
    gen = torch.Generator().manual_seed(0)
    for _ in range(50):
        crops = random_crops(wav, lengths, 40, gen)
        assert crops.shape == (3, 40)
        assert (crops > 0).all(), "a crop reached into the zero padding"
        assert (crops[:, 1:] - crops[:, :-1] == 1).all(), "crops must be contiguous"
    assert torch.equal(random_crops(wav, lengths, 40, gen)[2], wav[2, :40])


def test_random_crops_pad_short_and_are_seeded():
    wav = torch.ones(2, 10)
    assert random_crops(wav, torch.ones(2), 16, torch.Generator()).shape == (2, 16)
    wav = torch.randn(4, 1000)
    a = random_crops(wav, torch.ones(4), 100, torch.Generator().manual_seed(1))
    b = random_crops(wav, torch.ones(4), 100, torch.Generator().manual_seed(1))
    c = random_crops(wav, torch.ones(4), 100, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


class LinearBrain(LoggedBrain):
    """The smallest LoggedBrain: a linear map fitted to y = 2x; the validation loss falls epoch by epoch."""

    check_hparams = staticmethod(lambda hparams: None)

    def compute_forward(self, batch, stage):
        return self.modules.model(batch[0])

    def compute_objectives(self, predictions, batch, stage):
        return (predictions - batch[1]).abs().mean()

    def stage_metrics(self, loss):
        return {"loss": loss}

    def on_stage_start(self, stage, epoch=None):
        self.plot_example = {"epoch": epoch}

    def plot(self, path, epoch):
        path.write_text(f"{epoch}")


def fit_linear(tmp_path, epochs, stop_after=None, **hparams):
    """Fit LinearBrain for ``epochs`` (or stop after ``stop_after`` of them, as if killed); returns (train_log
    text, checkpointer)."""
    x = torch.randn(32, 1, generator=torch.Generator().manual_seed(0))
    data = list(zip(x.split(8), (2 * x).split(8)))
    model = torch.nn.Linear(1, 1)
    torch.nn.init.zeros_(model.weight)
    counter = EpochCounter(epochs)
    checkpointer = Checkpointer(tmp_path / "save", {"model": model, "counter": counter})
    brain = LinearBrain(
        modules={"model": model}, opt_class=lambda p: torch.optim.SGD(p, lr=0.1), checkpointer=checkpointer,
        hparams={"seed": 1, "epoch_counter": counter, "train_logger": FileTrainLogger(tmp_path / "log.txt"),
                 "plot_folder": tmp_path, "metrics_file": tmp_path / "m.json", **hparams},
        run_opts={"device": "cpu"},
    )
    brain.fit(EpochCounter(stop_after) if stop_after else counter, data, data, progressbar=False)
    return (tmp_path / "log.txt").read_text(), checkpointer


def test_validation_runs_every_n_epochs_and_after_the_last(tmp_path):
    log, checkpointer = fit_linear(tmp_path, 5, valid_every=2)
    lines = log.splitlines()
    assert len(lines) == 5 and all(line.startswith(f"epoch: {i + 1},") for i, line in enumerate(lines))
    assert ["valid loss" in line for line in lines] == [False, True, False, True, True]
    validated = [float(line.split("valid loss: ")[1]) for line in lines if "valid loss" in line]
    best = checkpointer.find_checkpoint(min_key="loss")
    assert best.meta["loss"] == pytest.approx(min(validated), rel=1e-2)  # picked among validated epochs only
    killed, checkpointer = fit_linear(tmp_path / "killed", 5, stop_after=3, valid_every=2)
    assert "valid loss" not in killed.splitlines()[2]
    latest = checkpointer.find_checkpoint().meta
    assert latest["validated"] is False and "loss" not in latest  # epoch 3: resume from here, never the best
    assert checkpointer.find_checkpoint(min_key="loss").meta["loss"] == pytest.approx(
        float(killed.splitlines()[1].split("valid loss: ")[1]), rel=1e-2)  # the best: epoch 2, validated
    every, _ = fit_linear(tmp_path / "every", 3)
    assert all("valid loss" in line for line in every.splitlines())


def test_plots_at_every_nth_validation_and_the_last(tmp_path):
    fit_linear(tmp_path, 7, plot_every=3)
    assert sorted(p.name for p in tmp_path.glob("epoch_*.png")) == ["epoch_003.png", "epoch_006.png", "epoch_007.png"]
    fit_linear(tmp_path / "every", 2)
    assert sorted(p.name for p in (tmp_path / "every").glob("epoch_*.png")) == ["epoch_001.png", "epoch_002.png"]


@pytest.mark.parametrize("key", ["valid_every", "plot_every"])
def test_bad_valid_or_plot_every_names_the_key(tmp_path, key):
    with pytest.raises(HparamError, match=key):
        fit_linear(tmp_path, 1, **{key: 0})
