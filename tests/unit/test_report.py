"""maese-report (maese/report.py, maese/cli/report.py): the page's clips, media, metrics, lists; Chromium loads it."""

import base64
import io
import re
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from maese.cli import report as cli
from maese.report import clip_names, write_report
from maese.scoring import score_folder, write_csv
from scoring_fixtures import RATE, add_noise, speech, write

IMAGE = re.compile(r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)"')
AUDIO = re.compile(r'<audio controls preload="auto" src="data:audio/wav;base64,([^"]+)"')
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """noisy/enhanced/clean with a.wav, b.wav, rate.wav (enhanced at 8 kHz), bad.wav (enhanced unreadable),
    m.wav only in noisy and clean, z.wav only in enhanced."""
    root = tmp_path_factory.mktemp("report")
    clean = speech()[:RATE]
    for i, name in enumerate(("a.wav", "b.wav", "rate.wav", "bad.wav", "m.wav")):
        write(root / "clean" / name, clean)
        write(root / "noisy" / name, add_noise(clean, 0.0, seed=i))
        write(root / "enhanced" / name, add_noise(clean, 10.0, seed=i))
    write(root / "enhanced" / "rate.wav", clean[::2], rate=8000)
    (root / "enhanced" / "bad.wav").write_bytes(b"not audio")
    (root / "enhanced" / "m.wav").unlink()
    write(root / "enhanced" / "z.wav", clean)
    return root


def test_clip_names_pair_by_relative_path_and_list_the_rest(folders):
    names, absent = clip_names({k: folders / k for k in ("noisy", "enhanced", "clean")})
    assert names == ["a.wav", "b.wav", "bad.wav", "rate.wav"]
    assert absent == {"m.wav": ["enhanced"], "z.wav": ["noisy", "clean"]}


def test_page_embeds_spectrograms_16_bit_audio_metrics_and_lists_absent_files(folders, tmp_path):
    summary = write_report(tmp_path / "r.html", folders / "noisy", folders / "enhanced", folders / "clean",
                           metrics=("si_sdr",))
    assert summary == "4 of 4 clips shown; 2 files not in every folder"
    page = (tmp_path / "r.html").read_text()
    assert len(IMAGE.findall(page)) == 3  # bad.wav shows its error instead
    assert all(base64.b64decode(png).startswith(b"\x89PNG") for png in IMAGE.findall(page))
    audio = [sf.info(io.BytesIO(base64.b64decode(wav))) for wav in AUDIO.findall(page)]
    assert len(audio) == 9 and {a.subtype for a in audio} == {"PCM_16"}
    assert sorted(a.samplerate for a in audio) == [8000] + [RATE] * 8
    assert "<li>m.wav: not in enhanced</li>" in page and "<li>z.wav: not in noisy, clean</li>" in page
    assert "bad.wav: not a readable audio file" in page
    assert "Sample rates differ (noisy 16000 Hz, enhanced 8000 Hz, clean 16000 Hz)" in page
    assert "resample the files to 16000 Hz" in page
    a_wav = page.split("<h2>a.wav</h2>")[1].split("</section>")[0]
    noisy_db, enhanced_db = re.findall(r"<tr><td>(?:noisy|enhanced)</td><td>(-?[\d.]+)</td><td></td></tr>", a_wav)
    assert float(noisy_db) == pytest.approx(0.0, abs=0.3) and float(enhanced_db) == pytest.approx(10.0, abs=0.3)
    with pytest.raises(FileExistsError, match="pass --overwrite"):
        write_report(tmp_path / "r.html", folders / "noisy", folders / "enhanced")


def test_scores_csv_gives_the_metrics_and_max_clips_bounds_the_page(folders, tmp_path):
    rows = score_folder(folders / "clean", folders / "enhanced", ("si_sdr",), allow_missing=True)
    write_csv([{**r, "si_sdr": 42.0} if r["file"] == "a.wav" else r for r in rows], tmp_path / "s.csv")
    summary = write_report(tmp_path / "r.html", folders / "noisy", folders / "enhanced", scores_csv=tmp_path / "s.csv",
                           max_clips=2)
    page = (tmp_path / "r.html").read_text()
    assert summary == "2 of 4 clips shown; 2 files not in every folder"
    assert page.count("<section>") == 2 and "<tr><td>enhanced</td><td>42.00</td><td></td></tr>" in page
    assert f"scores from {tmp_path / 's.csv'}" in page


def test_cli_names_missing_and_empty_folders_and_bad_csv(folders, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.csv").write_text("name,x\n")
    out = str(tmp_path / "r.html")
    with pytest.raises(SystemExit) as err:
        cli.main(["--noisy", str(tmp_path / "nope"), "--enhanced", str(tmp_path / "empty"), "-o", out])
    assert f"--noisy {tmp_path / 'nope'}: no such folder" in str(err.value)
    assert f"--enhanced {tmp_path / 'empty'}: holds no audio files" in str(err.value)
    with pytest.raises(SystemExit, match="not a per-file scores CSV.*maese-score"):
        cli.main(["--noisy", str(folders / "noisy"), "--enhanced", str(folders / "enhanced"),
                  "--scores", str(tmp_path / "bad.csv"), "-o", out])
    cli.main(["--noisy", str(folders / "noisy"), "--enhanced", str(folders / "enhanced"), "-o", out])
    assert capsys.readouterr().out == f"{out}: 4 of 4 clips shown; 2 files not in every folder\n"
    assert "no metrics: pass --clean or --scores" in (tmp_path / "r.html").read_text()


def _loaded(browser, page, tmp_path):
    """The ``data-loaded`` attribute Chromium's DOM dump of ``page`` shows (None when not set)."""
    path = tmp_path / "page.html"
    path.write_text(page)
    dom = subprocess.run(
        [browser, "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=5000", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    match = re.search(r'<body data-loaded="([^"]*)"', dom)
    return match and match.group(1)


def test_chromium_loads_every_image_and_audio_element(folders, tmp_path):
    browser = next(filter(None, map(shutil.which, BROWSERS)), None)
    if browser is None:
        pytest.skip(f"no headless browser found (looked for {', '.join(BROWSERS)}): apt-get install chromium")
    write_report(tmp_path / "r.html", folders / "noisy", folders / "enhanced", folders / "clean", metrics=("si_sdr",))
    page = (tmp_path / "r.html").read_text()
    assert _loaded(browser, page, tmp_path) == "12/12"  # 3 spectrograms and 9 players
    broken = page.replace(AUDIO.findall(page)[0], base64.b64encode(np.zeros(64, np.uint8).tobytes()).decode(), 1)
    assert _loaded(browser, broken, tmp_path) == "11/12"
