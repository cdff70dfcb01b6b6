"""chatbot.nlu.textmap: edits that keep every character's origin."""

import pytest

from chatbot.nlu.lexmatch import LongestMatcher
from chatbot.nlu.textmap import MappedText


def test_identity_maps_each_character_to_itself():
    mapped = MappedText.identity("abc")
    assert mapped.starts == (0, 1, 2) and mapped.ends == (1, 2, 3)


def test_deletion_and_same_length_replacement():
    mapped = MappedText.identity("a😀bc").apply([(1, 2, ""), (2, 4, "BC")])
    assert mapped.text == "aBC"
    assert mapped.starts == (0, 2, 3) and mapped.ends == (1, 3, 4)


def test_shrinking_replacement_covers_the_whole_source():
    mapped = MappedText.identity("x啊啊啊y").apply([(1, 4, "啊")])
    assert mapped.text == "x啊y"
    assert (mapped.starts[1], mapped.ends[1]) == (1, 4)


def test_edits_compose():
    first = MappedText.identity("ab  cd").apply([(2, 4, " ")])
    second = first.apply([(3, 5, "CD")])
    assert second.text == "ab CD"
    assert second.starts == (0, 1, 2, 4, 5) and second.ends == (1, 2, 4, 5, 6)


def test_with_text_requires_same_length():
    with pytest.raises(ValueError):
        MappedText.identity("ab").with_text("abc")


def test_longest_matcher_prefers_longer_words_and_does_not_overlap():
    matcher = LongestMatcher(["余额", "余额宝", "宝"])
    assert list(matcher.finditer("余额宝和余额")) == [(0, 3, "余额宝"), (4, 6, "余额")]
    assert list(LongestMatcher(["ab", "abc"]).finditer("ab")) == [(0, 2, "ab")]
