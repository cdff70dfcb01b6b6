"""Keyword tables read with one longest-first regex (shared by the category entities)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from chatbot.nlu.entities.registry import Span


def keyword_pattern(table: Mapping[str, str]) -> re.Pattern[str]:
    """One alternation of the table's keywords, longest first so 储蓄卡 beats 储蓄."""
    words = sorted(table, key=len, reverse=True)
    return re.compile("|".join(re.escape(word) for word in words))


def keyword_spans(pattern: re.Pattern[str], table: Mapping[str, str], text: str) -> Iterator[Span]:
    """Yield a span per keyword occurrence with the keyword's category as value."""
    for match in pattern.finditer(text):
        yield Span(match.start(), match.end(), table[match.group()])
