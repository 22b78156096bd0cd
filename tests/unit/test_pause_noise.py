"""tools/pause_noise.py: noise left in the pauses of speech per band, against the noisy input."""

import numpy as np
import pytest
import soundfile as sf

from maese.scoring import spread
from scoring_fixtures import load_tool

RATE = 16000
SPEECH = 0.01  # the loud burst's power
SIGMA = 0.05  # the noise's standard deviation
# Power relative to the loud burst, 5 dB either side of the pause threshold (-40 dB), which they pin down:
FLOOR = 10**-4.5  # the clean signal's white floor (-45 dB: pause frames)
QUIET = 10**-3.5  # the quiet burst (-35 dB: active frames)
BINS = np.diff([0, 4, 8, 16, 32, 64, 128, 257])  # STFT bins per band


def tone(n, power):
    """``n`` samples of 200 Hz and 4 harmonics (1/k amplitudes) of mean power ``power``."""
    t = np.arange(n) / RATE
    wave = sum(np.sin(2 * np.pi * 200 * k * t) / k for k in range(1, 6))
    return wave * np.sqrt(power / np.mean(wave**2))


def write(folder, name, wav):
    """``wav`` as a 32-bit float wav ``folder/name``."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, wav.astype(np.float32), RATE, subtype="FLOAT")


@pytest.fixture
def sets(tmp_path):
    """Folders ref, noisy, half (clean + noise / 10, with loud junk after the end) and none (the noisy input,
    cut short); spk/a.wav has pauses, b.wav is speech throughout. Returns ``(tmp_path, clean power in a.wav's active
    frames)``."""
    rng = np.random.default_rng(0)
    a = np.sqrt(FLOOR * SPEECH) * rng.standard_normal(3 * RATE)
    a[16000:32000] += tone(16000, SPEECH)  # burst edges on the 128-sample hop: no speech leaks into pause frames
    a[38400:44800] += tone(6400, QUIET * SPEECH)
    b = tone(2 * RATE, SPEECH)
    for name, clean in [("spk/a.wav", a), ("b.wav", b)]:
        noise = SIGMA * rng.standard_normal(clean.size)
        write(tmp_path / "ref", name, clean)
        write(tmp_path / "noisy", name, clean + noise)
        write(tmp_path / "half", name, np.concatenate([clean + 0.1 * noise, 0.5 * rng.standard_normal(2000)]))
        write(tmp_path / "none", name, (clean + noise)[:-3000])
    active = (16000 + QUIET * 6400) / (16000 + 6400) * SPEECH  # the clean's mean power in a.wav's active frames
    return tmp_path, active


def run(tool, root, *extra):
    """``main`` on the folders of ``sets`` with the systems half and none; returns its exit code."""
    return tool.main(["--ref", str(root / "ref"), "--noisy", str(root / "noisy"),
                      "--est", f"half={root / 'half'}", f"none={root / 'none'}", *extra])


def rows(text):
    """Table rows of the printed markdown: label -> numbers (``%`` stripped)."""
    cells = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    return {c[0].strip(): [float(v.strip().rstrip("%")) for v in c[1:]] for c in cells[1:]}


def test_suppression_per_band_and_pause_level_match_the_analytic_values(sets, capsys):
    root, active = sets
    assert run(load_tool("pause_noise"), root) == 0
    out = capsys.readouterr().out
    table = rows(out)
    floor = FLOOR * SPEECH
    half = 10 * np.log10((0.01 * SIGMA**2 + floor) / (SIGMA**2 + floor))  # -19.9 dB: the floor is left
    assert table["half"][:8] == pytest.approx([half] * 8, abs=0.5)  # 7 bands and all
    assert table["none"][:8] == pytest.approx([0.0] * 8, abs=0.05)
    assert table["half"][8] == pytest.approx(10 * np.log10((0.01 * SIGMA**2 + floor) / active), abs=1.0)
    assert table["none"][8] == pytest.approx(10 * np.log10((SIGMA**2 + floor) / active), abs=1.0)
    assert table["noisy share"][:7] == pytest.approx(100 * BINS / 257, abs=1.5)  # white noise: share of bins
    assert table["noisy share"][7] == 100.0
    assert f"`{root / 'ref'}`, 2 files" in out


def test_a_missing_output_names_the_file_and_the_folder(sets, capsys):
    root, _ = sets
    (root / "half" / "spk" / "a.wav").unlink()
    assert run(load_tool("pause_noise"), root) == 1
    err = capsys.readouterr().err
    assert "spk/a.wav is missing from" in err and str(root / "half") in err


def test_out_is_written_and_an_existing_one_is_refused_without_overwrite(sets, capsys):
    root, _ = sets
    tool, out = load_tool("pause_noise"), root / "table.md"
    assert run(tool, root, "--out", str(out)) == 0
    assert out.read_text() == capsys.readouterr().out
    out.write_text("kept")
    assert run(tool, root, "--out", str(out)) == 1
    assert "pass --overwrite" in capsys.readouterr().err and out.read_text() == "kept"
    assert run(tool, root, "--out", str(out), "--overwrite") == 0 and "| half |" in out.read_text()


def test_max_files_spreads_over_the_sorted_list_and_peers_are_checked(sets, capsys):
    tool = load_tool("pause_noise")
    assert spread(list(range(44)), 20) == list(range(0, 40, 2))
    assert spread(list(range(5)), None) == list(range(5))
    root, _ = sets
    with pytest.raises(SystemExit):
        run(tool, root, "--peers", "nonsense")
    assert run(tool, root, "--peers", "rnnoise", "--est", "rnnoise=x") == 1  # checked before any peer runs
    assert "a NAME of its own" in capsys.readouterr().err
