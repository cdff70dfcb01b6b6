"""Memoized understanding of short, repeated messages.

Customers send the same short texts again and again: a welcome chip or quick reply
("信用卡怎么还款"), "你好", "余额", "转人工", "好的". Their parse and their FAQ decision are
pure functions of the text (and of the model, index and day, which the callers put in the
key or own the cache with), so they are kept in a bounded LRU per process.

Only texts without any number are kept: a message that holds an amount, a card, phone or
ID number or a code is about one customer's business and is not kept in memory past its
turn (and would rarely repeat anyway); nor is a text with Latin letters (a password, an
e-mail address). Long texts are not kept either: they do not repeat.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

MAX_TEXT = 40  # characters; longer messages are practically never sent twice

R = TypeVar("R")


def keepable(text: str) -> bool:
    """Short, number-free (ASCII, full-width and Chinese numerals alike) and without Latin
    letters (a password or an e-mail address typed into the chat is never kept)."""
    return len(text) <= MAX_TEXT and not any(ch.isnumeric() or _latin(ch) for ch in text)


def _latin(ch: str) -> bool:
    return "a" <= ch.lower() <= "z" or "\uff21" <= ch <= "\uff5a"  # ASCII or full-width letters


def memoize_text(function: Callable[..., R], size: int) -> Callable[..., R]:
    """``function(text, *rest)`` answered from an LRU of ``size`` when ``text`` is keepable.

    ``rest`` must be hashable and, with ``text``, determine the result; results are shared
    between callers, so they must be immutable. ``size`` 0 turns memoizing off.
    """
    if size <= 0:
        return function
    cached = functools.lru_cache(maxsize=size)(function)

    @functools.wraps(function)
    def call(text: str, *rest):
        return cached(text, *rest) if keepable(text) else function(text, *rest)

    call.cache_info = cached.cache_info  # type: ignore[attr-defined]
    return call
