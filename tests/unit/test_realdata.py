"""maese.realdata: the real-speech validation set, on a stand-in folder with shared/data's layout."""

import numpy as np
import pytest
import soundfile as sf
import torch
from scipy.signal import resample_poly

from maese.acoustics import snr_db
from maese.audio import load_audio
from maese.realdata import REVERB_TAIL_S, build_real_validation
from maese.simulation.layout import CorpusError, load_corpus_manifest
from scoring_fixtures import RATE, SHARED_DATA, speech, write


@pytest.fixture()
def stand_in(tmp_path):
    """Two 22.05-kHz LJ clips, one 16-kHz SpeechBrain clip, two noises (one shorter than the clips), one RIR."""
    root = tmp_path / "data"
    s = speech()
    write(root / "ljspeech" / "LJ001-0001.wav", resample_poly(s[:RATE], 441, 320), rate=22050)
    write(root / "ljspeech" / "LJ001-0002.wav", resample_poly(s[RATE : 3 * RATE], 441, 320), rate=22050)
    write(root / "speechbrain" / "speech" / "spk1_snt1.wav", s[-RATE:])
    rng = np.random.default_rng(0)
    write(root / "speechbrain" / "noise" / "noise1.wav", 0.1 * rng.standard_normal(RATE // 2))
    write(root / "speechbrain" / "noise" / "noise2.wav", 0.01 * np.cumsum(rng.standard_normal(2 * RATE)))
    rir = 0.02 * rng.standard_normal(RATE // 4) * np.exp(-np.arange(RATE // 4) / 800)
    rir[100] = 0.5
    write(root / "speechbrain" / "rirs" / "rir1.wav", rir)
    return root


def wavs(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.wav"))}


def test_build_writes_exact_snr_pairs_and_aligned_reverb(stand_in, tmp_path):
    out = build_real_validation(stand_in, tmp_path / "val", seed=3, snr_range=(0, 15))
    denoise = load_corpus_manifest(out, "denoise/pairs.json")
    dereverb = load_corpus_manifest(out, "dereverb/pairs.json")
    assert sorted(denoise) == sorted(dereverb) == ["fileid_0", "fileid_1", "fileid_2"]
    assert [denoise[u]["source"] for u in sorted(denoise)] == [
        "ljspeech/LJ001-0001.wav", "ljspeech/LJ001-0002.wav", "speechbrain/speech/spk1_snt1.wav"]
    for uid, entry in denoise.items():
        clean, noisy = load_audio(entry["clean_wav"], None), load_audio(entry["wav"], None)
        assert sf.info(entry["wav"]).samplerate == RATE and sf.info(entry["wav"]).subtype == "PCM_16"
        assert clean.numel() == noisy.numel() == round(entry["duration"] * RATE)
        assert 0 <= entry["snr"] <= 15 and float(snr_db(clean, noisy - clean)) == pytest.approx(entry["snr"], abs=0.05)
        source = load_audio(stand_in / entry["source"], RATE)
        assert clean.numel() == source.numel()
        assert torch.corrcoef(torch.stack([clean, source]))[0, 1] > 0.999
    for uid, entry in dereverb.items():
        clean, reverb = load_audio(entry["clean_wav"], None), load_audio(entry["wav"], None)
        assert clean.numel() == reverb.numel() == denoise[uid]["duration"] * RATE + REVERB_TAIL_S * RATE
        xcorr = [float(torch.dot(clean[200:-200], torch.roll(reverb, -lag)[200:-200])) for lag in range(-50, 51)]
        assert int(np.argmax(xcorr)) == 50  # the direct path is at lag 0
        assert entry["rir"] == "rir1.wav"


def test_build_is_deterministic_idempotent_and_refuses_other_settings(stand_in, tmp_path):
    first = build_real_validation(stand_in, tmp_path / "a")
    stamps = {p: p.stat().st_mtime_ns for p in first.rglob("*") if p.is_file()}
    assert build_real_validation(stand_in, tmp_path / "a") == first
    assert {p: p.stat().st_mtime_ns for p in first.rglob("*") if p.is_file()} == stamps
    second = build_real_validation(stand_in, tmp_path / "b")
    assert wavs(first) == wavs(second) and len(wavs(first)) == 12
    assert (first / "denoise" / "pairs.json").read_text() == (second / "denoise" / "pairs.json").read_text()
    other = build_real_validation(stand_in, tmp_path / "c", seed=1)
    assert (other / "denoise" / "pairs.json").read_text() != (first / "denoise" / "pairs.json").read_text()
    with pytest.raises(CorpusError, match="seed=0.*you asked for.*seed=1"):
        build_real_validation(stand_in, first, seed=1)


def test_missing_parts_are_named(stand_in, tmp_path):
    for p in (stand_in / "speechbrain" / "rirs").iterdir():
        p.unlink()
    with pytest.raises(FileNotFoundError, match="no rirs wav files"):
        build_real_validation(stand_in, tmp_path / "val")
    assert not (tmp_path / "val").exists()


@pytest.mark.skipif(not (SHARED_DATA / "speechbrain" / "noise").is_dir(), reason="no shared data")
def test_build_on_the_real_shared_data(tmp_path):
    out = build_real_validation(SHARED_DATA, tmp_path / "real")
    for task in ("denoise", "dereverb"):
        entries = load_corpus_manifest(out, f"{task}/pairs.json")
        assert len(entries) == 44 and all(1.5 < e["duration"] < 11 for e in entries.values())
    assert sf.info(str(out / "denoise" / "clean" / "fileid_0.wav")).samplerate == RATE
