"""``phone``: a mainland mobile number, value = its 11 digits.

Accepts ``13800138000``, ``138 0013 8000``, ``138-0013-8000`` and a ``+86`` /
``86`` prefix; the span covers the number as written, prefix included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from chatbot.nlu.entities.registry import Context, Span, extractor

_PHONE = re.compile(
    r"(?:(?<![\d+])\+?86[\s-]?|(?<![\d+]))(?P<a>1[3-9]\d)[\s-]?(?P<b>\d{4})[\s-]?(?P<c>\d{4})(?!\d)"
)


@extractor("phone", priority=90)
def extract_phone(ctx: Context) -> Iterator[Span]:
    """Yield Chinese mobile numbers."""
    for match in _PHONE.finditer(ctx.text):
        yield Span(match.start(), match.end(), match["a"] + match["b"] + match["c"])
