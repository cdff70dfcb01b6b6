"""``card_tail``: the last four digits of a card, as a 4-character string.

The span covers the four digits only; the cue (尾号, 后四位, ****) is context.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from chatbot.nlu.entities.registry import Context, Span, extractor

_TAIL = r"(?P<tail>\d{4})(?!\d)"
_PATTERNS = (
    # 尾号1234, 尾号是1234, 尾数1234, 末四位1234, 卡号后4位:1234, 最后四位 1234
    re.compile(rf"(?:尾号|尾数|(?:卡号)?(?:最后|末|后)[四4]位(?:数字|数)?)(?:是|为)?:?\s?{_TAIL}"),
    # 1234那张卡, 1234的卡, 1234这张
    re.compile(r"(?<![\d.,])(?P<tail>\d{4})\s?(?:的?那张|的?这张|的?那个卡|的卡)"),
    # **** 1234 (normalization squeezes the mask run to one "*")
    re.compile(rf"\*+\s?{_TAIL}"),
)


@extractor("card_tail", priority=80)
def extract_card_tail(ctx: Context) -> Iterator[Span]:
    """Yield four-digit card tails introduced or followed by a card cue."""
    for pattern in _PATTERNS:
        for match in pattern.finditer(ctx.text):
            yield Span(match.start("tail"), match.end("tail"), match["tail"])
