"""Properties of the NLU front end (issue 23): the normalizer, every entity extractor and the
Parser take any Unicode text without raising, and amounts written the ways customers write
them read back as the same Decimal (also what chatbot/money.py writes).

Hypothesis runs derandomized and without an example database, so CI sees the same examples
every time; `max_examples` keeps all property tests of the suite under ~15 s together.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.money import format_amount, to_capital
from chatbot.nlu.entities import extract_entities
from chatbot.nlu.entities.registry import Context, registered
from chatbot.nlu.normalize import normalize
from tests.unicode_text import any_text

TODAY = date(2026, 3, 31)
FAST = settings(max_examples=300, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(FAST, max_examples=150)  # the Parser classifies every example
days = st.dates(date(1990, 1, 1), date(2100, 12, 31))


# --- never raises -------------------------------------------------------------------------------

@FAST
@given(any_text())
def test_normalize_takes_any_text_and_maps_every_character_back(text):
    result = normalize(text)
    assert len(result.offsets) == len(result.text) + 1 and result.offsets[-1] == len(text)
    assert list(result.offsets) == sorted(result.offsets)
    assert all(0 <= start < end <= len(text) for start, end in zip(result.offsets, result.ends))


@FAST
@given(any_text(), days)
def test_every_extractor_takes_any_text(text, today):
    normalized = normalize(text)
    context = Context(normalized.text, today, (normalized.text[:3],))
    for registration in registered():
        try:
            spans = list(registration.fn(context))
        except Exception as error:  # name the extractor: the traceback alone may not
            raise AssertionError(f"extractor {registration.name!r} raised on {text!r}") from error
        assert all(0 <= s.start <= s.end <= len(normalized.text) for s in spans), registration.name
    for entity in extract_entities(normalized, today, (text[:2], "李娜")):
        assert text[entity.start:entity.end] == entity.text


@SLOW
@given(any_text(), days)
def test_the_parser_takes_any_text(parser, text, today):
    result = parser.parse(text, today, known_payees=(text[:2],))
    assert result.ranking and result.intent == result.ranking[0]
    for entity in result.entities + result.later_entities:
        assert text[entity.start:entity.end] == entity.text
    result.to_dict()  # what /v1/nlu/parse returns


@pytest.mark.parametrize(("text", "expected"), [("a\ud800b", "ab"), ("转账\udfff500元", "转账500元"), ("\udc00", "")])
def test_lone_surrogates_are_dropped_not_raised_on(text, expected):
    """OpenCC encodes to UTF-8 and raised UnicodeEncodeError on a lone surrogate (found by the
    property above); HTTP refuses them with 422 before, the normalizer now drops them."""
    assert normalize(text).text == expected
    assert normalize("转账\udfff500元").original_text(2, 6) == "500元"
