"""card.repay through POST /v1/chat: full, minimum and stated amounts, corrections, refusals."""
import re
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update

from chatbot.clock import BANK_TZ
from chatbot.storage.models import Account, Card
from chatbot.tools.sql_bank import SqlBank

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)


def _zhang_card(database):
    with database.read() as db:
        bank = SqlBank(db)
        zhang = bank.find_customer("张伟", "110105199003071239")
        return zhang.id, bank.credit_card(zhang.id, "5678", NOW)


def _amount(text: str, label: str) -> Decimal:
    match = re.search(label + r"\s*([\d,]+\.\d\d) 元", text)
    assert match, text
    return Decimal(match.group(1).replace(",", ""))


def test_full_repayment_reads_back_capitals_and_pays_once(chat, database):
    _, card = _zhang_card(database)
    due = card.statement.remaining
    c = chat()
    c.bind()
    reply = c.say("还信用卡")
    assert "本期应还" in reply and "最低还款" in reply and "全额" in reply
    reply = c.say("全还")
    assert "请核对还款信息" in reply and "信用卡 **** 5678" in reply and "储蓄卡 **** 1234" in reply
    from chatbot.money import format_amount, to_capital
    assert f"{format_amount(due)}（{to_capital(due)}）（全额还款）" in reply
    receipt = c.say("确认", message_id="repay-1")
    assert "还款成功" in receipt and "本期账单已还清" in receipt
    assert f"储蓄卡余额 {format_amount(Decimal('52380.50') - due)}" in receipt
    assert c.say("确认", message_id="repay-1") == receipt  # the same message again: answered once
    assert c.flow is None
    _, after = _zhang_card(database)
    assert after.statement.remaining == 0 and after.owed == card.owed - due
    assert "已还清" in c.say("我的账单")


def test_minimum_then_correction_to_a_stated_amount(chat, database):
    _, card = _zhang_card(database)
    c = chat()
    c.bind()
    reply = c.say("信用卡还最低")
    assert "（最低还款）" in reply
    from chatbot.money import format_amount
    assert format_amount(card.statement.minimum_remaining) in reply
    reply = c.say("改成３０００")  # full-width digits
    assert "已修改金额" in reply and "3,000.00 元（叁仟元整）" in reply
    reply = c.say("确认")
    assert "还款成功" in reply
    assert f"本期还需还 {format_amount(card.statement.remaining - 3000)}" in reply and "最低还款已还足" in reply


def test_stated_amount_with_terse_words_and_cancel(chat, database):
    c = chat()
    c.bind()
    assert "请问还多少" in c.say("还款")
    assert "500.00 元（伍佰元整）" in c.say("500")
    assert "先不还款" in c.say("算了")
    assert c.flow is None
    _, card = _zhang_card(database)
    assert card.statement.paid == 0


def test_over_what_is_owed_is_refused_and_asked_again(chat, database):
    _, card = _zhang_card(database)
    c = chat()
    c.bind()
    reply = c.say("帮我还信用卡5万")
    from chatbot.money import format_amount
    assert "超过应还金额" in reply and format_amount(card.repayable) in reply and "重新输入金额" in reply
    assert c.flow == "card.repay"
    assert "请核对还款信息" in c.say("1000")


def test_insufficient_funds(chat, database):
    _, card = _zhang_card(database)
    assert card.repayable > Decimal("1000")
    with database.write() as db:  # 张伟 spends most of his savings first
        db.execute(update(Account).where(Account.account_no == "6222021000191234").values(balance=Decimal("800.00")))
    c = chat()
    c.bind()
    reply = c.say("还信用卡1000")
    assert "余额不足" in reply and "800.00 元" in reply and "重新输入金额" in reply


def test_frozen_credit_card_is_refused_with_what_to_do(chat, database):
    with database.write() as db:
        account_id = db.scalar(select(Card.account_id).where(Card.tail == "5678"))
        db.execute(update(Card).where(Card.tail == "5678").values(status="lost"))
        db.execute(update(Account).where(Account.id == account_id).values(status="frozen"))
    c = chat()
    c.bind()
    reply = c.say("还信用卡")
    assert "已挂失或冻结" in reply and "解挂" in reply
    assert c.flow is None


def test_frozen_savings_card_is_refused(chat, database):
    with database.write() as db:
        db.execute(update(Card).where(Card.tail == "1234").values(status="lost"))
    c = chat()
    c.bind()
    reply = c.say("还信用卡")
    assert "储蓄卡已挂失或冻结" in reply and c.flow is None


def test_binding_first_then_the_repayment_goes_on(chat):
    c = chat()
    assert "需要先绑定" in c.say("我要还信用卡2000")
    c.say("张伟")
    c.say("110105199003071239")
    reply = c.say(c.code("13800138000"))
    assert "绑定成功" in reply and "2,000.00 元（贰仟元整）" in reply


def test_traditional_characters_and_a_question_mid_flow(chat):
    c = chat()
    c.bind()
    assert "请问还多少" in c.say("還信用卡")
    reply = c.say("最低还款额是怎么算的")
    assert "请问还多少" in reply and c.flow == "card.repay"


def test_no_credit_card(chat):
    c = chat()
    c.bind({"name": "王芳", "id": "310115198806152046", "phone": "13900139000"})
    reply = c.say("还信用卡")
    assert "没有信用卡" in reply and c.flow is None



def test_correction_words_answering_the_amount_question_are_the_amount(chat, database):
    _, card = _zhang_card(database)
    c = chat()
    c.bind()
    assert "请问还多少" in c.say("还款")
    reply = c.say("改成3000")  # a correction cue before the answer to the open question: that answer
    assert "没能识别" not in reply and "已修改" not in reply, reply
    assert "请核对还款信息" in reply and "3,000.00 元（叁仟元整）" in reply
    reply = c.say("确认")
    assert "还款成功" in reply and "还款 3,000.00 元" in reply


def test_a_correction_cue_alone_at_the_amount_question_is_no_answer(chat):
    c = chat()
    c.bind()
    c.say("还款")
    reply = c.say("不对")  # nothing was given to change, and no value follows the cue
    assert "请问要修改" not in reply and "请问还多少" in reply and c.flow == "card.repay"
    assert "（最低还款）" in c.say("应该是最低")


def test_a_transfer_to_the_credit_card_cannot_overpay_it(chat, database):
    """Repayment refuses more than is owed; a transfer to the card's account number went around
    that rule (the bill then showed a positive balance). It is refused: repay with 还信用卡."""
    _, before = _zhang_card(database)
    c = chat()
    c.bind()
    reply = c.say("给张伟转1000，账号6258800000335678")  # refused before any read-back or code
    assert "请核对转账信息" not in reply and "信用卡账户不能作为转账收款账户" in reply and "还信用卡" in reply, reply
    assert c.sms_count("13800138000") == 1  # only the binding's code
    _, after = _zhang_card(database)
    assert after.owed == before.owed and after.overpaid == 0


def test_a_cantonese_yes_confirms_and_no_declines(chat):
    c = chat()
    c.bind()
    c.say("信用卡还300")
    assert "还款成功" in c.say("系")
    c.say("信用卡还200")
    reply = c.say("唔系")
    assert "还款成功" not in reply and c.flow == "card.repay", reply
