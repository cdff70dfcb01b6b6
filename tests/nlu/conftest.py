"""Helpers for the NLU tests: run the real normalizer and extractors on a sentence."""

from datetime import date

import pytest

from chatbot.nlu.entities import Entity, extract_entities
from chatbot.nlu.normalize import normalize

DEFAULT_TODAY = date(2026, 3, 31)


def entities(text: str, today: date = DEFAULT_TODAY, known_payees=()) -> list[Entity]:
    """All entities of ``text``."""
    return extract_entities(normalize(text), today, known_payees)


def values(text: str, kind: str, today: date = DEFAULT_TODAY, known_payees=()) -> list:
    """The values of the ``kind`` entities of ``text``."""
    return [e.value for e in entities(text, today, known_payees) if e.entity == kind]


@pytest.fixture
def extract():
    """``extract(text, today=..., known_payees=...)`` -> list of Entity."""
    return entities


@pytest.fixture
def values_of():
    """``values_of(text, kind, today=...)`` -> list of that kind's values."""
    return values
