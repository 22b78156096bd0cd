"""maese.simulation.speech: eSpeak NG engine, voice pool and split, per-utterance variety."""

import re
import time

import numpy as np
import pytest

from maese.simulation.speech import (
    EXCLUDED_LANGUAGES, VARIANTS, Param, UtteranceParams, VoiceSpec, get_engine, sample_params,
    split_voices, synthesize_utterance, trim_silence, voice_pool, with_pauses,
)

TEXT = "The quick brown fox jumps over the lazy dog, and then it runs away."
EN = VoiceSpec("en-us", "m3")


def rms_db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


@pytest.mark.parametrize("voice, text", [
    ("en-us", TEXT), ("en+m3", TEXT), ("en-gb+klatt", TEXT), ("es+f2", "Buenos días, ¿cómo estás hoy?"),
    ("de+whisper", "Der Zug fährt um acht Uhr ab."),
])
def test_engine_speaks(voice, text):
    engine = get_engine()
    assert engine is get_engine() and engine.sample_rate == 22050
    engine.set_voice(voice)
    engine.set_parameter(Param.RATE, 175)
    audio = engine.synthesize(text)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 1.0 < audio.size / engine.sample_rate < 8.0
    assert rms_db(audio) > -40 and np.abs(audio).max() < 1


@pytest.mark.parametrize("name", ["xx-nope", "en-us+nosuchvariant"])
def test_unknown_voice_is_a_clear_error(name):
    with pytest.raises(RuntimeError, match=re.escape(f"unknown eSpeak voice '{name}'")):
        get_engine().set_voice(name)


def test_utterance_errors_name_voice_and_text():
    with pytest.raises(RuntimeError, match="zz-top"):
        synthesize_utterance(TEXT, UtteranceParams(VoiceSpec("zz-top", "m1")))
    with pytest.raises(RuntimeError, match="no audio for voice 'en-us\\+m3', text ' '"):
        synthesize_utterance(" ", UtteranceParams(EN))


def test_utterance_rate_level_and_trim():
    audio = synthesize_utterance(TEXT, UtteranceParams(EN, level_db=-30.0), sample_rate=16000)
    assert audio.dtype == np.float32 and 2.0 < audio.size / 16000 < 6.0
    assert rms_db(audio) == pytest.approx(-30.0, abs=0.05)
    loud = synthesize_utterance(TEXT, UtteranceParams(EN, level_db=-3.0))
    assert np.abs(loud).max() <= 10 ** (-1 / 20) + 1e-6  # peak-limited, no clipping
    active = np.flatnonzero(np.abs(audio) > np.abs(audio).max() * 10 ** (-50 / 20))
    assert active[0] <= 0.1 * 16000 + 1 and audio.size - 1 - active[-1] <= 0.1 * 16000 + 1
    assert synthesize_utterance(TEXT, UtteranceParams(EN), sample_rate=22050).size > audio.size * 1.3


def test_faster_rate_is_shorter_and_params_change_audio():
    slow = synthesize_utterance(TEXT, UtteranceParams(EN, rate=130))
    fast = synthesize_utterance(TEXT, UtteranceParams(EN, rate=260))
    assert fast.size < 0.7 * slow.size
    base = synthesize_utterance(TEXT, UtteranceParams(EN))
    for change in [dict(pitch=90), dict(pitch_range=5), dict(voice=VoiceSpec("en-us", "f4")), dict(word_gap=3)]:
        other = synthesize_utterance(TEXT, UtteranceParams(**{"voice": EN, **change}))
        assert other.shape != base.shape or not np.array_equal(other, base), change
    assert synthesize_utterance(TEXT, UtteranceParams(EN, word_gap=3)).size > base.size + 0.3 * 16000


def test_same_params_give_identical_audio():
    """Byte-identical whatever ran before and whenever (eSpeak seeds its noise from the clock)."""
    params = UtteranceParams(VoiceSpec("en-gb", "f2"), rate=200, pitch=30, pauses=((0.5, 200),))
    first = synthesize_utterance(TEXT, params)
    synthesize_utterance("Something else entirely.", UtteranceParams(VoiceSpec("fr-fr", "klatt3")))
    time.sleep(1.05)
    assert synthesize_utterance(TEXT, params).tobytes() == first.tobytes()


def test_pauses_lengthen_audio():
    base = synthesize_utterance(TEXT, UtteranceParams(EN)).size / 16000
    paused = synthesize_utterance(TEXT, UtteranceParams(EN, pauses=((0.5, 400),))).size / 16000
    twice = synthesize_utterance(TEXT, UtteranceParams(EN, pauses=((0.2, 300), (0.7, 300)))).size / 16000
    assert 0.3 < paused - base < 0.5 and 0.5 < twice - base < 0.7
    ssml = with_pauses("a b & c", ((0.5, 100), (0.6, 50), (0.0, 20)))
    assert ssml == 'a <break time="20ms"/> b <break time="150ms"/> &amp; c'


def test_trim_silence():
    x = np.zeros(10000, np.float32)
    x[4000:5000] = 0.5
    assert trim_silence(x, 1000).size == 1000 + 2 * 100
    assert trim_silence(np.zeros(100, np.float32), 1000).size == 0


def test_voice_pool():
    pool = voice_pool()
    languages = sorted({v.language for v in pool})
    assert pool == voice_pool() == sorted(pool)
    assert len(pool) == len(languages) * len(VARIANTS)
    assert {"en-us", "en-gb", "es", "fr-fr", "de", "it", "pt-br", "nl", "pl"} <= set(languages)
    assert not set(EXCLUDED_LANGUAGES) & set(languages)
    assert VoiceSpec("en-us", "f3").name == "en-us+f3" and VoiceSpec("pt-br", "m1").text_language == "pt"


def test_split_voices_holds_out_whole_variants_with_english_on_both_sides():
    pool = voice_pool()
    train, ood = split_voices(pool, ood_fraction=0.25, seed=0)
    assert not set(train) & set(ood) and sorted(train + ood) == pool
    assert not {v.variant for v in train} & {v.variant for v in ood}, "a variant on both sides"
    assert {v.language for v in train} == {v.language for v in ood} == {v.language for v in pool}
    assert len({v.variant for v in ood}) == round(0.25 * len(VARIANTS))
    assert (train, ood) == split_voices(list(reversed(pool)), ood_fraction=0.25, seed=0)
    assert ood != split_voices(pool, ood_fraction=0.25, seed=1)[1]
    tiny_train, tiny_ood = split_voices([EN, VoiceSpec("en-us", "f1")], ood_fraction=0.01)
    assert len(tiny_train) == len(tiny_ood) == 1
    with pytest.raises(ValueError, match="2 voice variants"):
        split_voices([EN])


def test_sample_params_deterministic_and_in_range():
    pool = voice_pool()
    draws = [sample_params(np.random.default_rng(5), pool) for _ in range(2)]
    assert draws[0] == draws[1]
    many = [sample_params(np.random.default_rng(i), pool) for i in range(200)]
    assert len({p.voice for p in many}) > 100 and len({p.rate for p in many}) > 50
    for p in many:
        assert 120 <= p.rate <= 260 and 0 <= p.pitch <= 99 and 0 <= p.pitch_range <= 99
        assert all(0 <= pos <= 1 and 50 <= ms <= 400 for pos, ms in p.pauses)
    assert any(p.pauses for p in many) and any(not p.pauses for p in many)
