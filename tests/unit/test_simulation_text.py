"""maese.simulation.text: deterministic, varied sentences in English and other languages."""

import re

import pytest

from maese.simulation.text import LANGUAGES, PHRASES, SentenceGenerator, plural, third_person


def test_same_seed_same_sentences():
    assert SentenceGenerator(7).sentences(50) == SentenceGenerator(7).sentences(50)
    assert SentenceGenerator(7).sentences(50) != SentenceGenerator(8).sentences(50)
    assert SentenceGenerator(3, "de").sentences(20) == SentenceGenerator(3, "de").sentences(20)


def test_english_is_varied():
    sentences = SentenceGenerator(0).sentences(500)
    lengths = [len(s.split()) for s in sentences]
    assert min(lengths) >= 4 and max(lengths) <= 25
    assert min(lengths) <= 6 and max(lengths) >= 16  # short and long ones
    assert len(set(sentences)) == len(sentences)
    assert all(s[0].isupper() and s[-1] in ".?" for s in sentences)
    assert sum(s.endswith("?") for s in sentences) > 50  # questions
    assert sum(", " in s for s in sentences) > 50  # clauses and lists
    assert sum(bool(re.search(r"\d", s)) for s in sentences) > 10  # numbers
    assert len({w.strip(".,?").lower() for s in sentences for w in s.split()}) > 300


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_other_languages_use_their_phrases(language):
    for sentence in SentenceGenerator(1, language).sentences(20):
        rest = sentence
        for phrase in sorted(PHRASES[language], key=len, reverse=True):
            rest = rest.replace(phrase, "")
        assert rest.strip() == "", sentence
    assert len(set(SentenceGenerator(1, language).sentences(20))) > 10


def test_unknown_language():
    with pytest.raises(ValueError, match="xx"):
        SentenceGenerator(0, "xx")


def test_inflection_rules():
    nouns = ["box", "brush", "key", "story", "cup"]
    assert [plural(n) for n in nouns] == ["boxes", "brushes", "keys", "stories", "cups"]
    verbs = ["carry", "watch", "fix", "play", "read"]
    assert [third_person(v) for v in verbs] == ["carries", "watches", "fixes", "plays", "reads"]
