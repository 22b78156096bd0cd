"""maese.dataprep: the resampling cache under jobs that prepare the same data side by side."""

import numpy as np
import soundfile as sf

from maese import dataprep


def test_a_copy_written_by_another_job_meanwhile_is_replaced_not_an_error(tmp_path, monkeypatch):
    root, cache = tmp_path / "data", tmp_path / "cache"
    root.mkdir()
    sf.write(root / "a.wav", np.zeros(4800, dtype=np.float32), 48000)
    load = dataprep.load_audio

    def load_while_another_job_writes(path, sample_rate):
        wav = load(path, sample_rate)
        dataprep.save_audio(cache / "a.wav", wav, sample_rate)  # the other job's copy lands first
        return wav

    monkeypatch.setattr(dataprep, "load_audio", load_while_another_job_writes)
    files, resampled = dataprep.resample_to_cache([root / "a.wav"], root, cache, 16000)
    assert files == [cache / "a.wav"] and resampled == 1 and sf.info(cache / "a.wav").samplerate == 16000
