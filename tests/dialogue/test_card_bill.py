"""card.bill through POST /v1/chat: the current statement, earlier ones, export."""
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from chatbot.clock import BANK_TZ
from chatbot.money import format_amount
from chatbot.tools.sql_bank import SqlBank

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)


def _card(database):
    with database.read() as db:
        bank = SqlBank(db)
        zhang = bank.find_customer("张伟", "110105199003071239")
        return bank.credit_card(zhang.id, "5678", NOW), bank.card_statements(zhang.id, "5678", NOW)


def test_current_statement_with_due_date_days_left_and_purchases(chat, database):
    card, _ = _card(database)
    c = chat()
    c.bind()
    reply = c.say("我的信用卡账单")
    assert "信用卡 **** 5678 本期账单（11月19日出账）" in reply
    assert f"本期应还 {format_amount(card.statement.remaining)}" in reply
    assert f"最低还款 {format_amount(card.statement.minimum_remaining)}" in reply
    assert "到期还款日 12月09日，还有 15 天" in reply
    assert f"未出账消费 {format_amount(card.unbilled)}" in reply
    assert "京东商城 2,399.00 元" in reply
    assert c.flow is None


def test_previous_and_named_month_and_traditional(chat, database):
    _, statements = _card(database)
    c = chat()
    c.bind()
    reply = c.say("上期账单")
    assert "2026年10月19日账单" in reply and format_amount(statements[1].new_balance) in reply and "已还清" in reply
    reply = c.say("9月账单")
    assert "2026年9月19日账单" in reply and format_amount(statements[2].new_balance) in reply
    assert "本期账单" in c.say("帳單")
    assert "没有找到2026年1月的账单" in c.say("1月的账单")


def test_export_gives_links_for_the_statement(chat):
    c = chat()
    c.bind()
    c.say("账单")
    reply = c.say("导出")
    assert "/v1/exports/" in reply and "Excel" in reply


def test_binding_first_and_no_card(chat):
    c = chat()
    assert "需要先绑定" in c.say("查一下信用卡账单")
    c.say("张伟")
    c.say("110105199003071239")
    assert "本期账单" in c.say(c.code("13800138000"))
    w = chat()
    w.bind({"name": "王芳", "id": "310115198806152046", "phone": "13900139000"})
    assert "没有信用卡" in w.say("我的账单")


def test_a_split_statement_says_how_it_is_paid_not_that_it_was_repaid(chat, database):
    card, _ = _card(database)
    principal = card.statement.remaining
    c = chat()
    c.bind()
    c.say("账单分期")
    c.say("12")
    c.say("确认")
    assert "分期成功" in c.say(c.code("13800138000"))
    reply = c.say("账单")
    per_term = (principal / 12).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    fee = (principal * Decimal("0.0066")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert "已还清" not in reply, reply
    assert f"已分 12 期，每期 {format_amount(per_term + fee)}（含手续费 {format_amount(fee)}）计入以后的账单" in reply
    assert "本期无需再还款" in reply


def test_minimum_paid_is_said_in_words(chat):
    c = chat()
    c.bind()
    c.say("还最低")
    assert "还款成功" in c.say("确认")
    reply = c.say("账单")
    assert "最低还款已还足" in reply and "最低还款 0.00 元" not in reply, reply


def test_next_year_future_and_impossible_months(chat):
    c = chat()
    c.bind()
    reply = c.say("明年1月账单")
    assert "2027年1月的账单还没有出" in reply and "12月19日出账" in reply, reply
    assert "2027年1月的账单还没有出" in c.say("明年一月的账单")
    assert "还没有出" in c.say("下个月的账单")
    reply = c.say("13月账单")
    assert "没有13月" in reply and "本期账单" not in reply, reply
    assert "没有13月" in c.say("十三月的账单")
    assert "2026年10月19日账单" in c.say("今年10月账单")
