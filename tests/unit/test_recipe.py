"""maese.recipe: thin stage files, task dispatch and its errors, split enhancement, the fixed-pairs option."""

import logging
import types
import weakref

import pytest
import torch
import yaml

from maese import recipe
from maese.brains.finetune import check_finetune_hparams
from maese.hparams import HparamError

BASE = """\
task: demo
size: null
seed: 3
output_folder: {out}
"""


def write_hparams(tmp_path, text=BASE):
    path = tmp_path / "hparams" / "base.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text.format(out=tmp_path / "exp"))
    return path


def test_a_plain_file_is_its_own_base(tmp_path):
    path = write_hparams(tmp_path)
    assert recipe.resolve_base(str(path), "seed: 4") == (str(path), "seed: 4")


def test_a_thin_file_names_its_base_and_the_command_line_wins(tmp_path):
    base = write_hparams(tmp_path)
    thin = base.parent / "thin.yaml"
    thin.write_text("base: base.yaml\nseed: 5\ntask: other\n")
    file, overrides = recipe.resolve_base(str(thin), "seed: 6\n")
    assert file == str(base) and overrides == {"seed": 6, "task": "other"}


def test_main_checks_prepares_and_runs_the_task_in_order(tmp_path):
    calls = []
    tasks = {"demo": (lambda h: calls.append(("prepare", h["seed"])),
                      lambda h, run_opts: calls.append(("run", run_opts["device"])),
                      lambda h: calls.append(("check", h["task"])))}
    recipe.main([str(write_hparams(tmp_path)), "--seed", "7", "--device", "cpu"], tasks)
    assert calls == [("check", "demo"), ("prepare", 7), ("run", "cpu")]
    assert (tmp_path / "exp" / "hyperparams.yaml").is_file()


def test_the_saved_hyperparams_show_the_size_preset_and_the_overrides_that_ran(tmp_path):
    path = write_hparams(tmp_path, BASE.replace("size: null", "size: small") + "epochs: 12\nwidth: 4\n")
    (path.parent / "sizes").mkdir()
    for size, epochs in (("tiny", 1), ("small", 36), ("paper", 100)):
        (path.parent / "sizes" / f"{size}.yaml").write_text(f"epochs: {epochs}\nwidth: 8\n")
    tasks = {"demo": (lambda h: None, lambda h, run_opts: None, lambda h: None)}
    recipe.main([str(path), "--width", "16"], tasks)
    saved = yaml.safe_load((tmp_path / "exp" / "hyperparams.yaml").read_text())
    assert (saved["epochs"], saved["width"]) == (36, 16)


def test_an_unknown_task_is_named_before_any_work(tmp_path):
    with pytest.raises(HparamError, match=r"hparam task: unknown value 'demo'; use one of \['finetune'\]"):
        recipe.main([str(write_hparams(tmp_path))], {"finetune": (None, None, None)})
    assert not (tmp_path / "exp").exists()


class Halve(torch.nn.Module):
    """A stand-in enhancement model: half the input."""

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))  # the Enhancer finds the device from a parameter

    def forward(self, wav):
        return type("Out", (), {"wav": wav / 2})()


def test_enhance_splits_writes_each_split_in_chunks_of_the_training_crop_and_skips_missing_inputs(
        tmp_path, caplog, monkeypatch):
    import soundfile as sf

    from maese import enhance

    inputs = tmp_path / "in"
    inputs.mkdir()
    sf.write(inputs / "a.wav", 0.1 * torch.randn(8000).numpy(), 16000)
    hparams = {"model": Halve(), "enhanced_folder": str(tmp_path / "enh"), "sample_rate": 16000, "segment_seconds": 0.2}
    chunkings = []
    monkeypatch.setattr(enhance.Enhancer, "enhance_file", lambda self, *args, _real=enhance.Enhancer.enhance_file:
                        (chunkings.append((self.chunk_seconds, self.overlap_seconds)), _real(self, *args))[1])
    with caplog.at_level(logging.WARNING):
        done = recipe.enhance_splits(hparams, "model-1", {"test/denoise": inputs, "valid": tmp_path / "missing"})
    assert done == {"test/denoise": tmp_path / "enh" / "test" / "denoise"}
    out, _ = sf.read(done["test/denoise"] / "a.wav")
    ref, _ = sf.read(inputs / "a.wav")
    assert out == pytest.approx(ref / 2, abs=1e-4)
    assert "No valid inputs" in caplog.text
    assert chunkings == [(0.2, 0.1)]  # the model sees what it was trained on: chunks of its crop, half overlapping


def test_train_pairs_must_be_on_the_fly_or_fixed():
    from test_finetune_brain import GOOD

    check_finetune_hparams({**GOOD, "train_pairs": "fixed"})
    with pytest.raises(HparamError, match="hparam train_pairs: got 'static'"):
        check_finetune_hparams({**GOOD, "train_pairs": "static"})


def test_training_on_a_corpus_pairs_needs_train_pairs_fixed():
    with pytest.raises(HparamError, match="hparam train_pairs: got 'on_the_fly', expected 'fixed'"):
        recipe.finetune_on_pairs({"train_pairs": "on_the_fly"}, {}, {})


def test_end_distributed_releases_the_run_then_waits_and_destroys_the_process_group(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(recipe, "ddp_barrier", lambda: calls.append(("barrier", ddp_alive())))
    destroy = torch.distributed.destroy_process_group
    monkeypatch.setattr(torch.distributed, "destroy_process_group", lambda: (calls.append(("destroy", ddp_alive())),
                                                                             destroy()))
    kept = {"kept": 1}
    recipe.end_distributed(kept)  # one process, no group: nothing to do
    assert calls == [] and kept == {"kept": 1}
    torch.distributed.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    brain = types.SimpleNamespace(modules={"model": torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2))})
    checkpointer = types.SimpleNamespace(recoverables={"brain": brain})
    brain.checkpointer = checkpointer  # a cycle, as sb.Brain and its Checkpointer make
    ddp_alive = weakref.ref(brain.modules["model"])
    hparams = {"checkpointer": checkpointer}
    del brain, checkpointer
    recipe.end_distributed(hparams)
    # the DDP module (which holds the group) was gone before the barrier, the barrier came before the destroy
    assert calls == [("barrier", None), ("destroy", None)] and hparams == {}
    assert not torch.distributed.is_initialized()
