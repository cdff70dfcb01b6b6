"""Memoized understanding of short, repeated messages.

Customers send the same short texts again and again: a welcome chip or quick reply
("信用卡怎么还款"), "你好", "余额", "转人工", "好的". Their parse and their FAQ decision are
pure functions of the text (and of the model, index and day, which the callers put in the
key or own the cache with), so they are kept in a bounded LRU per process.

Only texts without any number are kept: a message that holds an amount, a card, phone or
ID number or a code is about one customer's business and is not kept in memory past its
turn (and would rarely repeat anyway); nor is a text with Latin letters (a password, an
e-mail address), but for the handful of Latin words of banking itself (ATM, U盾, APP).
Long texts are not kept either: they do not repeat.
"""
from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

MAX_TEXT = 40  # characters; longer messages are practically never sent twice

R = TypeVar("R")


# The Chinese numerals of amounts, codes and dates. Unicode gives a numeric value to more
# ideographs than these (什 of 什么, 念, 廿), which are words here, not numbers.
CHINESE_NUMERALS = frozenset("〇零一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟幺" "兩萬億貳陸")
# Latin words of banking that customers type as they are; any other Latin run (a password,
# an e-mail address, a name) keeps a text out of memory.
BANKING_LATIN = frozenset({"atm", "app", "u", "ukey", "i", "pos", "etc", "vip", "wifi", "ii", "iii", "qr",
                           "pin", "cvv", "sms", "ok", "hi", "hello", "visa", "mastercard", "unionpay"})
_LATIN_RUN = re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]+")


def keepable(text: str) -> bool:
    """Short, number-free (digits of any script and Chinese numerals alike) and without
    Latin letters but banking's own words (a password or an e-mail address typed into the
    chat is never kept). Judged on the text as the parser folds it (NFKC): ⼗ (a radical
    pasted from a PDF) is 十 to the parser, ㋀ is 1月."""
    if len(text) > MAX_TEXT:
        return False
    text = unicodedata.normalize("NFKC", text)
    if any(_is_number(ch) for ch in text):
        return False
    return all(unicodedata.normalize("NFKC", run).lower() in BANKING_LATIN for run in _LATIN_RUN.findall(text))


def _is_number(ch: str) -> bool:
    if ch.isdigit():
        return True
    if not ch.isnumeric():
        return False
    return ch in CHINESE_NUMERALS or unicodedata.category(ch) != "Lo"  # ⑬, ½, Ⅻ count; 什 does not


def memoize_text(function: Callable[..., R], size: int,
                 keep: Callable[[R], bool] = lambda _result: True) -> Callable[..., R]:
    """``function(text, *rest)`` answered from an LRU of ``size`` when ``text`` is keepable
    and the result passes ``keep`` (a parse that read an amount or a phone number despite
    the text check is not kept).

    ``rest`` must be hashable and, with ``text``, determine the result; results are shared
    between callers, so they must be immutable. ``size`` 0 turns memoizing off.
    """
    if size <= 0:
        return function
    kept: OrderedDict[tuple, R] = OrderedDict()
    guard = threading.Lock()
    hits = misses = 0

    @functools.wraps(function)
    def call(text: str, *rest):
        nonlocal hits, misses
        key = (text, *rest)
        with guard:  # looked up first: only keepable texts are ever kept
            if key in kept:
                kept.move_to_end(key)
                hits += 1
                return kept[key]
        if not keepable(text):
            return function(text, *rest)
        with guard:
            misses += 1
        result = function(text, *rest)
        if keep(result):
            with guard:
                kept[key] = result
                if len(kept) > size:
                    kept.popitem(last=False)
        return result

    call.cache_info = lambda: CacheInfo(hits, misses, size, len(kept))  # type: ignore[attr-defined]
    return call


@dataclass(frozen=True)
class CacheInfo:
    hits: int
    misses: int
    maxsize: int
    currsize: int
