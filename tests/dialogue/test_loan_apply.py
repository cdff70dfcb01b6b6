"""loan.apply over POST /v1/chat: product hints from the graph, real-time range checks,
corrections, the debt-to-income pre-review, code and the application record."""
import re
from decimal import Decimal

from sqlalchemy import select

from chatbot.storage.models import Application
from chatbot.tools.amortization import equal_installment
from tests.dialogue.conftest import WANG, ZHANG

LINA = {"name": "李娜", "id": "440305199511203311", "phone": "13700137000"}


def test_a_consumer_loan_is_applied_for(chat, services):
    c = chat()
    c.bind(WANG)
    reply = c.say("我想贷款")
    assert "消费贷可借 1,000.00 元至 300,000.00 元，期限 3 至 36 期" in reply and "请问申请哪一种" in reply
    reply = c.say("消费贷")
    assert "请问借多少钱" in reply
    reply = c.say("50万")
    assert "300,000.00 元" in reply and "请重新告诉我借款金额" in reply
    assert "分多少期" in c.say("3万")
    assert "期限为 3 至 36 期" in c.say("48期")
    assert "用途" in c.say("两年")
    assert "税后收入" in c.say("装修")
    reply = c.say("9600元")  # the income, not a new amount
    payment = equal_installment(Decimal("30000"), Decimal("0.032"), 24).first_payment
    assert "请核对贷款申请" in reply and "金额：30,000.00 元" in reply and "期限：24 期" in reply
    assert f"每月约 {payment:,.2f} 元" in reply and "储蓄卡 **** 4321" in reply
    assert "139****9000" in c.say("确认")
    reply = c.say(c.code(WANG["phone"]))
    match = re.search(r"申请编号 (LA20261124-\d{6})", reply)
    assert match and "贷款进度" in reply and c.flow is None
    with services.database.read() as db:
        row = db.scalar(select(Application).where(Application.reference == match.group(1)))
        assert (row.kind, row.amount, row.term_months, row.details["purpose"]) == ("loan", Decimal("30000.00"), 24,
                                                                                  "装修")


def test_one_message_and_corrections(chat):
    c = chat()
    c.bind(WANG)
    reply = c.say("我想申请消费贷5万，分12期，用于装修")
    assert "税后收入" in reply
    reply = c.say("月收入一万二")
    assert "金额：50,000.00 元" in reply and "期限：12 期" in reply
    reply = c.say("改成3万")
    assert "已修改金额" in reply and "金额：30,000.00 元" in reply
    reply = c.say("不对，１８期")  # full-width digits
    assert "期限：18 期" in reply
    assert "先不办了" in c.say("不办了")
    assert c.flow is None


def test_debt_to_income_refusal_keeps_the_read_back_for_a_change(chat):
    c = chat()
    c.bind(WANG)
    c.say("申请消费贷10万，12期，装修用")
    reply = c.say("9600")
    assert "请核对贷款申请" in reply
    sent = c.sms_count(WANG["phone"])
    reply = c.say("确认")
    assert "暂不能按此方案提交" in reply and "50%" in reply and "验证码" not in reply
    assert c.sms_count(WANG["phone"]) == sent and c.flow == "loan.apply"
    reply = c.say("改成36期")
    assert "期限：36 期" in reply
    c.say("确认")
    assert "贷款申请已提交" in c.say(c.code(WANG["phone"]))


def test_an_open_application_and_forbidden_purpose(chat):
    c = chat()
    c.bind(LINA)  # the demo bank: 李娜's consumer loan application is submitted
    reply = c.say("申请消费贷2万12期")
    assert "正在办理中" in reply and "LA20261123-" in reply and "请问申请哪一种" in reply
    assert "经营贷" in reply and c.flow == "loan.apply"
    assert "不得用于" in c.say("经营贷，用来炒股")
    assert "税后收入" in c.say("进货")
    reply = c.say("7200")
    assert "产品：经营贷" in reply and "金额：20,000.00 元" in reply


def test_a_mortgage_is_applied_for_elsewhere(chat):
    c = chat()
    c.bind(ZHANG)
    reply = c.say("我要办房贷")
    assert "购房合同" in reply and "网点柜台" in reply and c.flow is None
