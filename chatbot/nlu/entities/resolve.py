"""Choosing among overlapping findings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Candidate:
    """A span found by one extractor, in normalized-text coordinates."""

    entity: str
    value: Any
    start: int
    end: int
    priority: int


def resolve_overlaps(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Keep a non-overlapping subset: higher priority first, then longer, then earlier.

    Priorities encode specificity: an ID number's digits are not also a phone,
    a phone's digits are not an OTP or an amount, a date is not a term.
    """
    ranked = sorted(candidates, key=lambda c: (-c.priority, c.start - c.end, c.start))
    kept: list[Candidate] = []
    for cand in ranked:
        if all(cand.end <= other.start or other.end <= cand.start for other in kept):
            kept.append(cand)
    return sorted(kept, key=lambda c: (c.start, c.end))
