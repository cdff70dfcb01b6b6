"""Entity extractors, registered by decorator.

An extractor takes the ``Context`` of one message and yields ``Span`` objects in
normalized-text coordinates; the registration supplies the entity name and the
priority used when spans of different extractors overlap.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

# Entity names starting with "_" only claim text (so nothing else reads it)
# and are never returned, e.g. a bank card number or an ID with a bad checksum.
CLAIM_PREFIX = "_"


class Span(NamedTuple):
    """An extractor's finding: ``text[start:end]`` of the normalized text means ``value``."""

    start: int
    end: int
    value: Any


@dataclass(frozen=True)
class Context:
    """What every extractor gets: the normalized text and the facts it is relative to."""

    text: str
    today: datetime.date
    known_payees: tuple[str, ...] = ()


ExtractorFn = Callable[[Context], Iterable[Span]]


@dataclass(frozen=True)
class Registration:
    """A registered extractor: its entity name, overlap priority and function."""

    name: str
    priority: int
    fn: ExtractorFn


class UnknownExtractorError(KeyError):
    """Raised for an entity name nobody registered."""


_REGISTRY: dict[str, Registration] = {}


def extractor(name: str, priority: int = 50) -> Callable[[ExtractorFn], ExtractorFn]:
    """Register ``fn`` as the extractor of entity ``name``.

    When spans overlap, the higher ``priority`` wins, then the longer span.
    """

    def register(fn: ExtractorFn) -> ExtractorFn:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            owner = _REGISTRY[name].fn.__module__
            raise ValueError(f"an extractor for {name!r} is already registered (in {owner})")
        _REGISTRY[name] = Registration(name, priority, fn)
        return fn

    return register


def registered() -> tuple[Registration, ...]:
    """All registrations, highest priority first."""
    return tuple(sorted(_REGISTRY.values(), key=lambda r: -r.priority))


def get_extractor(name: str) -> Registration:
    """The registration for ``name``; the error lists the names that exist."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(n for n in _REGISTRY if not n.startswith(CLAIM_PREFIX)))
        raise UnknownExtractorError(
            f"no entity extractor named {name!r}; registered: {known}. "
            "Add one with @extractor(name) in a module under chatbot/nlu/entities/ "
            "and import it in chatbot/nlu/entities/extract.py."
        ) from None
