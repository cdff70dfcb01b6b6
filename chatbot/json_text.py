"""JSON text of the database's JSON columns and of the chat answers, written by orjson.

A turn writes six JSON values (the dialogue state, the turn log's entities, steps, replies,
state and ranking) and answers with one: the standard library's encoder was a few percent
of a turn's CPU, orjson a tenth of that. The text is compact UTF-8 (Chinese as it is, not
\\uXXXX escapes); readers parse it either way, and rows written before read as they did.

What orjson refuses to write (integers beyond 64 bits, lone surrogates, and the datetimes and
dataclasses the standard library refuses too, which orjson would otherwise write as text) or
would read differently (an integer beyond 64 bits becomes a float) goes to the standard
library, as before. One difference remains: NaN and infinities are written as null, where
the standard library wrote NaN (which PostgreSQL's json type refuses anyway).
"""
from __future__ import annotations

import json
import re

import orjson

# {1: ...} becomes {"1": ...}, as json.dumps writes it; a date or a dataclass is refused, as
# json.dumps refuses it (so the standard library raises the TypeError it always raised).
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_LONG_NUMBER = re.compile(r"\d{19}")
_LONG_NUMBER_BYTES = re.compile(rb"\d{19}")


def dumps(value) -> str:
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value)


def dump_bytes(value) -> bytes:
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()  # ASCII: \u escapes


def loads(text: str | bytes):
    # orjson reads an integer beyond 64 bits as a float: such text goes to the standard library.
    long_number = (_LONG_NUMBER_BYTES if isinstance(text, (bytes, bytearray)) else _LONG_NUMBER).search(text)
    if long_number is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:  # what orjson does not read but the standard library does (NaN)
            pass
    return json.loads(text)
