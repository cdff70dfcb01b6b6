"""The entity value object handed to the rest of the bot."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


class FrozenDict(dict):
    """A dict value of an entity (a date range's start and end) that cannot change: parses
    are shared between turns (chatbot/memo.py), so a reader that changed one would change
    what every later turn of the same text reads. Copy it (`dict(value)`) to change it."""

    def _refuse(self, *_args, **_kwargs):
        raise TypeError("an entity's value is shared and cannot be changed; copy it first")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self):
        return (FrozenDict, (dict(self),))


@dataclass(frozen=True)
class Entity:
    """One extracted entity; ``start``/``end``/``text`` refer to the ORIGINAL message."""

    entity: str
    value: Any
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form used by ``/v1/nlu/parse``: entity, value, start, end."""
        return {"entity": self.entity, "value": json_value(self.value), "start": self.start, "end": self.end}


def json_value(value: Any) -> Any:
    """Decimal -> "2500.00", date -> "YYYY-MM-DD", recursively through dicts and lists."""
    if isinstance(value, Decimal):
        return format(value, "f")  # str() may switch to exponent notation
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    return value
