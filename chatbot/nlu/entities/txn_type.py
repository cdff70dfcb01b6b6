"""``txn_type``: which transactions a history query is about.

Specific kinds (salary, interest, fee, cash, repayment, transfer) beat the
generic income/expense in the same clause: 工资入账 is salary, 利息收入 interest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from chatbot.nlu.entities.keywords import keyword_pattern, keyword_spans
from chatbot.nlu.entities.registry import Context, Span, extractor

TXN_KEYWORDS = {
    **dict.fromkeys(["收入", "入账", "进账", "转入", "收款"], "income"),
    **dict.fromkeys(["支出", "花了", "花费", "消费", "扣款", "转出", "付款"], "expense"),
    **dict.fromkeys(["工资", "薪资", "薪水", "代发工资"], "salary"),
    **dict.fromkeys(["转账记录", "转账明细", "转账流水"], "transfer"),
    **dict.fromkeys(["取现", "取款", "提现", "atm"], "cash"),
    **dict.fromkeys(["还款", "还款记录"], "repayment"),
    **dict.fromkeys(["手续费", "服务费"], "fee"),
    **dict.fromkeys(["利息", "结息"], "interest"),
}
GENERIC = frozenset({"income", "expense"})
_PATTERN = keyword_pattern(TXN_KEYWORDS)
_CLAUSE = re.compile(r"[^,，。!！?？;；]+")
# 收款人 / 收款码 / 付款码 name a party or a QR code, not a kind of transaction.
_NOT_TXN = re.compile(r"(?:收款|付款)(?:人|码|方|账户)")


@extractor("txn_type", priority=20)
def extract_txn_type(ctx: Context) -> Iterator[Span]:
    """Yield transaction kinds, preferring specific ones within each clause."""
    masked = _NOT_TXN.sub(lambda m: "#" * len(m.group()), ctx.text)
    for clause in _CLAUSE.finditer(masked):
        spans = [
            Span(span.start + clause.start(), span.end + clause.start(), span.value)
            for span in keyword_spans(_PATTERN, TXN_KEYWORDS, clause.group())
        ]
        has_specific = any(span.value not in GENERIC for span in spans)
        yield from (span for span in spans if not (has_specific and span.value in GENERIC))
