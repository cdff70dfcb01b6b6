"""Run every registered extractor over a message and settle overlaps."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from functools import lru_cache

# Imported for their @extractor registrations.
from chatbot.nlu.entities import (  # noqa: F401
    account_type,
    amount,
    card_tail,
    date_range,
    id_number,
    otp,
    payee,
    phone,
    term_months,
    txn_type,
)
from chatbot.nlu.entities.base import Entity
from chatbot.nlu.entities.registry import CLAIM_PREFIX, Context, registered
from chatbot.nlu.entities.resolve import Candidate, resolve_overlaps
from chatbot.nlu.normalize import NormalizedText, normalize


def extract_entities(
    normalized: NormalizedText, today: datetime.date, known_payees: Sequence[str] = ()
) -> list[Entity]:
    """All entities in ``normalized``, ordered by position, spans in the original text.

    ``today`` anchors relative dates; ``known_payees`` (the customer's payee book)
    are matched exactly, after the same normalization as the message.
    """
    payees = tuple(dict.fromkeys(_normalized_name(name) for name in known_payees if name.strip()))
    ctx = Context(normalized.text, today, payees)
    candidates = [
        Candidate(reg.name, span.value, span.start, span.end, reg.priority)
        for reg in registered()
        for span in reg.fn(ctx)
        if span.end > span.start
    ]
    kept = resolve_overlaps(candidates)
    return [_to_entity(normalized, c) for c in kept if not c.entity.startswith(CLAIM_PREFIX)]


@lru_cache(maxsize=4096)
def _normalized_name(name: str) -> str:
    # Payee books are small and asked about on every message; normalize each name once.
    return normalize(name).text


def _to_entity(normalized: NormalizedText, cand: Candidate) -> Entity:
    start, end = normalized.to_original(cand.start, cand.end)
    return Entity(cand.entity, cand.value, start, end, normalized.original[start:end])
