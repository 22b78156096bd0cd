"""maese-enhance: files, folders, recursion and globs; bad inputs fail alone with reasons; skip and overwrite."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from maese.cli.enhance import enhance_one, main, plan
from maese.inference import Enhancer
from test_inference import make_experiment

RATE = 16000
ARGS = ["--chunk-seconds", "1", "--overlap-seconds", "0.25", "--threads", "1"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exp") / "finetune_denoise"
    make_experiment(folder)
    return folder


def tone(seconds, rate, channels=1, peak=0.3):
    t = np.arange(int(seconds * rate)) / rate
    wav = peak * np.sin(2 * np.pi * 300 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) / 1.5
    return np.repeat(wav[:, None], channels, axis=1).astype(np.float32)


@pytest.fixture
def inputs(tmp_path):
    """A folder of good and bad inputs: {file name: (rate, channels, frames) expected, or None = must fail}."""
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    good = {
        "silence.wav": (np.zeros((RATE, 1), np.float32), RATE, "PCM_16"),
        "clipped.wav": (np.clip(tone(1.5, RATE, peak=3.0), -1, 1), RATE, "PCM_16"),
        "rate8k.wav": (tone(1.2, 8000), 8000, "PCM_16"),
        "rate48k.wav": (tone(1.2, 48000), 48000, "PCM_16"),
        "stereo.wav": (tone(2.5, RATE, channels=2), RATE, "PCM_16"),
        "pcm24.wav": (tone(1.0, 22050), 22050, "PCM_24"),
        "float32.wav": (tone(1.0, RATE, peak=1.5), RATE, "FLOAT"),  # above full scale: float keeps it
        "speech.flac": (tone(1.0, 44100), 44100, "PCM_16"),
        "sub/nested.wav": (tone(0.5, RATE), RATE, "PCM_16"),
    }
    expected = {}
    for name, (data, rate, subtype) in good.items():
        sf.write(folder / name, data, rate, subtype=subtype)
        expected[name] = (rate, data.shape[1], data.shape[0])
    nan = tone(1.0, RATE)
    nan[8000] = np.nan
    sf.write(folder / "nan.wav", nan, RATE, subtype="FLOAT")
    inf = tone(1.0, RATE)
    inf[100] = np.inf
    sf.write(folder / "inf.wav", inf, RATE, subtype="FLOAT")
    sf.write(folder / "zero_length.wav", np.zeros((0, 1), np.float32), RATE)
    (folder / "zero_bytes.wav").write_bytes(b"")
    (folder / "corrupt_header.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(40)))
    expected.update(dict.fromkeys(["nan.wav", "inf.wav", "zero_length.wav", "zero_bytes.wav", "corrupt_header.wav"]))
    return folder, expected


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().out


def test_bad_inputs_fail_alone_with_reasons_and_the_rest_is_enhanced(model, inputs, tmp_path, capsys):
    folder, expected = inputs
    (tmp_path / "empty").mkdir()
    globbed = tmp_path / "globbed"
    globbed.mkdir()
    sf.write(globbed / "g.wav", tone(0.5, RATE), RATE)
    out = tmp_path / "out"
    code, text = run(capsys, folder, "-r", tmp_path / "missing.wav", tmp_path / "empty", globbed / "*.wav",
                     tmp_path / "none*.flac", "-o", out, "--model", model, *ARGS)
    assert code == 1
    good = {name: e for name, e in expected.items() if e is not None}
    assert f"{len(good) + 1} done, 0 skipped (output exists; --overwrite to redo), 8 failed:" in text
    for name, (rate, channels, frames) in good.items():
        path = out / name.replace(".flac", ".wav")
        data, sr = sf.read(path, always_2d=True)
        assert (sr, data.shape[1], data.shape[0], sf.info(path).subtype) == (rate, channels, frames, "FLOAT")
        assert np.isfinite(data).all()
    assert (out / "g.wav").is_file()
    assert sf.read(out / "silence.wav")[0].max() == 0.0
    reasons = {
        "nan.wav": "NaN/Inf samples, the first at 0.50 s", "inf.wav": "NaN/Inf samples, the first at 0.01 s",
        "zero_length.wav": "holds no samples", "zero_bytes.wav": "empty (0 bytes)",
        "corrupt_header.wav": "not a readable audio file", "missing.wav": "no such file or folder",
        "empty": "no audio files; audio is .wav, .flac, .ogg", "none*.flac": "the pattern matches no audio files",
    }
    lines = text.splitlines()[1:]
    for name, reason in reasons.items():
        assert any(name in line and reason in line for line in lines), (name, text)
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no temporary files left


def test_rerun_skips_existing_outputs_and_overwrite_redoes_them(model, tmp_path, capsys):
    sf.write(tmp_path / "a.wav", tone(0.5, RATE), RATE)
    sf.write(tmp_path / "b.wav", tone(0.5, RATE), RATE)
    out = tmp_path / "out"
    assert run(capsys, tmp_path / "a.wav", "-o", out, "--model", model, *ARGS)[0] == 0
    code, text = run(capsys, tmp_path / "a.wav", tmp_path / "b.wav", "-o", out, "--model", model, *ARGS)
    assert code == 0 and "1 done, 1 skipped" in text and "0 failed." in text
    code, text = run(capsys, tmp_path / "a.wav", tmp_path / "b.wav", "-o", out, "--model", model, "--overwrite",
                     "--downmix", *ARGS)
    assert code == 0 and "2 done, 0 skipped" in text


def test_folders_without_recursion_collisions_and_in_place_outputs(tmp_path):
    for name in ("a.wav", "a.flac", "b.wav", "sub/c.wav"):
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(tmp_path / "in" / name, tone(0.1, RATE), RATE)
    jobs, failed = plan([str(tmp_path / "in"), str(tmp_path / "in" / "b.wav")], tmp_path / "out")
    assert [(src.name, out.name) for src, out in jobs] == [("a.flac", "a.wav"), ("b.wav", "b.wav")]
    reason = (f"its output {tmp_path / 'out' / 'a.wav'} is already the output of {tmp_path / 'in' / 'a.flac'}; "
              "enhance them separately")
    assert failed == [(str(tmp_path / "in" / "a.wav"), reason)]
    jobs, _ = plan([str(tmp_path / "in")], tmp_path / "out", recursive=True)
    assert ("c.wav", tmp_path / "out" / "sub" / "c.wav") in [(src.name, out) for src, out in jobs]
    _, failed = plan([str(tmp_path / "in" / "b.wav")], tmp_path / "in")
    assert failed == [(str(tmp_path / "in" / "b.wav"), "its output would replace it; choose another -o folder")]
    _, failed = plan([str(tmp_path / "in" / "sub" / "nothing")], tmp_path / "out")
    assert "no such file or folder" in failed[0][1]
    (tmp_path / "deep" / "x").mkdir(parents=True)
    sf.write(tmp_path / "deep" / "x" / "d.wav", tone(0.1, RATE), RATE)
    _, failed = plan([str(tmp_path / "deep")], tmp_path / "out")
    assert failed[0][1].startswith("no audio files (sub-folders are searched with -r)")


def test_a_bad_model_folder_exits_with_2_before_any_work(tmp_path, capsys):
    sf.write(tmp_path / "a.wav", tone(0.5, RATE), RATE)
    assert main([str(tmp_path / "a.wav"), "-o", str(tmp_path / "out"), "--model", str(tmp_path)]) == 2
    assert f"cannot load the model from {tmp_path}: {tmp_path}: no fine-tuning checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_without_model_the_packaged_default_is_used_or_named_as_missing(tmp_path, capsys, monkeypatch):
    from maese import inference
    from maese.cli import enhance

    sf.write(tmp_path / "a.wav", tone(0.5, RATE), RATE)
    for module in (inference, enhance):
        monkeypatch.setattr(module, "DEFAULT_MODEL", tmp_path / "pretrained" / "denoise")
    assert main([str(tmp_path / "a.wav"), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"cannot load the model from {tmp_path}/pretrained/denoise" in err and "packaged default model" in err


def cut_copy(path, fmt, rate=RATE):
    """A tone written as ``fmt``, then cut to half its bytes (an interrupted copy)."""
    sf.write(path, tone(1.0, rate), rate, format=fmt, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def streamed_wav(path):
    """A complete wav whose header holds a streaming writer's placeholder sizes (0xFFFFFFFF), not its length."""
    sf.write(path, tone(0.5, RATE), RATE, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    at = data.find(b"data")
    data[4:8] = data[at + 4:at + 8] = (0xFFFFFFFF).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def test_truncated_audio_and_more_than_two_channels_fail_alone_naming_the_fix(model, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(folder / "good.wav", tone(0.5, RATE), RATE)
    sf.write(folder / "four.wav", tone(0.5, RATE, channels=4), RATE)
    streamed = streamed_wav(tmp_path / "streamed.wav")
    cut = {name: cut_copy(tmp_path / name, fmt) for name, fmt in
           (("cut.wav", "WAV"), ("cut_aiff.aiff", "AIFF"), ("cut_w64.w64", "W64"), ("cut_flac.flac", "FLAC"))}
    out = tmp_path / "out"
    code, text = run(capsys, folder, streamed, *cut.values(), "-o", out, "--model", model, *ARGS)
    assert code == 1 and "2 done, 0 skipped (output exists; --overwrite to redo), 5 failed:" in text
    assert sorted(p.name for p in out.iterdir()) == ["good.wav", "streamed.wav"]
    assert sf.info(out / "streamed.wav").frames == sf.info(streamed).frames
    reasons = {
        "four.wav": "4 channels; maese-enhance takes mono or stereo files: pass --downmix to average the channels "
                    "into one, or split the file into mono files",
        "cut.wav": "truncated: its header promises 32000 bytes of audio data (data chunk), the file holds 15978. "
                   "Re-copy the file.",
        "cut_aiff.aiff": "truncated: its header promises 32008 bytes of audio data (SSND chunk)",
        "cut_w64.w64": "truncated: its header promises",
        "cut_flac.flac": "the audio data is corrupt",
    }
    lines = text.splitlines()[1:]
    for name, reason in reasons.items():
        assert any(name in line and reason in line for line in lines), (name, text)
    code, text = run(capsys, folder / "four.wav", "-o", out, "--model", model, "--downmix", *ARGS)
    assert code == 0 and "1 done" in text and sf.info(out / "four.wav").channels == 1



def test_each_input_is_opened_once_for_its_header_and_once_to_stream_it(model, tmp_path, monkeypatch):
    sf.write(tmp_path / "good.wav", tone(0.5, RATE, channels=2), RATE)
    sf.write(tmp_path / "four.wav", tone(0.5, RATE, channels=4), RATE)
    cut = cut_copy(tmp_path / "cut.wav", "WAV")
    enhancer = Enhancer.from_experiment(model, chunk_seconds=1.0, overlap_seconds=0.25)
    opened = []
    open_ = sf.SoundFile.__init__

    def counting(self, file, mode="r", *args, **kwargs):
        if mode == "r":
            opened.append(Path(file).name)
        open_(self, file, mode, *args, **kwargs)

    monkeypatch.setattr(sf.SoundFile, "__init__", counting)
    assert enhance_one(enhancer, tmp_path / "good.wav", tmp_path / "out" / "good.wav", False) is None
    assert opened == ["good.wav", "good.wav"]  # read_info (sf.info), then the streaming reader
    assert "4 channels" in enhance_one(enhancer, tmp_path / "four.wav", tmp_path / "out" / "four.wav", False)
    assert "truncated" in enhance_one(enhancer, cut, tmp_path / "out" / "cut.wav", False)
    assert opened[2:] == ["four.wav", "cut.wav"]  # their header tells what is wrong; read once


@pytest.mark.parametrize("options, message", [
    (["--chunk-seconds", "0"],
     "--chunk-seconds 0: give a positive number of seconds (default: the model's training crop)"),
    (["--chunk-seconds", "-2"], "--chunk-seconds -2: give a positive number of seconds"),
    (["--chunk-seconds", "nan"], "--chunk-seconds nan: give a positive number of seconds"),
    (["--chunk-seconds", "2", "--overlap-seconds", "2"],
     "--overlap-seconds 2: give a number of seconds above 0 and below --chunk-seconds (2), e.g. 0.25"),
    (["--chunk-seconds", "4", "--overlap-seconds", "0"],
     "--overlap-seconds 0: give a number of seconds above 0 and below --chunk-seconds (4)"),
    (["--chunk-seconds", "4", "--overlap-seconds", "inf"], "--overlap-seconds inf: give a number of seconds above 0"),
    (["--overlap-seconds", "0.5"], "--overlap-seconds 0.5 needs --chunk-seconds too"),
])
def test_bad_chunking_options_are_named_before_the_model_is_loaded(tmp_path, capsys, options, message):
    sf.write(tmp_path / "a.wav", tone(0.5, RATE), RATE)
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "a.wav"), "-o", str(tmp_path / "out"), "--model", str(tmp_path / "no_model"), *options])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"maese-enhance: error: {message}" in err and "cannot load the model" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("options, chunking", [
    ([], (1.0, 0.5)),  # the model's training crop (--size tiny: 1 s), overlapping by half
    (["--chunk-seconds", "3"], (3.0, 1.5)),
    (["--chunk-seconds", "3", "--overlap-seconds", "0.25"], (3.0, 0.25)),
])
def test_the_chunks_are_the_models_training_crop_unless_given(model, tmp_path, capsys, monkeypatch, options, chunking):
    sf.write(tmp_path / "a.wav", tone(0.5, RATE), RATE)
    used = []
    monkeypatch.setattr(Enhancer, "enhance_file", lambda self, src, out, *args, **kwargs:
                        used.append((self.chunk_seconds, self.overlap_seconds)))
    assert main([str(tmp_path / "a.wav"), "-o", str(tmp_path / "out"), "--model", str(model), *options]) == 0
    assert used == [chunking]


def test_an_unwritable_output_folder_stops_before_any_work_and_a_blocked_output_fails_alone(model, tmp_path, capsys):
    sf.write(tmp_path / "a.wav", tone(0.5, RATE), RATE)
    taken = tmp_path / "taken"
    taken.write_text("a file where the output folder should be")
    for out_dir, reason in ((taken, "it is a file, not a folder"), (taken / "sub", "Not a directory")):
        assert main([str(tmp_path / "a.wav"), "-o", str(out_dir), "--model", str(model), *ARGS]) == 2
        err = capsys.readouterr().err
        assert f"maese-enhance: cannot write into the output folder {out_dir} ({reason}); choose another -o folder " \
            "or fix its permissions" in err
    (tmp_path / "in" / "sub").mkdir(parents=True)
    sf.write(tmp_path / "in" / "b.wav", tone(0.5, RATE), RATE)
    sf.write(tmp_path / "in" / "sub" / "c.wav", tone(0.5, RATE), RATE)
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_text("a file where a sub-folder of outputs should be")
    code, text = run(capsys, tmp_path / "in", "-r", "-o", out, "--model", model, *ARGS)
    assert code == 1 and "1 done, 0 skipped (output exists; --overwrite to redo), 1 failed:" in text
    assert f"cannot write {out / 'sub' / 'c.wav'} (File exists: {out / 'sub'}); free that path or choose another " \
        "-o folder" in text
    assert (out / "b.wav").is_file()


def test_an_os_error_names_the_side_it_came_from(tmp_path):
    src, out = tmp_path / "in.wav", tmp_path / "out" / "in.wav"
    sf.write(src, tone(0.5, 16000), 16000)

    class Raising:  # an enhancer whose file operation fails with the given OSError
        downmix = False

        def __init__(self, err):
            self.err = err

        def enhance_file(self, *args, **kwargs):
            raise self.err

    reading = enhance_one(Raising(PermissionError(13, "Permission denied", str(src))), src, out, False)
    assert reading.startswith(f"cannot read {src} (Permission denied)")
    writing = enhance_one(Raising(OSError(28, "No space left on device", str(out))), src, out, False)
    assert writing.startswith(f"cannot write {out} (No space left on device: {out})")
