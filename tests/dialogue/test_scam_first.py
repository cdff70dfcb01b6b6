"""Issue 15 item 2: scam wording warns in the very first reply, before any read-back or code."""
from sqlalchemy import select

from chatbot.storage.models import AuditLog

ZHANG_PHONE = "13800138000"


def _fraud_stops(services) -> list[AuditLog]:
    with services.database.read() as db:
        return list(db.scalars(select(AuditLog).where(AuditLog.action == "fraud_stop")))


def test_the_warning_comes_first_not_after_the_read_back(chat, services):
    c = chat()
    c.bind()
    reply = c.say("公安说我的账户涉嫌洗钱，要我转到安全账户，给李娜转3万")
    first = c.last["replies"][0]["text"]
    assert "风险提示" in first and "安全账户" in first
    assert "请核对" not in reply and "验证码已发送" not in reply
    assert c.last["state"]["mode"] == "queued"  # handed to a person to check
    assert c.sms_count(ZHANG_PHONE) == 1  # the binding code only
    assert len(_fraud_stops(services)) == 1


def test_traditional_characters_and_a_question_first(chat):
    c = chat()
    c.bind()
    reply = c.say("警察說我涉嫌洗錢，讓我給李娜轉賬")  # no amount yet: warned, not asked for one
    assert "风险提示" in reply and "转多少" not in reply and "请核对" not in reply
    assert c.last["state"]["mode"] == "queued"


def test_scam_wording_at_the_read_back_warns_at_once(chat):
    c = chat()
    c.bind()
    assert "请核对" in c.say("给李娜转2500")
    reply = c.say("是客服让我转的，说要退款")
    assert "风险提示" in reply and "请回复“确认”" not in reply
    assert c.last["state"]["mode"] == "queued"
    assert c.sms_count(ZHANG_PHONE) == 1


def test_no_scam_wording_no_warning(chat):
    c = chat()
    c.bind()
    reply = c.say("给李娜转3万")
    assert "风险提示" not in reply and "请核对" in reply


def test_an_unbound_customer_is_warned_before_any_binding_question(chat, services):
    """The trial: a victim not yet bound was asked for name, ID and SMS code first, while
    perhaps reading them out to the fraudster; the warning must come before all that."""
    c = chat()
    reply = c.say("公安说我的账户涉嫌洗钱，要我转到安全账户，给李娜转3万")
    assert c.last["replies"][0]["text"].startswith("【风险提示】")
    assert "姓名" not in reply and "身份证" not in reply and "验证码已发送" not in reply
    assert c.last["state"]["mode"] == "queued" and c.last["state"]["active_flow"] is None
    assert c.sms_count(ZHANG_PHONE) == 0
    assert len(_fraud_stops(services)) == 1
