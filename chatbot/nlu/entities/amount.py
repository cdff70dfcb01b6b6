"""``amount``: a sum of money as ``Decimal`` yuan with two places.

A number is money when it carries a currency sign or unit (¥800, 800块钱,
一千二百三十四元五角), a magnitude that in a bank chat means money (两千五, 1.5万,
2.5w, 3k), thousands separators (1,200), or follows a money verb in the same
clause (转500, 存五十). It is not money when a counter follows (36期, 3张,
3月, 5%), when it is part of a date or time (2026-03-01, 10:30) or when 第 precedes
it; card tails, phones, IDs and OTPs win their digits through overlap priority.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from chatbot.nlu.entities import cues
from chatbot.nlu.entities.numbers import CN_DIGITS, NUMBER, parse_number
from chatbot.nlu.entities.registry import Context, Span, extractor

CENT = Decimal("0.01")
# Longer runs are account, card or ID numbers, never a sum typed in a chat.
MAX_INTEGER_DIGITS = 12

_AMOUNT = re.compile(
    rf"(?P<cur>[¥$]|rmb|人民币)?\s?(?<![\d.,x])(?P<num>{NUMBER})"
    rf"(?:\s?(?P<unit>{cues.CURRENCY_UNITS}))?"
)
_SMALL_DIGIT = r"[0-9一二两三四五六七八九壹贰叁肆伍陆柒捌玖]"
_ZERO = r"[零〇0]"
# 分 that is not fen: minutes (5分钟, 5分后, 2分30秒, 5分半), instalments (分期), a rate (5分利/息).
_NOT_FEN = r"(?![钟期后半利息之]|\s*\d+\s*秒)"
_FEN = rf"\s?分{_NOT_FEN}"
# After 元/块: 五角, 5毛, 五角二分, 五毛五 (the digit after 角/毛 is 分), 5分 or 零5分 (no 角),
# 零五角; a space between is allowed where a 角/毛/分 says what the digit is. Or the bare
# colloquial 五块五 (no space: 100块 5号 is a date).
_SUBUNIT = re.compile(
    rf"\s?{_ZERO}?\s?(?P<fen_only>{_SMALL_DIGIT}){_FEN}"
    rf"|\s?{_ZERO}?\s?(?P<jiao>{_SMALL_DIGIT})\s?(?P<marker>[角毛])"
    rf"(?:\s?{_ZERO}?\s?(?P<fen>{_SMALL_DIGIT}){_FEN}|(?P<fen_bare>{_SMALL_DIGIT}))?"
    rf"|(?P<bare>{_SMALL_DIGIT})")
# What is left after an amount that still reads as 角 or 分 (an unforeseen phrasing): the
# amount is not taken rather than taken without them.
_UNREAD_SUBUNIT = re.compile(rf"\s*{_ZERO}?\s*{_SMALL_DIGIT}{{1,2}}\s*(?:[角毛]|分{_NOT_FEN})")
_DATE_OR_TIME_NEXT = re.compile(r"[-/:]\d")
_DATE_OR_TIME_PREV = re.compile(r"\d[-/:]$")
_MAGNITUDE = re.compile(r"[千仟万亿wk]")
_CN_UNIT = re.compile(r"[十拾百佰千仟万亿]")
# "-100", "负5万", "1e30": a sign or an exponent makes the number something other than the
# digits read; taking the bare digits would put a sum the customer never typed on a read-back.
_SIGN_BEFORE = re.compile(r"(?:(?<![\d.])[-−—–]|负)\s?$")
_EXPONENT_AFTER = re.compile(r"[eE][-+]?\d")
_EXPONENT_BEFORE = re.compile(r"\d[eE][-+]?$")  # the "30" of "1e30"


@extractor("amount", priority=40)
def extract_amount(ctx: Context) -> Iterator[Span]:
    """Yield money amounts found in ``ctx.text``."""
    pos = 0
    while (match := _AMOUNT.search(ctx.text, pos)) is not None:
        value, end = _read(match)
        split = _before_term(ctx.text, match)
        if split is not None:
            value, end = split
        if value is None and not match["num"][0].isdigit():
            # 张三五百块: the numeral swallowed the name's last character; retry after it.
            pos = match.start("num") + 1
            continue
        if _signed_or_exponent(ctx.text, match):
            pos = max(end, match.start("num") + 1)
            continue
        if value is not None and _UNREAD_SUBUNIT.match(ctx.text, end):
            value = None  # 角/分 this reading missed: better asked again than read short
        if value is not None and value > 0 and (split is not None or _is_money(ctx.text, match)):
            start = match.start("cur") if match["cur"] else match.start("num")
            yield Span(start, end, value.quantize(CENT, rounding=ROUND_HALF_UP))
        pos = max(end, match.start("num") + 1)


def _read(match: re.Match[str]) -> tuple[Decimal | None, int]:
    """The amount and where its text ends (after any 角/分 part)."""
    value = parse_number(match["num"])
    if value is None or _too_long(match["num"]):
        return None, match.end()
    if not match["unit"] or match["unit"] in ("rmb", "人民币"):
        return value, match.end()
    sub = _SUBUNIT.match(match.string, match.end())
    if sub is None or not _subunit_complete(sub, match["unit"]):
        return value, match.end()
    if sub["fen_only"]:
        return value + Decimal(_digit(sub["fen_only"])) / 100, sub.end()
    fen_digit = sub["fen"] or (sub["fen_bare"] if _ends_there(sub, "fen_bare") else None)
    fen = _digit(fen_digit) if fen_digit else 0
    end = sub.end() if fen_digit or not sub["fen_bare"] else sub.start("fen_bare")
    return value + Decimal(_digit(sub["jiao"] or sub["bare"])) / 10 + Decimal(fen) / 100, end


def _before_term(text: str, match: re.Match[str]) -> tuple[Decimal, int] | None:
    """贷款20万36期, 20万三年: the numeral after 万 counts the term, so the money ends at 万."""
    num = match["num"]
    if match["unit"] or not cues.counter_after(text, match.end("num")):
        return None
    cut = max(num.rfind(mark) for mark in "万亿w千仟k")
    if cut <= 0 or cut == len(num) - 1:
        return None
    value = parse_number(num[: cut + 1])
    if value is None or value <= 0:
        return None
    return value, match.start("num") + cut + 1


def _subunit_complete(sub: re.Match[str], unit: str) -> bool:
    """A bare digit after 块 (五块五) is 角 only if no number or counter follows it."""
    if not sub["bare"]:
        return True
    return unit.startswith("块") and _ends_there(sub, "bare")


def _ends_there(sub: re.Match[str], group: str) -> bool:
    """A bare digit (五块五, 五毛五) ends the amount: no number or counter follows it."""
    end = sub.end(group)
    if cues.counter_after(sub.string, end):
        return False
    following = sub.string[end : end + 1]
    return not (following.isdigit() or following in CN_DIGITS or (following and following in "分秒钟")
                or _CN_UNIT.match(following))


def _signed_or_exponent(text: str, match: re.Match[str]) -> bool:
    start = match.start("cur") if match["cur"] else match.start("num")
    before = text[max(0, start - 3):start]
    return bool(_SIGN_BEFORE.search(before) or _EXPONENT_BEFORE.search(before)
                or _EXPONENT_AFTER.match(text, match.end("num")))


def _digit(char: str) -> int:
    return int(char) if char.isdigit() else CN_DIGITS[char]


def _too_long(num: str) -> bool:
    integer = re.match(r"[\d,]*", num).group().replace(",", "")
    return len(integer) > MAX_INTEGER_DIGITS


def _is_money(text: str, match: re.Match[str]) -> bool:
    num_start, num_end = match.span("num")
    before = text[max(0, num_start - 2) : num_start]
    if before.endswith("第") or _DATE_OR_TIME_PREV.search(before) or _DATE_OR_TIME_NEXT.match(text, num_end):
        return False
    if match["cur"] or match["unit"]:
        return True
    if cues.counter_after(text, num_end):
        return False
    num = match["num"]
    if _MAGNITUDE.search(num) or "," in num:
        return True
    # A bare Chinese numeral needs a unit character: 转两千五 yes, 转一下 no.
    if not num[0].isdigit() and not _CN_UNIT.search(num):
        return False
    return cues.has_money_cue(text, match.start("num"))
