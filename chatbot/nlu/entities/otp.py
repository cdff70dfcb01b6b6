"""``otp``: a six-digit one-time code standing alone (not part of a longer number).

Six digits are a code unless the words around them make them money (转100000,
100000元), a count or date (123456期), or a password the user should not be
typing here (密码是123456).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from chatbot.nlu.entities import cues
from chatbot.nlu.entities.registry import Context, Span, extractor

_SIX = re.compile(r"(?<![\d.,¥$x])\d{6}(?![\d]|[.,]\d)")


@extractor("otp", priority=60)
def extract_otp(ctx: Context) -> Iterator[Span]:
    """Yield six-digit codes."""
    for match in _SIX.finditer(ctx.text):
        if _is_code(ctx.text, match.start(), match.end()):
            yield Span(match.start(), match.end(), match.group())


def _is_code(text: str, start: int, end: int) -> bool:
    if cues.has_otp_cue(text, start):
        return True
    if cues.has_password_cue(text, start) or cues.currency_after(text, end) or cues.counter_after(text, end):
        return False
    return not cues.has_money_cue(text, start)
