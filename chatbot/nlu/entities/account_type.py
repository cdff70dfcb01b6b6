"""``account_type``: savings, credit, loan, fixed_deposit or wealth."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chatbot.nlu.entities.keywords import keyword_pattern, keyword_spans
from chatbot.nlu.entities.registry import Context, Span, extractor

ACCOUNT_KEYWORDS = {
    **dict.fromkeys(
        ["储蓄卡", "借记卡", "储蓄账户", "储蓄", "活期账户", "活期存款", "活期", "工资卡", "一卡通", "银行卡"],
        "savings",
    ),
    **dict.fromkeys(["信用卡", "贷记卡", "信用卡账户"], "credit"),
    **dict.fromkeys(
        ["贷款", "房贷", "车贷", "消费贷", "经营贷", "信用贷", "抵押贷", "公积金贷款", "借款"], "loan"
    ),
    **dict.fromkeys(["定期", "定期存款", "大额存单", "整存整取", "零存整取"], "fixed_deposit"),
    **dict.fromkeys(["理财", "理财产品", "基金"], "wealth"),
}
_PATTERN = keyword_pattern(ACCOUNT_KEYWORDS)
# 银行卡 is a debit card unless the same message is about a credit card.
_CREDIT = re.compile(r"信用卡|贷记卡")


@extractor("account_type", priority=20)
def extract_account_type(ctx: Context) -> Iterator[Span]:
    """Yield account categories named in the text."""
    about_credit = _CREDIT.search(ctx.text) is not None
    for span in keyword_spans(_PATTERN, ACCOUNT_KEYWORDS, ctx.text):
        if about_credit and ctx.text[span.start : span.end] == "银行卡":
            continue
        if ctx.text[max(0, span.start - 1) : span.start] == "不":  # 不定期 is "irregular"
            continue
        yield span
