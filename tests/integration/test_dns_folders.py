"""recipes/DNS/run.sh --speech_folder/--noise_folder: the whole pipeline from plain folders laid out like
shared/data/real (speech/{train,valid,test}/<speaker>/*.flac, noise/{train,valid,test}/*.flac), at size tiny."""

import json
import math
import sys

import pytest
from conftest import REPO, run_recipe

from maese.scoring import read_scores

sys.path.insert(0, str(REPO / "tests" / "unit"))
from folders_fixtures import noise_folder, speech_folder  # noqa: E402

TASKS = ("denoise", "dereverb")


@pytest.fixture(scope="module")
def folders_run(tmp_path_factory):
    """(results folder, speech folder, run.sh output) of the tiny pipeline on miniature plain folders."""
    root = tmp_path_factory.mktemp("folders")
    speech = speech_folder(root / "real" / "speech", speakers=(4, 1, 1), files=3)
    noise = noise_folder(root / "real" / "noise")
    results = root / "results"
    proc = run_recipe(["run.sh", "--size", "tiny", "--python", sys.executable, "--speech_folder", speech,
                       "--noise_folder", noise, "--results", results, "--fractions", "0.5", "--real_data", "none"],
                      launcher=["bash"], env={"METRICS": "pesq si_sdr"})
    return results, speech, proc.stdout + proc.stderr


def test_the_corpus_is_built_from_the_folders_and_pretraining_sees_only_noisy_speech(folders_run):
    results, speech, _ = folders_run
    corpus = results / "corpus"
    assert (corpus / ".done").is_file()
    assert len(list((corpus / "clean").rglob("*.flac"))) == 12  # the 4 train speakers
    assert len(list((corpus / "test_set/indomain/denoise/noisy").glob("*.wav"))) == 3  # the test speaker
    pretrain_inputs = [e["wav"] for e in json.loads((results / "prepared/pretrain_train.json").read_text()).values()]
    pretrain_inputs += [e["wav"] for e in json.loads((results / "prepared/pretrain_valid.json").read_text()).values()]
    assert len(pretrain_inputs) == 12
    assert all("/noisy_input/" in path and str(speech) not in path for path in pretrain_inputs)


def test_every_model_and_system_is_scored_on_the_test_speakers(folders_run):
    results, _, output = folders_run
    for task in TASKS:
        table = results / "eval" / "p0.5" / f"indomain_{task}" / "results.md"
        assert table.is_file(), output[-3000:]
        csvs = {p.stem: p for folder in (table.parent, results / "classical" / f"indomain_{task}")
                for p in folder.glob("*.csv")}
        assert {"unprocessed", "mae", "scratch"} <= set(csvs)
        for system, path in csvs.items():
            rows = read_scores(path)
            assert len(rows) == 3, system
            assert all(math.isfinite(row[m]) for row in rows.values() for m in ("pesq", "si_sdr")), system
            assert f"| {system} |" in table.read_text()
    assert not (results / "eval" / "p0.5" / "ood_denoise").exists()  # a folders corpus has no ood test set
    assert "indomain" in (results / "RESULTS.md").read_text()


def test_a_second_run_does_no_work(folders_run):
    results, speech, _ = folders_run
    proc = run_recipe(["run.sh", "--size", "tiny", "--python", sys.executable, "--speech_folder", speech,
                       "--noise_folder", speech.parent / "noise", "--results", results, "--fractions", "0.5",
                       "--real_data", "none", "--stop_stage", "5"], launcher=["bash"])
    assert "built from these folders already" in proc.stdout
    assert proc.stdout.count("is done") == 5  # pre-training, two fine-tunings and two scratch trainings
