"""wealth.buy through POST /v1/chat: suitability, assessment, amount rules, disclosure, code, books."""
from decimal import Decimal

from sqlalchemy import func, select

from chatbot.storage.models import Account, EvidenceRecord, LedgerTransaction, RiskAssessment, WealthHolding
from chatbot.wealth.evidence import text_hash, verify
from tests.dialogue.conftest import WANG, ZHANG


def _balance(services, account_no_tail="1234"):
    with services.database.read() as db:
        return db.scalar(select(Account.balance).where(Account.account_no.like(f"%{account_no_tail}")))


def _holdings(services):
    with services.database.read() as db:
        return db.scalar(select(func.count()).select_from(WealthHolding))


def test_purchase_with_disclosure_code_debit_holding_and_evidence(chat, services):
    c = chat()
    c.bind(ZHANG)
    before = _balance(services)
    disclosure = c.say("买5000稳盈半年定开")
    assert "风险揭示" in disclosure and "R2（中低风险）" in disclosure and "2.40%–3.20%" in disclosure
    assert "仅开放日可申购赎回" in disclosure and "我已阅读并理解" in disclosure
    read_back = c.say("我已阅读并理解")
    assert "5,000.00 元（伍仟元整）" in read_back and "**** 1234" in read_back
    assert "验证码已发送" in c.say("确认")
    done = c.say(c.code(ZHANG["phone"]))
    assert "购买成功" in done and "WM20261124-" in done, done
    assert _balance(services) == before - Decimal("5000.00")
    with services.database.read() as db:
        holding = db.scalars(select(WealthHolding).order_by(WealthHolding.id.desc())).first()
        assert holding.product_code == "wm_wenying_half_year" and holding.principal == Decimal("5000.00")
        txn = db.scalar(select(LedgerTransaction).where(LedgerTransaction.reference == holding.reference))
        assert txn.kind == "wealth_purchase"
        record = db.scalars(select(EvidenceRecord).order_by(EvidenceRecord.id.desc())).first()
        assert record.kind == "wealth_purchase" and record.payload["amount"] == "5000.00"
        assert record.payload["disclosure"]["sha256"] == text_hash(record.payload["disclosure"]["text"])
        assert "风险揭示" in record.payload["disclosure"]["text"]
        assert record.payload["acknowledgement"]["answer"] == "我已阅读并理解"
        assert verify(db).ok
    holdings = c.say("我的理财")
    assert holdings.count("示例稳盈半年定开") == 2  # the seed's holding and this one


def test_a_product_above_the_level_is_refused_with_the_way_forward(chat, services):
    c = chat()
    c.bind(ZHANG)  # C3
    reply = c.say("买2万进取权益精选")
    assert "R4（中高风险）" in reply and "C3（平衡型）" in reply and "不能购买" in reply
    assert "重新测评" in reply and c.flow is None
    assert "第 1/10 题" in c.say("好的")


def test_missing_assessment_offers_the_questionnaire(chat):
    c = chat()
    c.bind(WANG)
    reply = c.say("我要买理财")
    assert "风险测评" in reply and c.flow is None
    assert "第 1/10 题" in c.say("好的")


def test_expired_assessment_sends_to_reassess(chat, clock):
    clock.advance(days=330)
    c = chat()
    c.bind(ZHANG)
    reply = c.say("买1000天天宝")
    assert "过期" in reply and "重新测评" in reply and c.flow is None
    assert "第 1/10 题" in c.say("需要")


def test_below_minimum_and_step_are_explained(chat):
    c = chat()
    c.bind(ZHANG)
    reply = c.say("买5000稳健一年封闭")
    assert "10,000.00 元起购" in reply and c.flow == "wealth.buy"
    reply = c.say("10500")
    assert "整数倍" in reply and "11,000.00 元" in reply
    assert "风险揭示" in c.say("11000")


def test_insufficient_funds_is_refused_before_any_code(chat, services):
    c = chat()
    c.bind(ZHANG)
    reply = c.say("买6万天天宝")
    assert "余额不足" in reply and "52,380.50 元" in reply
    assert c.sms_count(ZHANG["phone"]) == 1  # only the binding's code
    assert _holdings(services) == 1


def test_paused_product_is_not_sold(chat):
    c = chat()
    c.bind(ZHANG)
    reply = c.say("买100万商品CTA2号")
    assert "暂停申购" in reply


def test_cancel_at_the_read_back_moves_nothing(chat, services):
    c = chat()
    c.bind(ZHANG)
    c.say("买1000天天宝")
    c.say("我已阅读并理解")
    assert "先不购买" in c.say("算了")
    assert _holdings(services) == 1


def test_a_replayed_code_message_buys_once(chat, services):
    c = chat()
    c.bind(ZHANG)
    c.say("买1000天天宝")
    c.say("我已阅读并理解")
    c.say("确认")
    code = c.code(ZHANG["phone"])
    first = c.say(code, message_id="m-1")
    second = c.say(code, message_id="m-1")
    assert first == second and "购买成功" in first
    assert _holdings(services) == 2


def test_a_code_typed_again_after_the_purchase_is_no_failure(chat):
    """Double-tapped codes after the purchase got "没太明白", then a queue for a person."""
    c = chat()
    c.bind()
    c.say("买2万稳盈半年定开")
    c.say("我已阅读并理解")
    c.say("确认")
    code = c.code(ZHANG["phone"])
    assert "成功" in c.say(code)
    for _ in range(3):
        reply = c.say(code)
        assert "无需再输入" in reply and "人工" not in reply and "排队" not in reply, reply


def test_a_new_assessment_meanwhile_makes_the_product_unsuitable_before_the_code(chat, services):
    """A product confirmed under C3 and a C1 assessment taken since: refused for suitability
    (not "需要先完成风险测评"), and no code is sent for it."""
    from datetime import date

    c = chat()
    c.bind()
    c.say("买2万稳盈半年定开")  # R2, fine for C3
    c.say("我已阅读并理解")
    with services.database.write() as db:
        customer = db.scalar(select(Account.customer_id).where(Account.account_no.endswith("1234")))
        db.add(RiskAssessment(customer_id=customer, answers={}, score=20, level="C1",
                              assessed_at=services.clock.now(), expires_on=date(2027, 11, 24)))
    sent = c.sms_count(ZHANG["phone"])
    reply = c.say("确认")
    assert "超出了您的风险承受能力" in reply and "风险测评" in reply and c.flow is None, reply
    assert c.sms_count(ZHANG["phone"]) == sent
