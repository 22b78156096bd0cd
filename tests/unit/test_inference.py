"""maese.inference: experiment loading, chunked enhancement of any rate/channels/length, streamed files."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hyperpyyaml import resolve_references

from maese import inference
from maese.audio import AudioError, load_audio, resample
from maese.hparams import load_recipe_hparams
from maese.inference import INFERENCE_CONFIG, Enhancer, build_model, chunk_starts, crossfade, write_inference_config
from maese.metrics import si_sdr
from scoring_fixtures import speech

FINETUNE = Path(__file__).resolve().parents[2] / "recipes" / "DNS" / "hparams" / "finetune.yaml"
OVERRIDES = {"size": "tiny"}


def make_experiment(folder, **overrides):
    """A fine-tuning experiment folder as train.py leaves it, without training: inference.json and three
    checkpoints of a tiny model with random mask heads (valid losses 0.9, 0.5, 0.7). Returns the best state."""
    hparams = load_recipe_hparams(FINETUNE, {**OVERRIDES, **overrides, "output_folder": str(folder)})
    model, gen, best = hparams["model"], torch.Generator().manual_seed(0), None
    for loss in (0.9, 0.5, 0.7):
        with torch.no_grad():
            model.head.out.weight.copy_(torch.randn(model.head.out.weight.shape, generator=gen))
        hparams["checkpointer"].save_checkpoint(meta={"loss": loss})
        best = {k: v.clone() for k, v in model.state_dict().items()} if loss == 0.5 else best
    write_inference_config(folder, hparams)
    return best


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exp") / "finetune_denoise"
    return folder, make_experiment(folder)


@pytest.fixture(scope="module")
def enhancer(experiment):
    return Enhancer.from_experiment(experiment[0], chunk_seconds=4.0, overlap_seconds=0.5)


@pytest.fixture(scope="module")
def clean():
    """About 6 s of eSpeak speech at 16 kHz, float32."""
    return torch.from_numpy(np.concatenate([speech(), speech("Another sentence follows the first one.")])).float()


def fresh_model(experiment):
    """A randomly initialised model of the experiment's config."""
    return build_model(json.loads((experiment[0] / INFERENCE_CONFIG).read_text()))


def same_weights(model, state):
    return all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


def test_from_experiment_loads_the_best_checkpoint_of_a_moved_folder(experiment, tmp_path):
    moved = tmp_path / "elsewhere" / "exp"
    shutil.copytree(experiment[0], moved)
    config = json.loads((moved / INFERENCE_CONFIG).read_text())
    assert (config["model_size"], config["head_proj_dim"], config["head_hidden"]) == ("tiny", 32, 32)  # --size tiny
    enhancer = Enhancer.from_experiment(moved, chunk_seconds=2.0, overlap_seconds=0.5)
    assert same_weights(enhancer.model, experiment[1]) and enhancer.sample_rate == 16000
    assert not enhancer.model.training and enhancer.column == 128 * 16


def test_a_fine_tuned_model_sees_chunks_of_its_training_crop_unless_told_otherwise(experiment, tmp_path):
    enhancer = Enhancer.from_experiment(experiment[0])
    assert (enhancer.chunk_seconds, enhancer.overlap_seconds) == (1.0, 0.5)  # --size tiny: 1-s crops
    told = Enhancer.from_experiment(experiment[0], chunk_seconds=3.0, overlap_seconds=0.25)
    assert (told.chunk_seconds, told.overlap_seconds) == (3.0, 0.25)
    unrecorded = tmp_path / "unrecorded"  # inference.json of an experiment made before the crop was recorded
    shutil.copytree(experiment[0], unrecorded)
    config = json.loads((unrecorded / INFERENCE_CONFIG).read_text())
    del config["segment_seconds"]
    (unrecorded / INFERENCE_CONFIG).write_text(json.dumps(config))
    legacy = Enhancer.from_experiment(unrecorded)
    assert (legacy.chunk_seconds, legacy.overlap_seconds) == (4.0, 2.0)  # the constructor's: 4 s, half overlapping
    assert Enhancer.from_experiment(experiment[0], chunk_seconds=3.0).overlap_seconds == 1.5


def test_older_experiments_load_from_hyperparams_yaml_and_the_checkpoint(experiment, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(experiment[0] / "save", old / "save")
    with open(FINETUNE) as fin:  # what sb.create_experiment_directory saves: sizes of the preset not applied
        (old / "hyperparams.yaml").write_text(resolve_references(fin, OVERRIDES).getvalue())
    assert "model_size: small" in (old / "hyperparams.yaml").read_text()
    assert same_weights(Enhancer.from_experiment(old).model, experiment[1])


def test_a_model_that_uses_the_reconstruction_loads_with_its_decoder(tmp_path):
    best = make_experiment(tmp_path / "recon", head_reconstruction=True)  # the DNS default
    config = json.loads((tmp_path / "recon" / INFERENCE_CONFIG).read_text())
    assert config["head_reconstruction"] is True and config["visible_skip"] is True
    model = Enhancer.from_experiment(tmp_path / "recon").model
    assert model.use_reconstruction and model.encoder.visible_skip and same_weights(model, best)


def test_configs_written_before_the_reconstruction_option_load_without_it(tmp_path):
    old = tmp_path / "old"
    best = make_experiment(old, head_reconstruction=False, visible_skip=False)
    config = json.loads((old / INFERENCE_CONFIG).read_text())
    (old / INFERENCE_CONFIG).write_text(json.dumps({k: v for k, v in config.items()
                                                    if k not in ("head_reconstruction", "visible_skip")}))
    model = Enhancer.from_experiment(old).model
    assert not model.use_reconstruction and same_weights(model, best)


def test_from_experiment_errors_name_the_folder_and_the_fix(experiment, tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}: no fine-tuning checkpoint.*output_folder"):
        Enhancer.from_experiment(tmp_path)
    wrong = tmp_path / "wrong"
    shutil.copytree(experiment[0], wrong)
    config = json.loads((wrong / INFERENCE_CONFIG).read_text())
    (wrong / INFERENCE_CONFIG).write_text(json.dumps({**config, "model_size": "small"}))
    with pytest.raises(ValueError, match="model.ckpt does not fit the model config of .*wrong"):
        Enhancer.from_experiment(wrong)
    (wrong / INFERENCE_CONFIG).write_text(json.dumps({k: v for k, v in config.items() if k != "n_fft"}))
    with pytest.raises(ValueError, match=r"inference.json: no value for \['n_fft'\]. Re-run the fine-tuning"):
        Enhancer.from_experiment(wrong)


@pytest.mark.parametrize("frames, chunk, hop", [(100, 40, 30), (95, 40, 30), (5, 40, 30), (40, 40, 30), (71, 40, 30)])
def test_chunks_cover_the_signal_and_reassemble_exactly(frames, chunk, hop):
    wav = torch.randn(2, frames)
    starts = list(chunk_starts(frames, chunk, hop))
    lengths = [min(chunk, frames - s) for s in starts]
    assert starts[0] == 0 and starts[-1] + lengths[-1] == frames
    assert all(n == chunk for n in lengths[:-1]) and (len(starts) == 1 or lengths[-1] > chunk - hop)
    out = torch.cat(list(crossfade((wav[:, s:s + chunk] for s in starts), chunk - hop)), dim=-1)
    assert torch.allclose(out, wav, atol=1e-6)


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_chunk_starts_fall_on_the_models_patch_columns(enhancer, rate):
    chunk, hop = enhancer.chunking(rate)
    assert hop * 16000 % rate == 0 and hop * 16000 // rate % 2048 == 0
    assert 3.0 < hop / rate <= 3.5 and chunk - hop == round(0.5 * rate)


@pytest.mark.parametrize("rate, channels", [(16000, 1), (44100, 2)])
def test_chunk_seams_are_inaudible(experiment, clean, rate, channels):
    """A model that ignores its context (the encoder's input to the head zeroed): chunked = whole clip."""
    model = fresh_model(experiment)
    model.load_state_dict(experiment[1])
    with torch.no_grad():
        model.head.proj.weight.zero_()
    wav = resample(clean.repeat(channels, 1) * torch.tensor([[1.0], [0.5]])[:channels], 16000, rate)
    whole = Enhancer(model, chunk_seconds=None).enhance(wav, rate)
    chunked = Enhancer(model, chunk_seconds=1.0, overlap_seconds=0.25).enhance(wav, rate)  # 8 seams in 6 s
    assert min(si_sdr(a, b) for a, b in zip(whole, chunked)) > 60


def test_chunked_and_whole_clip_outputs_differ_only_by_the_context(enhancer, clean):
    """The encoder attends over its whole input, so 1-s chunks see less context than the 6-s clip."""
    whole = Enhancer(enhancer.model, chunk_seconds=None).enhance(clean, 16000)
    chunked = Enhancer(enhancer.model, chunk_seconds=1.0, overlap_seconds=0.25).enhance(clean, 16000)
    assert si_sdr(whole, chunked) > 30


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
def test_any_rate_channels_and_length_keep_the_shape(enhancer, rate):
    stereo = 0.1 * torch.randn(2, rate * 5 // 2)
    out = enhancer.enhance(stereo, rate)
    assert out.shape == stereo.shape and out.dtype == torch.float32 and torch.isfinite(out).all()
    assert torch.allclose(enhancer.enhance(stereo[1], rate), out[1], atol=1e-6)  # channels enhanced on their own
    mono = Enhancer(enhancer.model, downmix=True).enhance(stereo, rate)
    assert torch.allclose(mono, enhancer.enhance(stereo.mean(dim=0), rate), atol=1e-6)
    assert enhancer.enhance(torch.randn(10, dtype=torch.float64), rate).shape == (10,)


def test_silence_full_scale_clipping_and_bad_tensors(enhancer):
    assert torch.equal(enhancer.enhance(torch.zeros(16000), 16000), torch.zeros(16000))
    square = torch.sign(torch.sin(torch.arange(32000) * 0.05))  # clipped at full scale
    assert torch.isfinite(enhancer.enhance(square, 16000)).all()
    with pytest.raises(AudioError, match="enhance input: 1 NaN/Inf samples"):
        enhancer.enhance(torch.tensor([0.0, float("nan"), 0.0]), 16000)
    for bad in (torch.zeros(100, dtype=torch.int16), torch.zeros(0), torch.zeros(1, 2, 3)):
        with pytest.raises(ValueError, match="float waveform"):
            enhancer.enhance(bad, 16000)


@pytest.mark.parametrize("rate", [16000, 48000])
def test_output_keeps_the_level_the_model_gives(experiment, clean, rate):
    """No normalisation: a mask of one keeps a clean clip's level, a mask of 1/2 halves it."""
    model = fresh_model(experiment)
    wav = resample(clean, 16000, rate)
    level = wav.square().mean().sqrt()
    for gain in (1.0, 0.5):
        # the head's output that makes mask_max * sigmoid(output) = gain (saturated when gain = mask_max)
        bias = 30.0 if gain >= model.mask_max else math.log(gain / (model.mask_max - gain))
        with torch.no_grad():
            model.head.out.bias.fill_(bias)
        out = Enhancer(model).enhance(wav, rate)
        assert float(out.square().mean().sqrt() / level) == pytest.approx(gain, rel=0.005)


def test_enhance_batch_zeroes_the_padding_like_enhance_on_padded_rows(enhancer):
    wavs = 0.1 * torch.randn(3, 24000)
    lengths = torch.tensor([1.0, 0.5, 0.25])
    out = enhancer.enhance_batch(wavs, lengths)
    for row, n in enumerate((24000, 12000, 6000)):
        padded = torch.cat([wavs[row, :n], torch.zeros(24000 - n)])
        assert torch.allclose(out[row], enhancer.enhance(padded, 16000) * (torch.arange(24000) < n), atol=1e-6)
    assert torch.allclose(enhancer.enhance_batch(wavs), enhancer.enhance(wavs, 16000))


def test_enhance_file_streams_blocks_and_matches_enhance(enhancer, tmp_path, monkeypatch):
    wav = 0.3 * torch.randn(2, 44100 * 3)
    sf.write(tmp_path / "in.flac", wav.T.numpy(), 44100, subtype="PCM_24")
    reads = []
    read_block = inference.read_block
    monkeypatch.setattr(inference, "read_block", lambda *a: reads.append(a[2]) or read_block(*a))
    small = Enhancer(enhancer.model, chunk_seconds=1.0, overlap_seconds=0.25)
    peak = small.enhance_file(tmp_path / "in.flac", tmp_path / "out" / "in.wav")
    assert max(reads) == small.chunking(44100)[0] < 44100 and len(reads) == 5  # never the whole file
    info = sf.info(tmp_path / "out" / "in.wav")
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (44100, 2, 44100 * 3, "FLOAT")
    out = load_audio(tmp_path / "out" / "in.wav", None, mono=False)
    assert torch.allclose(out, small.enhance(load_audio(tmp_path / "in.flac", None, mono=False), 44100), atol=1e-6)
    assert peak == pytest.approx(float(out.abs().max()))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["in.wav"]  # no temporary file left
    with pytest.raises(FileExistsError, match="in.wav exists.*overwrite=True"):
        small.enhance_file(tmp_path / "in.flac", tmp_path / "out" / "in.wav")
    Enhancer(enhancer.model, downmix=True).enhance_file(tmp_path / "in.flac", tmp_path / "out" / "in.wav",
                                                       overwrite=True)
    assert sf.info(tmp_path / "out" / "in.wav").channels == 1


def test_enhance_file_failures_name_the_file_and_leave_no_output(enhancer, tmp_path):
    data = np.zeros(16000 * 10, dtype=np.float32)
    data[16000 * 7] = np.nan
    sf.write(tmp_path / "nan.wav", data, 16000, subtype="FLOAT")
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x01garbage" * 10)
    sf.write(tmp_path / "no_frames.wav", np.zeros(0, dtype=np.float32), 16000)
    cases = {"nan.wav": "nan.wav: NaN/Inf samples, the first at 7.00 s", "empty.wav": "empty.wav: the file is empty",
             "corrupt.wav": "corrupt.wav: not a readable audio file", "missing.wav": "missing.wav: no such audio file",
             "no_frames.wav": "no_frames.wav: the file holds no samples"}
    for name, message in cases.items():
        with pytest.raises(AudioError, match=message):
            enhancer.enhance_file(tmp_path / name, tmp_path / "out" / name)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())



def test_the_default_model_loads_from_the_package_folder_or_says_it_is_missing(experiment, tmp_path, monkeypatch):
    packaged = tmp_path / "pretrained" / "denoise"
    monkeypatch.setattr(inference, "DEFAULT_MODEL", packaged)
    with pytest.raises(FileNotFoundError, match="the packaged default model is missing.*--model DIR"):
        Enhancer.default()
    packaged.mkdir(parents=True)
    shutil.copy(experiment[0] / INFERENCE_CONFIG, packaged / INFERENCE_CONFIG)
    torch.save(experiment[1], packaged / inference.PACKAGED_WEIGHTS)
    enhancer = Enhancer.default(chunk_seconds=2.0, overlap_seconds=0.5)
    assert same_weights(enhancer.model, experiment[1]) and enhancer.chunk_seconds == 2.0


def test_a_model_with_the_noise_floor_loads_with_it_and_older_configs_without(tmp_path):
    best = make_experiment(tmp_path / "floor", head_noise_floor_frames=63)
    assert json.loads((tmp_path / "floor" / INFERENCE_CONFIG).read_text())["head_noise_floor_frames"] == 63
    model = Enhancer.from_experiment(tmp_path / "floor").model
    assert model.noise_floor.window_frames == 63 and same_weights(model, best)
    old = tmp_path / "old"
    make_experiment(old)
    config = json.loads((old / INFERENCE_CONFIG).read_text())
    (old / INFERENCE_CONFIG).write_text(json.dumps({k: v for k, v in config.items() if k != "head_noise_floor_frames"}))
    assert Enhancer.from_experiment(old).model.noise_floor is None


def test_a_model_with_the_deep_filter_loads_with_it_and_older_configs_without(tmp_path):
    best = make_experiment(tmp_path / "df", deep_filter_bins=32, deep_filter_order=3, deep_filter_lookahead=1)
    config = json.loads((tmp_path / "df" / INFERENCE_CONFIG).read_text())
    assert (config["deep_filter_bins"], config["deep_filter_order"], config["deep_filter_lookahead"]) == (32, 3, 1)
    enhancer = Enhancer.from_experiment(tmp_path / "df")
    df = enhancer.model.deep_filter
    assert (df.bins, df.order, df.lookahead) == (32, 3, 1) and same_weights(enhancer.model, best)
    old = tmp_path / "old"
    make_experiment(old)
    config = json.loads((old / INFERENCE_CONFIG).read_text())
    (old / INFERENCE_CONFIG).write_text(json.dumps({k: v for k, v in config.items() if not k.startswith("deep_")}))
    assert Enhancer.from_experiment(old).model.deep_filter is None
