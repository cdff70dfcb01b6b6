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


def _export_file(client, reply: str) -> str:
    """The file name a statement export downloads (its period)."""
    import re
    from urllib.parse import unquote
    links = re.findall(r"/v1/exports/\S+", reply)
    assert len(links) == 2, reply
    response = client.get(links[1])
    assert response.status_code == 200
    return unquote(response.headers["content-disposition"])


def test_months_counted_back_pick_statements_by_their_statement_date(chat):
    c = chat()
    c.bind()
    assert "2026年10月19日账单" in c.say("上个月账单")
    reply = c.say("上上个月账单")  # the one before, not 上个月's again
    assert "2026年9月19日账单" in reply and "10月19日" not in reply, reply
    assert "2026年9月19日账单" in c.say("前两个月的账单")
    assert "本期账单（11月19日出账）" in c.say("这个月的账单")


def test_exporting_a_named_statement_covers_its_period(chat, client):
    c = chat()
    c.bind()
    c.say("查账单")
    reply = c.say("把上个月账单导出来")  # not the current cycle just shown
    assert "2026年10月19日账单（09-20 至 10-19）" in reply
    assert "交易明细_20260920-20261019.csv" in _export_file(client, reply)
    reply = c.say("帮我导出本期账单明细")  # links, not the bill
    assert "本期应还" not in reply and "交易明细_20261020-20261119.csv" in _export_file(client, reply)
    assert "共" in c.say("最近的交易")  # after a transaction list, a statement export is still the statement's
    assert "交易明细_20260920-20261019.csv" in _export_file(client, c.say("导出上个月的账单"))


def test_right_after_a_bill_a_short_follow_up_is_about_bills(chat, client):
    c = chat()
    c.bind()
    c.say("查账单")
    reply = c.say("那上个月的呢")
    assert "2026年10月19日账单（09-20 至 10-19）" in reply and "2026-10-01" not in reply, reply
    assert "交易明细_20260920-20261019.csv" in _export_file(client, c.say("导出"))
    assert "2026-09-20 至 2026-10-19，尾号5678" in c.say("更多")


def test_nothing_owed_lists_no_unbilled_purchases(chat):
    c = chat()
    c.bind()
    c.say("还信用卡全额")
    assert "还款成功" in c.say("确认")
    c.say("还信用卡")
    c.say("2829.85")  # the unbilled spending too: nothing is owed now
    assert "信用卡尚欠 0.00 元" in c.say("确认")
    reply = c.say("账单")
    assert "未出账消费 0.00 元" not in reply and "京东商城" not in reply, reply
    assert "暂无未出账待还款" in reply and "溢缴款" not in reply
    assert "没有可分期" in c.say("京东那笔分12期")  # repaid: nothing left to split and pay fees on


def test_a_positive_card_balance_is_said_as_overpaid_credit(chat, database):
    from sqlalchemy import select, update
    from chatbot.storage.models import Account, Card
    c = chat()
    c.bind()
    c.say("还信用卡全额")
    c.say("确认")
    c.say("还信用卡2829.85")
    c.say("确认")
    with database.write() as db:  # e.g. a merchant's refund after everything was repaid
        account_id = db.scalar(select(Card.account_id).where(Card.tail == "5678"))
        db.execute(update(Account).where(Account.id == account_id).values(balance=Decimal("150.00")))
    reply = c.say("账单")
    assert "溢缴款 150.00 元" in reply and "未出账消费 0.00 元" not in reply, reply


def test_impossible_years_and_endless_numbers_are_answered_not_failed(chat):
    """The review's HTTP 500s: year 0 in a named month; a bare number of 41 digits as an amount."""
    c = chat()
    c.bind()
    assert "没有这个年份" in c.say("0000年1月的信用卡账单")
    c.say("还信用卡")
    c.say("1" + "0" * 40)  # was a 500 (quantize of 10**40); the Chat driver asserts a 200
    assert c.flow == "card.repay"
    c.say("取消")
    c.say("我要买理财")
    c.say("天天宝")
    c.say("1" + "0" * 40)
    assert c.flow == "wealth.buy"


def test_a_later_month_of_this_year_is_the_coming_statement(chat):
    """"12月账单" asked in November: December's statement is not out yet (not 2025年12月)."""
    c = chat()
    c.bind()
    reply = c.say("12月账单")
    assert "还没有出" in reply and "2025" not in reply, reply
