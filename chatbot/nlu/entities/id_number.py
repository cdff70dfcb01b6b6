"""``id_number``: an 18-character resident ID whose GB 11643 check digit is right.

A run that looks like an ID but fails the checksum is not an ID, and neither
is any part of it a phone, OTP or amount: the ``_long_digits`` claim (see
below) takes such runs, and bank card numbers, out of play.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from chatbot.nlu.entities.registry import Context, Span, extractor

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID = re.compile(r"(?<![\dx])\d{17}[\dx](?![\dx])")
# As people space it: region, birth date, sequence + check ("110105 19900307 1239").
_SPACED_ID = re.compile(r"(?<![\dx])(\d{6})[\s-](\d{8})[\s-](\d{3}[\dx])(?![\dx])")
_LONG_DIGITS = re.compile(r"(?<![\dx])\d{14,19}x?(?![\dx])")


def id_checksum_ok(candidate: str) -> bool:
    """True if the 18th character is the GB 11643-1999 check character of the first 17."""
    if len(candidate) != 18 or not candidate[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(candidate[:17], _WEIGHTS))
    return _CHECK_CHARS[total % 11] == candidate[17].upper()


@extractor("id_number", priority=100)
def extract_id_number(ctx: Context) -> Iterator[Span]:
    """Yield resident ID numbers with a valid checksum (value uppercased)."""
    for match in _ID.finditer(ctx.text):
        if id_checksum_ok(match.group()):
            yield Span(match.start(), match.end(), match.group().upper())
    for match in _SPACED_ID.finditer(ctx.text):
        candidate = "".join(match.groups())
        if id_checksum_ok(candidate):
            yield Span(match.start(), match.end(), candidate.upper())


@extractor("_long_digits", priority=95)
def claim_long_digits(ctx: Context) -> Iterator[Span]:
    """Claim 14-19 digit runs (card numbers, bad IDs) so no fragment is read as something else."""
    for match in _LONG_DIGITS.finditer(ctx.text):
        yield Span(match.start(), match.end(), None)
