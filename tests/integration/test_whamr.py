"""recipes/WHAMR on a miniature copy of the corpus (its real folder and file names, 16 kHz audio): prepare,
one tiny fine-tuning epoch from a pre-trained encoder, scratch, scoring; and bad input."""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from conftest import assert_all_scored, assert_run_recorded, load_recipe_module, run_pairs_recipe

RATE = 16000
# WHAMR! names: <wsj0 utterance of s1>_<snr>_<wsj0 utterance of s2>_<snr>.wav
NAMES = {"tr": ["011a0101_0.061105_401c020r_-0.061105", "01aa010k_1.2_20ec0109_-1.2", "01zo030l_0.5_409o0316_-0.5"],
         "cv": ["011o031a_0.8_40na010x_-0.8", "01ao0311_1.7_22go010n_-1.7"],
         "tt": ["050a0501_1.7783_442o030z_-1.7783", "051o020s_0.3_446o030j_-0.3"]}
wp = load_recipe_module("WHAMR", "prepare")


def make_whamr(root, seconds=1.5):
    """A miniature WHAMR! output folder: wav16k/min/{tr,cv,tt}/<its sub-folders>/<names>.wav."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    rir = np.exp(-np.arange(int(0.3 * RATE)) / (0.05 * RATE)) * rng.standard_normal(int(0.3 * RATE)) * 0.3
    rir[0] = 1.0
    for split, names in NAMES.items():
        for i, name in enumerate(names):
            dry = sum(np.sin(2 * np.pi * (120 + 15 * i) * k * t) / k for k in range(1, 6))
            dry = 0.2 * dry * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) / np.abs(dry).max()
            reverb = np.convolve(dry, rir)[: t.size]
            noise = 0.02 * rng.standard_normal(t.size)
            signals = {"s1_anechoic": dry, "s1_reverb": reverb, "mix_single_reverb": reverb + noise,
                       "s2_anechoic": dry[::-1], "s2_reverb": reverb[::-1], "noise": noise}
            for folder, signal in signals.items():
                path = root / "wav16k" / "min" / split / folder / f"{name}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, signal / max(1.0, np.abs(signal).max() / 0.9), RATE, subtype="PCM_16")
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_whamr(tmp_path_factory.mktemp("whamr") / "whamr")


def test_prepare_writes_the_pairs_of_each_split(corpus, tmp_path):
    wp.prepare_whamr(tmp_path / "prep", str(corpus), str(tmp_path / "cache"))
    for split, sub in (("train", "tr"), ("valid", "cv"), ("test", "tt")):
        entries = json.loads((tmp_path / "prep" / f"{split}.json").read_text())
        assert sorted(entries) == sorted(NAMES[sub])
        entry = entries[NAMES[sub][0]]
        cached = tmp_path / "cache" / "wav16k" / "min" / sub
        assert entry["wav"] == str((cached / "s1_reverb" / f"{NAMES[sub][0]}.wav").resolve())
        assert entry["clean_wav"] == str((cached / "s1_anechoic" / f"{NAMES[sub][0]}.wav").resolve())
        assert sf.info(entry["wav"]).frames == 24000
    noisy = tmp_path / "prep_noisy"
    wp.prepare_whamr(noisy, str(corpus), str(tmp_path / "cache"), input_folder="mix_single_reverb")
    assert "/mix_single_reverb/" in next(iter(json.loads((noisy / "test.json").read_text()).values()))["wav"]


def test_a_wrong_data_folder_names_the_expected_folders(corpus, tmp_path):
    with pytest.raises(wp.PreparationError) as err:  # one level too deep: the wav16k/ folder itself
        wp.prepare_whamr(tmp_path / "prep", str(corpus / "wav16k"), str(tmp_path / "cache"))
    assert "missing wav16k/min/tr/s1_reverb, wav16k/min/tr/s1_anechoic" in str(err.value)
    with pytest.raises(wp.PreparationError, match="missing wav8k/min/tr/s1_reverb"):
        wp.prepare_whamr(tmp_path / "prep", str(corpus), str(tmp_path / "cache"), version="wav8k/min")
    assert not (tmp_path / "prep").exists() and not (tmp_path / "cache").exists()


def test_a_partial_copy_is_reported_with_counts(corpus, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(corpus, partial)
    (partial / "wav16k" / "min" / "tt" / "s1_anechoic" / f"{NAMES['tt'][1]}.wav").unlink()
    with pytest.raises(wp.PreparationError) as err:
        wp.prepare_whamr(tmp_path / "prep", str(partial), str(tmp_path / "cache"))
    message = str(err.value)
    assert "(1 wav16k/min/tt/s1_anechoic, 2 wav16k/min/tt/s1_reverb, 1 paired)" in message
    assert f"1 wav16k/min/tt/s1_reverb files without their wav16k/min/tt/s1_anechoic twin (e.g. ['{NAMES['tt'][1]}" \
        in message
    assert not (tmp_path / "prep" / "train.json").exists()


def test_run_sh_finetunes_trains_from_scratch_and_scores(corpus, tmp_path):
    results, proc = run_pairs_recipe("WHAMR", corpus, tmp_path)
    assert_run_recorded(results, "--data_folder")
    assert "Encoder from" in proc.stdout + proc.stderr
    for name in ("finetune", "scratch"):
        out = results / name
        assert (out / ".done").exists() and (out / "train.py").exists()
        assert {"loss", "si_sdr", "pesq", "stoi"} <= set(json.loads((out / "valid_metrics.json").read_text()))
        enhanced = sorted(p.stem for p in (out / "enhanced" / "test").glob("*.wav"))
        assert enhanced == sorted(NAMES["tt"])
    systems = ("unprocessed", "wpe", "rnnoise", "deepfilternet3", "mae", "scratch")
    assert_all_scored(results / "eval" / "results.md", systems, files=2, metrics=3)  # pesq, stoi, si_sdr
    (results / "eval" / "rnnoise.csv").unlink()  # as scored before RNNoise was a baseline: scored again
    _, again = run_pairs_recipe("WHAMR", corpus, tmp_path)
    assert f"{results / 'eval'} has no scores of rnnoise (new baselines); scored again" in again.stdout
    assert_all_scored(results / "eval" / "results.md", systems, files=2, metrics=3)
