"""``payee``: who money goes to, as written (a name or a payee-book nickname).

Found two ways:

- any of the caller's ``known_payees`` occurring in the text (exact match);
- 2-4 Chinese characters after a cue (给, 转给, 转账给, 汇给, 打给, 付给, 向…转,
  收款人是), cut before amounts, verbs (转/汇/打/付), particles (的/了/吧) and
  account words. Lone pronouns (给我转) and service words (银行, 客服) are not
  payees; a pronoun followed by a kinship word is (我妈, 我老婆).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from chatbot.nlu.entities.numbers import DIGIT_CHARS
from chatbot.nlu.entities.registry import Context, Span, extractor

_CUE = re.compile(r"(?:转账给|转给|汇款给|汇给|打给|付给|给|向|收款人(?:是|为)?:?)\s?(?=[\u4e00-\u9fff])")
_NAME = re.compile(r"[\u4e00-\u9fff]{1,4}")
# A name stops at a transfer verb, a particle, an account word or a digit; from the
# third character on (names have two at least) also at a number or a common verb.
_STOP = re.compile(r"[转汇打付还的了吧啊呢吗呀哦和跟账卡0-9]|尾号|手机")
_LATE_STOP = re.compile(rf"[{DIGIT_CHARS}]+[十百千万块元]|[发送买充交存取借查看说问办开要想让帮请去来是在有就也都]")
_PRONOUNS = frozenset("我你您他她它")
_KIN = re.compile(r"^(?:妈妈?|爸爸?|老婆|老公|媳妇|儿子|女儿|哥哥?|姐姐?|弟弟?|妹妹?|爷爷|奶奶|外公|外婆|朋友|同事|家人|父母|爱人)")
_NOT_PAYEES = frozenset(
    {"银行", "客服", "人工", "人工客服", "自己", "本人", "我们", "你们", "他们", "大家", "别人", "对方", "账户", "手机"}
)


@extractor("payee", priority=30)
def extract_payee(ctx: Context) -> Iterator[Span]:
    """Yield payees: known payee-book names first, then names after a transfer cue."""
    known = _known_spans(ctx)
    yield from known
    for cue in _CUE.finditer(ctx.text):
        span = _name_after(ctx.text, cue.end())
        if span and not any(k.start < span.end and span.start < k.end for k in known):
            yield span


def _known_spans(ctx: Context) -> list[Span]:
    spans = []
    for name in sorted(set(ctx.known_payees), key=len, reverse=True):
        for match in re.finditer(re.escape(name), ctx.text):
            spans.append(Span(match.start(), match.end(), name))
    return spans


def _name_after(text: str, start: int) -> Span | None:
    window = _NAME.match(text, start)
    if window is None:
        return None
    name = window.group()
    stops = [m.start() for m in (_STOP.search(name, 1), _LATE_STOP.search(name, 2)) if m]
    name = name[: min(stops)] if stops else name
    if name[0] in _PRONOUNS:
        kin = _KIN.match(name[1:])
        name = name[: 1 + kin.end()] if kin else name[:1]
    if len(name) < 2 or any(name.startswith(word) for word in _NOT_PAYEES):
        return None
    return Span(start, start + len(name), name)
