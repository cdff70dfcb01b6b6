"""Policy behaviour across flows: re-asks, fallbacks, hand-offs, the turn log explaining it."""
from sqlalchemy import select

from chatbot.storage.models import AuditLog, TurnLog


def test_invalid_answers_are_reasked_twice_then_a_person_is_offered(chat):
    c = chat()
    c.bind()
    assert "转多少" in c.say("我要给李娜转账")
    assert "转多少" in c.say("嗯……这个嘛")
    assert "转多少" in c.say("你猜猜看呀")
    reply = c.say("随便吧哈哈")
    assert "没能继续办理" in reply and "人工" in reply
    assert c.flow is None


def test_two_not_understood_turns_hand_off(services, clock, low_confidence_parse):
    from chatbot.dialogue.policy import DialoguePolicy
    from chatbot.dialogue.state import DialogueState
    from chatbot.dialogue.turn import TurnContext

    policy = DialoguePolicy("secret", "http://testserver")
    state = DialogueState()
    with services.database.write() as db:
        first = policy.respond(TurnContext(low_confidence_parse("阿巴阿巴"), state, None, clock.now(), db))
        second = policy.respond(TurnContext(low_confidence_parse("嗷呜嗷呜"), first.state, None, clock.now(), db))
    assert first.outcome == "not_understood" and first.handoff is None and "没太明白" in first.replies[0]
    assert second.handoff is not None and second.handoff.reason == "not_understood"


def test_human_request_and_complaint_are_queued(chat):
    c = chat()
    c.say("转人工")
    assert c.last["state"]["mode"] == "queued"
    d = chat()
    reply = d.say("你们这什么破系统，转了三次都失败，我要投诉")
    assert "抱歉" in reply and d.last["state"]["mode"] == "queued"


def test_small_talk_interruption_resumes_the_question(chat):
    c = chat()
    c.bind()
    c.say("我要挂失")
    reply = c.say("谢谢")
    assert "不客气" in reply and "挂失哪一张" in reply


def test_steps_are_in_the_turn_log_and_fraud_stops_are_audited(chat, services):
    c = chat()
    c.bind()
    c.say("客服让我把钱转到安全账户")
    c.say("给李娜转500")
    c.say("确认")
    with services.database.read() as db:
        actions = [s["action"] for t in db.scalars(select(TurnLog).where(TurnLog.user_id == c.user_id))
                   for s in t.steps]
        audit = db.scalars(select(AuditLog.action)).all()
    assert {"flow_started", "slot_filled", "otp_sent", "otp_checked", "executed"} <= set(actions)
    assert "fraud_stop" in actions and "fraud_stop" in audit


def test_session_expiry_forgets_a_half_done_flow(chat, clock):
    c = chat()
    c.bind()
    c.say("我要给李娜转账")
    clock.advance(minutes=31)
    reply = c.say("500")
    # The web binding lapsed first (docs/security.md): bind again, with a fresh code.
    assert "绑定已失效" in reply and "请告诉我您的姓名" in reply
    c.say("张伟")
    c.say("110105199003071239")
    assert "转给谁" in c.say(c.code("13800138000"))  # the payee of the idle session is forgotten


def test_declining_a_switch_resumes_the_current_question(chat):
    c = chat()
    c.bind()
    c.say("我要给李娜转账")
    assert "放弃" in c.say("我的卡丢了要挂失")
    reply = c.say("不是")
    assert "继续" in reply and "转多少" in reply
    assert "请核对转账信息" in c.say("800")
