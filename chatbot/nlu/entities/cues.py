"""Context tests shared by the number-reading extractors.

Whether "500" is money, a code or a count depends on the words around it:
a money verb before it (转500), a unit or counter after it (36期, 3张卡).
"""

from __future__ import annotations

import re

# How far back (in characters, within the clause) a money verb still governs a number.
CUE_WINDOW = 12

_CLAUSE_BREAK = re.compile(r"[,，。!！?？;；]")
_MONEY_CUE = re.compile(r"转|汇|还|买|存|取|借|贷|付|充|缴|交|花|金额|额度|价格|多少钱|本金|首付|月供")
# Words that contain a money verb's character but are not about moving money.
_NOT_MONEY = re.compile(
    r"借记|还有|还是|还没|还要|还需|还能|还可|还在|取消|存在|转人工|转接|交易|交流|花呗|借呗"
)
_OTP_CUE = re.compile(r"验证码|动态码|动态密码|校验码|短信码|code")
_PASSWORD = re.compile(r"密码")

CURRENCY_UNITS = r"块钱|元钱|元|块|圆|rmb|人民币"
# After a number these make it a count, a date, a term or a rate, not money.
_COUNTER = re.compile(
    # 天天 begins a product's name (买两千五天天宝), not a count of days.
    r"\s?(?:个月|个|期|年|月|日|号|天(?!天)|张|次|笔|位|岁|人|份|周|分钟|小时|点|秒|%|条|项|家|倍|页|层|遍|台|只|本|种|星期"
    # 分 is a score or minute (5分, 2分30秒), but 分36期 means "split into 36 installments".
    r"|分(?!\s?[\d一二两三四五六七八九十]+\s?期))"
)
_CURRENCY_AFTER = re.compile(rf"\s?(?:{CURRENCY_UNITS}|万|w|k)")


def clause_before(text: str, start: int, window: int = CUE_WINDOW) -> str:
    """The text before ``start`` in the same clause, at most ``window`` characters."""
    head = text[max(0, start - window) : start]
    breaks = list(_CLAUSE_BREAK.finditer(head))
    return head[breaks[-1].end() :] if breaks else head


def has_money_cue(text: str, start: int) -> bool:
    """True if a money verb (转, 还, 买, ...) governs the number at ``start``."""
    clause = _NOT_MONEY.sub("#", clause_before(text, start))
    return _MONEY_CUE.search(clause) is not None


def has_otp_cue(text: str, start: int) -> bool:
    """True if the clause before ``start`` names a verification code."""
    return _OTP_CUE.search(clause_before(text, start, window=20)) is not None


def has_password_cue(text: str, start: int) -> bool:
    """True if the clause before ``start`` talks about a (non one-time) password."""
    clause = clause_before(text, start, window=20)
    return _PASSWORD.search(clause) is not None and _OTP_CUE.search(clause) is None


def counter_after(text: str, end: int) -> bool:
    """True if a counter, date or rate word follows ``end`` (36期, 3月, 5%)."""
    return _COUNTER.match(text, end) is not None


def currency_after(text: str, end: int) -> bool:
    """True if a currency unit or magnitude follows ``end`` (800元, 5万)."""
    return _CURRENCY_AFTER.match(text, end) is not None
