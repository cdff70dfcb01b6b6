"""Transaction lines say which card and which way the money went; the totals come once.

"信用卡还款 -1,843.10" on the savings card read as money coming in (a repayment *of* the
credit card, paid *from* savings). Each line now says 收入/支出 and, for a customer with
more than one card, the card; `更多` continues the list without repeating the totals.
"""
import re

LINE = re.compile(r"^\d{2}-\d{2} .*(收入|支出) [\d,]+\.\d{2} 元 \S", re.M)


def _lines(reply: str) -> list[str]:
    return [line for line in reply.splitlines() if re.match(r"^\d{2}-\d{2} ", line)]


def test_each_line_names_the_card_and_the_direction(chat):
    c = chat()
    c.bind()  # 张伟: savings **** 1234 and credit **** 5678
    first = c.say("查一下上个月的交易明细")
    pages = [first] + [c.say("更多") for _ in range(3)]  # the repayment is on the fourth page
    lines = [line for page in pages for line in _lines(page)]
    assert len(lines) == 20 and all(LINE.match(line) for line in lines), lines
    assert all(re.search(r"(储蓄卡|信用卡) \*\*\*\* (1234|5678) ", line) for line in lines), lines
    # The repayment: out of the savings card, into the credit card; no bare signed amounts.
    assert any(re.search(r"储蓄卡 \*\*\*\* 1234 支出 2,585\.50 元 信用卡还款", line) for line in lines), lines
    assert any(re.search(r"信用卡 \*\*\*\* 5678 收入 2,585\.50 元 储蓄卡还款", line) for line in lines), lines
    assert not re.search(r" [-+][\d,]+\.\d{2}\b", "".join(pages))


def test_one_card_in_the_query_lines_need_not_repeat_it(chat):
    c = chat()
    c.bind()
    reply = c.say("查一下尾号1234上个月的交易明细")
    lines = _lines(reply)
    assert lines and all(LINE.match(line) for line in lines), lines
    assert "**** 5678" not in reply and all("**** 1234" not in line for line in lines)
    assert any("支出 2,585.50 元 信用卡还款" in line for line in lines)
    assert any("收入 18,500.00 元 北京星辰科技有限公司" in line for line in lines)


def test_the_totals_line_comes_once_not_on_every_page(chat):
    c = chat()
    c.bind()
    first = c.say("查一下上个月的交易明细")
    assert "共 22 笔，收入 21,085.50 元，支出 13,841.44 元。" in first
    second = c.say("更多")
    assert "收入 21,085.50 元" not in second and "支出 13,841.44 元" not in second
    assert "第 6–10 笔（共 22 笔）" in second and "已显示 10/22 笔" in second
    third = c.say("更多")
    assert "第 11–15 笔" in third and "收入 21,085.50" not in third
