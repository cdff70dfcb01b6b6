"""The customer's own loan.repayment_plan over POST /v1/chat: next payment, remaining
principal, the coming periods and the whole schedule as a single-use download."""
import csv
import io
import re
from decimal import Decimal

from tests.dialogue.conftest import WANG, ZHANG


def test_the_own_loan_plan_and_its_download(chat, client):
    c = chat()
    c.bind(ZHANG)
    reply = c.say("我的贷款还剩多少")
    assert "消费贷（贷款编号 LN" in reply and "本金 60,000.00 元" in reply and "年化 4.20%" in reply
    assert "等额本息" in reply and "已还 4 期" in reply
    assert "下期：第 5 期，2026-11-27 应还 2,610.84 元" in reply and "储蓄卡 **** 1234" in reply
    link = re.search(r"CSV：(\S+)", reply).group(1)
    path = link.removeprefix("http://127.0.0.1:8000")
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "期数" and len(rows) == 25
    assert rows[5][1] == "2026-11-27" and rows[5][2] == "2610.84" and rows[5][6] == "待还" and rows[4][6] == "已还"
    assert Decimal(rows[-1][5]) == 0 and sum(Decimal(r[3]) for r in rows[1:]) == Decimal("60000.00")
    assert client.get(path).status_code == 410  # one download per link
    xlsx = re.search(r"Excel：(\S+)", reply).group(1).removeprefix("http://127.0.0.1:8000")
    assert client.get(xlsx).headers["content-type"].startswith("application/vnd.openxmlformats")
    assert client.get(xlsx[:-4] + "AAAA").status_code == 403


def test_terse_and_traditional_questions(chat):
    c = chat()
    c.bind(ZHANG)
    assert "2,610.84 元" in c.say("下期還多少")
    assert "2,610.84 元" in c.say("月供")


def test_a_what_if_stays_the_calculator_and_no_loan_is_said(chat):
    c = chat()
    c.bind(WANG)
    assert "等额本金" in c.say("借10万分36期每月还多少")
    reply = c.say("还款计划")
    assert "暂无还款中的贷款" in reply and "借10万分36期" in reply


def test_unbound_customer_binds_first(chat):
    c = chat()
    assert "查询还款计划需要先绑定" in c.say("我的贷款还款计划")


def test_a_prepayment_what_if_is_estimated_on_the_own_loan(chat):
    from chatbot.tools.amortization import equal_installment

    c = chat()
    c.bind(ZHANG)
    reply = c.say("如果我提前还两万，月供变多少")
    assert "分多少期" not in reply and "借 20,000.00 元" not in reply and c.flow is None
    assert "剩余本金 50,346.10 元" in reply and "提前还 20,000.00 元后，剩余本金 30,346.10 元" in reply
    left = int(re.search(r"剩余 (\d+) 期", reply).group(1))
    rate = Decimal(re.search(r"年化 ([\d.]+)%", reply).group(1)) / 100
    payment = equal_installment(Decimal("30346.10"), rate, left).first_payment
    assert f"每月约 {payment:,.2f} 元" in reply and "估算" in reply and "月供不变" in reply


def test_an_unbound_prepayment_what_if_binds_first_and_is_never_a_new_loan(chat):
    c = chat()
    reply = c.say("如果我提前还两万，月供变多少")
    assert "需要先绑定" in reply and "分多少期" not in reply
