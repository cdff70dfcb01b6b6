"""The entity value object handed to the rest of the bot."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


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
