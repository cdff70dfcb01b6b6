"""Wording of clarifications and not-found replies, and reading the customer's choice.

A clarification lists the candidate questions with numbers; the customer answers with
the number in any common form (``1``, ``2.``, ``②``, ``二``, ``第二个``, ``选3``,
``最后一个``), with the product of the one they meant (``贷款``, for look-alikes that differ by
product: ``knowledge/faq/products.py``) or with words from the question they meant
(``吞卡那个``); ``都不是`` says none.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence

from knowledge.faq.retrieve import FaqHit
from knowledge.faq.store import FaqEntry

NOT_FOUND_TEXT = "抱歉，这个问题我暂时回答不了。您可以换个说法，或回复“人工”为您转接人工客服。"
NEITHER_TEXT = "好的。请您具体说说想了解什么，我再帮您查；也可以回复“人工”转接人工客服。"
# None of the options (as chatbot/dialogue/choices.py reads it for a choice between businesses).
# Yes to a clarification that offered one question.
_YES = re.compile(r"^(是|是的|是啊|是呀|对|对的|对啊|没错|嗯+|恩+|好|好的|要|yes|y|ok|okay|1)$")
_NEITHER = re.compile(r"^(都不是|都不对|都不|不是|哪个都不是|两个都不是|都没有|其他|别的|不是这些|都不是的)$")
_CHINESE_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
                    "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_LAST = ("最后一个", "最后那个", "最后一条", "最后一项")
_NOISE = re.compile(r"[\s\W_]+")
# Words around a choice that say nothing about which one: "我选第二个吧", "就是吞卡那个".
_FILLER = re.compile(r"我想问的是|我想问|我要问|我问的是|我选|我要|就是|应该是|选|是|那个|这个|那条|这条"
                     r"|问题|的|吧|呀|啊|呢|哈|嗯|哦|好|了")
_ORDINAL = re.compile(r"^第?(\d{1,2}|[一二两三四五六七八九十])(?:个|条|项|种|号)?$")
# Share of the reply's characters an option must contain, and its lead over the next one.
WORD_MATCH_MIN = 0.6
WORD_MATCH_LEAD = 0.2


def format_clarification(hits: Sequence[FaqHit | FaqEntry]) -> str:
    """``您是想问：`` then the numbered questions, then how to answer; one question is asked
    about as itself ("您是想问“…”吗？"), answered with 是."""
    if len(hits) == 1:
        entry = hits[0].entry if isinstance(hits[0], FaqHit) else hits[0]
        return f"您是想问“{entry.question.rstrip('？?')}”吗？是的话回复“是”，不是请换个说法告诉我。"
    lines = ["您是想问："]
    for number, item in enumerate(hits, start=1):
        entry = item.entry if isinstance(item, FaqHit) else item
        lines.append(f"{number}. {entry.question}")
    lines.append("回复序号即可。")
    return "\n".join(lines)


def format_not_found() -> str:
    """Say kindly that the bot cannot answer, and offer a person."""
    return NOT_FOUND_TEXT


def resolve_choice(reply_text: str, offered_ids: Sequence[str],
                   entries: Mapping[str, FaqEntry] | Iterable[FaqEntry],
                   by_product: Callable[[str, Sequence[FaqEntry]], FaqEntry | None] | None = None) -> FaqEntry | None:
    """The offered entry the reply picks, or None when it picks none (or is ambiguous).

    ``offered_ids`` are the entry ids in the order they were numbered; ``entries`` maps
    ids to entries (a mapping, or any iterable of entries such as ``retriever.entries``).
    ``by_product`` reads a reply naming the product of one (``products.picked``), after a number.
    """
    by_id = entries if isinstance(entries, Mapping) else {e.id: e for e in entries}
    offered = [by_id[i] for i in offered_ids if i in by_id]
    if not offered or len(offered) != len(offered_ids):
        return None  # the list changed under the customer (an admin edit): ask again
    text = _clean(reply_text)
    if len(offered) == 1 and _YES.match(text):
        return offered[0]  # "您是想问“…”吗？" — "是的"
    number = choice_number(text, len(offered))
    if number is not None:
        return offered[number - 1] if 1 <= number <= len(offered) else None
    return (by_product and by_product(text, offered)) or _choice_by_words(text, offered)


def says_neither(reply_text: str) -> bool:
    """"都不是", "两个都不是": none of the options."""
    return bool(_NEITHER.match(_clean(reply_text)))


def _clean(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())


def choice_number(reply_text: str, count: int) -> int | None:
    """The number a reply picks ("2", "第二个", "选二", "最后一个"), or None; not range-checked.
    Also read by the dialogue's choice between two businesses (chatbot/dialogue/choices.py)."""
    text = _clean(reply_text)
    if text in _LAST:
        return count
    match = _ORDINAL.match(_FILLER.sub("", text))
    if match is None:
        return None
    value = match.group(1)
    return int(value) if value.isdigit() else _CHINESE_NUMBERS[value]


def _choice_by_words(text: str, offered: list[FaqEntry]) -> FaqEntry | None:
    wanted = set(_FILLER.sub("", text))
    if not wanted:
        return None
    shares = [len(wanted & set(_clean(" ".join(entry.phrasings)))) / len(wanted) for entry in offered]
    ranked = sorted(range(len(offered)), key=lambda i: -shares[i])
    best = shares[ranked[0]]
    runner_up = shares[ranked[1]] if len(ranked) > 1 else 0.0
    if best >= WORD_MATCH_MIN and best - runner_up >= WORD_MATCH_LEAD:
        return offered[ranked[0]]
    return None
