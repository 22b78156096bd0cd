"""tools/level_sweep.py: an enhancer's scores with the noisy input scaled by each gain, against gain 0."""

import numpy as np
import pytest
import soundfile as sf
import torch

from maese.metrics import si_sdr
from scoring_fixtures import load_tool, speech
from test_inference import make_experiment

RATE = 16000
level_sweep = load_tool("level_sweep")


@pytest.fixture
def sets(tmp_path):
    """ref/ and noisy/ folders of two eSpeak utterances with white noise at about 10 dB SNR (one in a sub-folder)."""
    rng = np.random.default_rng(0)
    for name, text in [("a.wav", None), ("spk/b.wav", "Another sentence follows the first one.")]:
        clean = speech() if text is None else speech(text)
        noisy = clean + np.sqrt(np.mean(clean**2) / 10) * rng.standard_normal(clean.size)
        for folder, wav in [("ref", clean), ("noisy", noisy)]:
            (tmp_path / folder / name).parent.mkdir(parents=True, exist_ok=True)
            sf.write(tmp_path / folder / name, wav.astype(np.float32), RATE, subtype="FLOAT")
    return tmp_path


def fixed_floor(wav):
    """A level-dependent 'enhancer': adds white noise of a fixed absolute level (it hurts quiet inputs most)."""
    return wav + 1e-3 * torch.randn(wav.shape, generator=torch.Generator().manual_seed(1))


def test_a_level_blind_enhancer_scores_alike_at_every_gain_and_a_level_bound_one_does_not(sets):
    names = level_sweep.reference_names(sets / "ref", {"noisy": sets / "noisy"})
    assert [str(n) for n in names] == ["a.wav", "spk/b.wav"]
    scores = level_sweep.sweep(sets / "ref", sets / "noisy", names, {"identity": lambda w: w, "floor": fixed_floor},
                               [-30.0, 0.0, 10.0])
    clean, noisy = (torch.from_numpy(sf.read(sets / f / "a.wav", dtype="float32")[0]) for f in ("ref", "noisy"))
    for gain in (-30.0, 0.0, 10.0):  # the output scaled back: the identity scores as the noisy input at every gain
        assert scores["identity"][gain]["si_sdr"][0] == pytest.approx(float(si_sdr(clean, noisy)), abs=1e-3)
        assert scores["identity"][gain]["pesq"] == pytest.approx(scores["identity"][0.0]["pesq"], abs=1e-3)
    quiet, normal = (np.mean(scores["floor"][g]["si_sdr"]) for g in (-30.0, 0.0))
    assert quiet < normal - 5.0
    lines = level_sweep.table(scores, [-30.0, 0.0, 10.0])
    floor_quiet = next(line for line in lines if line.startswith("| floor | -30 |"))
    assert float(floor_quiet.split("|")[-2].split("±")[0]) == pytest.approx(quiet - normal, abs=0.01)
    assert next(line for line in lines if line.startswith("| identity | -30 |")).count("0.000 ± 0.000") == 3


def test_main_sweeps_a_model_folder_and_refuses_an_existing_out(sets, tmp_path, capsys):
    make_experiment(tmp_path / "exp")
    out = tmp_path / "sweep.md"
    argv = ["--ref", str(sets / "ref"), "--noisy", str(sets / "noisy"), "--model", f"tiny={tmp_path / 'exp'}",
            "--gains", "0", "-20", "--max_files", "1", "--out", str(out)]
    assert level_sweep.main(argv) == 0
    rows = [line for line in out.read_text().splitlines() if line.startswith("| tiny |")]
    assert [row.split("|")[2].strip() for row in rows] == ["-20", "+0"]
    assert "1 files" in out.read_text()
    assert level_sweep.main(argv) == 1
    assert "exists; refusing to overwrite" in capsys.readouterr().err


def test_bad_arguments_name_what_is_wrong(sets, tmp_path, capsys):
    base = ["--ref", str(sets / "ref"), "--noisy", str(sets / "noisy")]
    assert level_sweep.main(base) == 1
    assert "nothing to measure" in capsys.readouterr().err
    assert level_sweep.main(base + ["--model", "rnnoise=x"]) == 1
    assert "a NAME of its own" in capsys.readouterr().err
    (sets / "noisy" / "a.wav").unlink()
    assert level_sweep.main(base + ["--peers", "rnnoise"]) == 1
    assert "a.wav is missing from" in capsys.readouterr().err
