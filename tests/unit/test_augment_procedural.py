"""maese.augment.procedural.ProceduralNoise and the procedural share of AddNoise's noise."""

import pytest
import torch
from augment_fixtures import RATE, noise_files, one_torch_thread, speech_like  # noqa: F401

from maese.acoustics import snr_db
from maese.augment import AddNoise
from maese.augment.procedural import TRAINING_FAMILIES, ProceduralNoise


def test_segments_are_seeded_and_differ_from_one_another():
    source = ProceduralNoise(("hum", "fan", "white"), RATE)
    first = source.segments(6, RATE, torch.Generator().manual_seed(0))
    again = source.segments(6, RATE, torch.Generator().manual_seed(0))
    other = source.segments(6, RATE, torch.Generator().manual_seed(1))
    assert first.shape == (6, RATE) and first.dtype == torch.float32 and torch.isfinite(first).all()
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert all(not torch.allclose(first[i], first[j]) for i in range(6) for j in range(i))
    assert (first.pow(2).mean(dim=1) > 1e-6).all()  # the families' level (-25 dB RMS), not silence


def test_the_training_families_leave_the_embedded_corpus_ood_families_out():
    assert {"hum", "fan", "engine", "brown"} <= set(TRAINING_FAMILIES)
    assert not {"music", "street", "keyboard"} & set(TRAINING_FAMILIES)


def test_unknown_or_no_families_are_refused():
    with pytest.raises(ValueError, match="'thunder'"):
        ProceduralNoise(("hum", "thunder"))
    with pytest.raises(ValueError, match="at least one family"):
        ProceduralNoise(())


@pytest.fixture(scope="module")
def noises(tmp_path_factory):
    return noise_files(tmp_path_factory.mktemp("procedural_noise"))


def test_add_noise_makes_its_share_procedurally_at_the_exact_snr(noises):
    x = speech_like(32, RATE)
    y, params = AddNoise(noises, snr_range=(0, 10), seed=0, procedural_prob=0.5)(x)
    made = params["procedural"]
    assert 6 <= int(made.sum()) <= 26  # about half
    assert (params["noise_index"][made] == -1).all() and (params["noise_index"][~made] >= 0).all()
    assert (snr_db(x, y - x) - params["snr_db"]).abs().max() < 0.1
    low_share = lambda n: (torch.fft.rfft(n).abs().pow(2)[:, : n.shape[1] * 1000 // RATE].sum(dim=1)  # noqa: E731
                           / torch.fft.rfft(n).abs().pow(2).sum(dim=1))  # share of the power under 1 kHz
    hum, _ = AddNoise(noises, snr_range=(5, 5), seed=0, procedural_prob=1.0, procedural_families=("hum",))(x)
    white, _ = AddNoise(noises, snr_range=(5, 5), seed=0, procedural_prob=1.0, procedural_families=("white",))(x)
    assert (low_share(hum - x) > 0.5).all() and (low_share(white - x) < 0.2).all()


def test_the_procedural_share_leaves_the_other_draws_as_they_were(noises):
    """The recorded rows of a run with procedural noise get the noise, position and SNR they get without it (its
    draws come after theirs), so runs without the option stay reproducible."""
    x = speech_like(16, RATE)
    y_plain, plain = AddNoise(noises, snr_range=(0, 10), seed=0)(x)
    y_mixed, mixed = AddNoise(noises, snr_range=(0, 10), seed=0, procedural_prob=0.5)(x)
    recorded = ~mixed["procedural"]
    assert 0 < int(recorded.sum()) < 16 and not plain["procedural"].any()
    assert torch.equal(mixed["noise_index"][recorded], plain["noise_index"][recorded])
    assert torch.equal(mixed["snr_db"], plain["snr_db"])
    assert torch.equal(y_mixed[recorded], y_plain[recorded]) and not torch.equal(y_mixed, y_plain)


def test_a_background_goes_under_a_share_of_the_recorded_noises_at_its_level_and_the_snr_holds(noises):
    x = speech_like(32, RATE)
    y_plain, plain = AddNoise(noises, snr_range=(0, 10), seed=0, procedural_prob=0.25, procedural_families=("hum",))(x)
    add = AddNoise(noises, snr_range=(0, 10), seed=0, procedural_prob=0.25, background_prob=0.5,
                   background_range=(-6.0, -6.0), procedural_families=("hum",))
    y, params = add(x)
    layered = torch.isfinite(params["background_db"])
    assert 4 <= int(layered.sum()) <= 20 and not (layered & params["procedural"]).any()
    assert (params["background_db"][layered] == -6.0).all()
    assert (snr_db(x, y - x) - params["snr_db"]).abs().max() < 0.1  # the sum is scaled to the SNR
    assert torch.equal(params["snr_db"], plain["snr_db"]) and torch.equal(params["procedural"], plain["procedural"])
    assert torch.equal(y[~layered], y_plain[~layered])  # the other rows as without the option
    # the layered rows' noise is the recorded one plus a hum 6 dB below it: their noise differs by the hum only,
    # which holds a quarter of the sum's power (1 / (1 + 10 ** 0.6))
    alone, under = (y_plain - x)[layered], (y - x)[layered]
    alone = alone * (under.norm(dim=1) / alone.norm(dim=1) * (1 + 10 ** -0.6) ** -0.5).unsqueeze(1)
    share = (under - alone).pow(2).sum(dim=1) / under.pow(2).sum(dim=1)
    assert ((share - 1 / (1 + 10 ** 0.6)).abs() < 0.05).all()
    with pytest.raises(ValueError, match="background_range"):
        AddNoise(noises, background_prob=0.5, background_range=(5.0, -5.0))


def test_fine_tuning_hands_its_procedural_share_to_the_noise(noises):
    from maese.brains.finetune import make_distortion

    distortion = make_distortion("denoise", noises, None, (0.0, 10.0), RATE, 0, procedural_noise_prob=0.3)
    assert distortion.procedural_prob == 0.3
    layered = make_distortion("denoise", noises, None, (0.0, 10.0), RATE, 0, background_noise_prob=0.4,
                              background_noise_range=(-3.0, 0.0))
    assert (layered.background_prob, layered.background_range, layered.procedural_prob) == (0.4, (-3.0, 0.0), 0.0)
    with pytest.raises(ValueError, match="background_prob"):
        make_distortion("denoise", noises, None, (0.0, 10.0), RATE, 0, background_noise_prob=1.5)
    with pytest.raises(ValueError, match="procedural_prob"):
        make_distortion("denoise", noises, None, (0.0, 10.0), RATE, 0, procedural_noise_prob=2.0)


def test_fine_tuning_leaves_its_clean_share_without_noise(noises):
    from maese.brains.finetune import make_distortion, make_pairs

    clean = torch.randn(64, RATE // 4)
    plain = make_distortion("denoise", noises, None, (0.0, 10.0), RATE, 0)
    share = make_distortion("denoise", noises, None, (0.0, 10.0), RATE, 0, clean_input_prob=0.25)
    noisy, target = make_pairs(share, clean, None, torch.Generator().manual_seed(1))
    untouched = (noisy == target).all(dim=1)
    assert 6 <= int(untouched.sum()) <= 28
    assert not (make_pairs(plain, clean, None, torch.Generator().manual_seed(1))[0] == clean).all(dim=1).any()
    with pytest.raises(ValueError, match="clean_input_prob"):
        make_distortion("denoise", noises, None, (0.0, 10.0), RATE, 0, clean_input_prob=1.5)


def test_whine_is_a_tone_for_training_only_never_a_corpus_family():
    import numpy as np

    from maese.simulation.noise import AUGMENTATION_FAMILIES, NOISE_FAMILIES, generate_noise, split_families

    assert "whine" in AUGMENTATION_FAMILIES and "whine" not in NOISE_FAMILIES + split_families()[0]
    assert "whine" not in TRAINING_FAMILIES
    for seed in range(5):
        x = generate_noise("whine", np.random.default_rng(seed), 2 * RATE, RATE)
        power = np.abs(np.fft.rfft(x)) ** 2
        assert abs(10 * np.log10(np.mean(x**2)) + 25) < 0.5
        assert power.max() > 1000 * np.median(power)  # tonal: its harmonics stand far above the noise under them
        peak_hz = np.argmax(power) * RATE / len(x)
        assert 90 <= peak_hz <= 8000


def test_half_the_whines_glide_and_the_others_hold_their_pitch():
    """The spectral peak's spread over a 4-s whine (10th to 90th percentile, in octaves): about half the draws
    glide by 0.1 octave or more, the others drift by less than 0.07 (a few percent)."""
    import numpy as np

    from maese.simulation.noise import generate_noise

    spans = []
    for seed in range(40):
        x = generate_noise("whine", np.random.default_rng(seed), 4 * RATE, RATE)
        frames = x[: len(x) // 2048 * 2048].reshape(-1, 2048) * np.hanning(2048)
        peak_hz = (np.argmax(np.abs(np.fft.rfft(frames, n=8192, axis=1))[:, 20:], axis=1) + 20) * RATE / 8192
        spans.append(np.log2(np.percentile(peak_hz, 90) / np.percentile(peak_hz, 10)))
    gliding = np.array(spans) > 0.08
    assert 0.3 <= gliding.mean() <= 0.7 and max(spans) > 0.3


def test_fine_tuning_hands_its_procedural_families_to_the_noise(noises):
    from maese.brains.finetune import make_distortion

    chosen = make_distortion("denoise", noises, None, (0.0, 10.0), RATE, 0, procedural_noise_prob=0.5,
                             procedural_noise_families=["hum", "whine"])
    assert chosen.procedural.families == ("hum", "whine")
    assert make_distortion("denoise", noises, None, (0.0, 10.0), RATE, 0, procedural_noise_prob=0.5
                           ).procedural.families == TRAINING_FAMILIES


def test_the_recipe_hands_its_clean_share_and_saturation_to_the_fine_tuning(noises, tmp_path):
    from pathlib import Path

    from maese.brains.finetune import check_finetune_hparams
    from maese.hparams import HparamError, load_recipe_hparams

    finetune = Path(__file__).resolve().parents[2] / "recipes" / "DNS" / "hparams" / "finetune.yaml"
    overrides = {"size": "tiny", "output_folder": str(tmp_path), "init": "scratch", "clean_input_prob": 0.3,
                 "si_sdr_max_db": 30.0}
    hparams = load_recipe_hparams(finetune, overrides)
    assert hparams["distortion"](noise_files=noises).prob == pytest.approx(0.7)
    assert hparams["si_sdr_max_db"] == 30.0
    check_finetune_hparams(hparams)
    with pytest.raises(HparamError, match="si_sdr_max_db"):
        check_finetune_hparams({**hparams, "si_sdr_max_db": None})
