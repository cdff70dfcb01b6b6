"""card.installment through POST /v1/chat: quote before confirming, code, what is due after."""
from datetime import datetime
from decimal import Decimal

from chatbot.clock import BANK_TZ
from chatbot.money import format_amount
from chatbot.tools.sql_bank import SqlBank

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)
PHONE = "13800138000"


def _card(database):
    with database.read() as db:
        bank = SqlBank(db)
        zhang = bank.find_customer("张伟", "110105199003071239")
        return bank.credit_card(zhang.id, "5678", NOW)


def test_purchase_in_twelve_terms_with_the_cost_shown_first(chat, database):
    before = _card(database)
    c = chat()
    c.bind()
    reply = c.say("把京东那笔分12期")
    # 2,399.00 / 12 = 199.91 a term (the last 199.99), fee 0.66 % = 15.83 a term
    assert "京东商城消费 2,399.00 元" in reply and "12 期，每期手续费率 0.66%" in reply
    assert "每期应还：215.74 元（本金 199.91 元 + 手续费 15.83 元）（末期本金 199.99 元）" in reply
    assert "手续费合计 189.96 元，总计还款 2,588.96 元" in reply
    assert "12月19日" in reply
    assert "验证码已发送" in c.say("确认")
    reply = c.say(c.code(PHONE))
    assert "分期成功" in reply and "215.74 元" in reply
    after = _card(database)
    assert after.unbilled == before.unbilled - Decimal("2399.00")
    assert after.installments_outstanding == Decimal("2399.00")
    assert after.owed == before.owed  # the debt stays; only when it is due changes
    reply = c.say("京东那笔分期")
    assert "已办理过分期" in reply


def test_statement_installment_asks_what_then_terms(chat, database):
    before = _card(database)
    c = chat()
    c.bind()
    reply = c.say("我要分期")
    assert "1. 11月19日账单" in reply and "2. 11-23 京东商城消费 2,399.00 元" in reply
    reply = c.say("1")
    assert "分期项目：11月19日账单" in reply and "请问分几期" in reply and "3 期（每期手续费率 0.75%）" in reply
    reply = c.say("6")
    principal = before.statement.remaining
    fee = (principal * Decimal("0.0070")).quantize(Decimal("0.01"))
    assert f"每期手续费率 0.70%" in reply and f"手续费 {format_amount(fee)}" in reply
    assert "分期后本期应还 0.00 元" in reply
    reply = c.say("改成24期")
    assert "已修改期数" in reply and "24 期，每期手续费率 0.65%" in reply
    c.say("确认")
    reply = c.say(c.code(PHONE))
    assert "分期成功" in reply and "本期账单剩余应还 0.00 元" in reply
    after = _card(database)
    assert after.statement.remaining == 0 and after.statement.minimum_remaining == 0
    assert "本期账单已还清" in c.say("还信用卡全额")


def test_ineligible_purchase_and_bad_terms_and_cancel(chat):
    c = chat()
    c.bind()
    reply = c.say("账单分期分5期")
    assert "可选 3、6、12、24 期" in reply
    assert "请核对分期信息" in c.say("3期")
    assert "先不办理分期" in c.say("算了")
    assert c.flow is None


def test_no_credit_card(chat):
    c = chat()
    c.bind({"name": "王芳", "id": "310115198806152046", "phone": "13900139000"})
    assert "没有信用卡" in c.say("账单分期")


def test_a_loan_what_if_at_the_read_back_is_other_business_not_a_new_term(chat):
    c = chat()
    c.bind()
    assert "确认分期请回复“确认”" in c.say("把京东那笔分12期")
    reply = c.say("借10万分36期每月还多少")
    assert "要先放弃" in reply and "期数" not in reply, reply
    assert "借 100,000.00 元，分 3 年（36 期）" in c.say("是")


def test_the_only_eligible_item_is_named_before_the_terms_are_asked(chat):
    c = chat()
    c.bind()
    c.say("账单分期")
    c.say("12")
    c.say("确认")
    assert "分期成功" in c.say(c.code(PHONE))
    reply = c.say("分期")  # only the 京东 purchase is left: the flow picks it, and says so
    assert "可分期的是 11-23 京东商城消费 2,399.00 元，请问分几期？" in reply, reply
    assert "3 期（每期手续费率 0.75%）" in reply
    assert "期数可选 3、6、12、24 期" in c.say("1")
    assert "京东商城消费 2,399.00 元" in c.say("12")


def test_a_terms_what_if_right_after_a_card_answer_is_the_cards_installment(chat):
    """"分12期每个月还多少" right after the card was discussed is not the consumer loan's plan:
    it is the installment flow's read-back for what was just discussed, with 12 terms."""
    c = chat()
    c.bind()
    assert "如需我直接帮您办理分期" in c.say("京东那笔能分期吗")
    reply = c.say("分12期每个月还多少")  # the purchase just asked about
    assert "消费贷" not in reply and "11-23 京东商城消费 2,399.00 元" in reply, reply
    assert "每期应还：215.74 元（本金 199.91 元 + 手续费 15.83 元）" in reply and c.flow == "card.installment"
    assert "先不办理分期" in c.say("算了")
    c.say("查账单")
    reply = c.say("分12期每个月还多少")  # the statement just shown
    assert "消费贷" not in reply and "分期项目：11月19日账单" in reply and "12 期，每期手续费率 0.66%" in reply, reply
    assert "验证码已发送" in c.say("确认")
