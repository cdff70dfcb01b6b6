"""Knowledge questions through the chat: FAQ answers, clarification by number, the graph."""
import re

from sqlalchemy import select

from chatbot.storage.models import TurnLog


def test_faq_answer_outside_a_flow(chat):
    c = chat()
    reply = c.say("跨行转账要手续费吗")
    assert "手续费" in reply or "免费" in reply
    assert c.last["state"]["intent"] == "faq"


def test_how_to_question_taken_for_a_request_is_answered_from_the_faq(chat):
    c = chat()
    reply = c.say("卡被吞了咋办")
    assert "ATM" in reply and "网点" in reply
    assert c.flow is None


def test_a_how_to_answer_offers_the_flow_without_denying_it(chat):
    c = chat()
    c.bind()
    c.say("怎么查余额")
    replies = [r["text"] for r in c.last["replies"]]
    assert "余额" in replies[0] and replies[-1] == "如需我直接帮您查询余额，请告诉我。"
    assert not any("暂不支持" in text for text in replies)  # the flow exists: never say it does not
    assert c.flow is None
    assert "52,380.50 元" in c.say("帮我查一下")


def test_a_stolen_wallet_with_the_card_is_offered_a_loss_report(chat):
    c = chat()
    c.bind()
    reply = c.say("钱包被偷了银行卡也在里面咋办")
    assert reply == "卡片丢失请尽快挂失。需要我现在为您挂失吗？"  # urgent: not a how-to answer
    c.say("帮我挂失")
    assert c.flow == "account.report_loss"


def test_clarification_answered_by_number(chat):
    c = chat()
    reply = c.say("年费")  # a topic, not a question: the credit or the debit card's (knowledge/faq/products.py)?
    assert reply.startswith("您是想问借记卡还是信用卡的年费？")
    number = re.search(r"(\d)\. 借记卡\n", reply).group(1)
    reply = c.say(number)
    assert "借记卡" in reply and not reply.startswith("您是想问")


def _respond(services, clock, parse):
    from chatbot.dialogue.policy import DialoguePolicy
    from chatbot.dialogue.state import DialogueState
    from chatbot.dialogue.turn import TurnContext

    policy = DialoguePolicy("secret", "http://testserver", services.knowledge)
    with services.database.write() as db:
        return policy.respond(TurnContext(parse, DialogueState(), None, clock.now(), db))


def test_a_topic_the_intent_model_cannot_place_is_clarified_from_the_faq(services, clock, low_confidence_parse):
    result = _respond(services, clock, low_confidence_parse("吞卡的事情", "goodbye"))
    assert result.outcome == "faq_clarify" and result.replies[0].startswith("您是想问：")
    assert "ATM 吞卡后如何取回？" in result.replies[0] and "card-006" in result.state.offered_faq
    assert result.state.not_understood == 0


def test_an_unplaced_message_the_faq_does_not_know_is_still_not_understood(services, clock, low_confidence_parse):
    result = _respond(services, clock, low_confidence_parse("嗷呜嗷呜"))
    assert result.outcome == "not_understood" and "没太明白" in result.replies[0]
    assert not any(step["action"] == "faq_not_found" for step in result.steps)


def test_graph_answers_a_rate_question(chat):
    c = chat()
    reply = c.say("三年定期利率多少")
    assert "1.75%" in reply and "3 年" in reply


def test_unanswerable_question_is_logged_with_candidates(chat, services):
    c = chat()
    reply = c.say("你们银行的外币保管箱能存放黄金饰品和比特币冷钱包吗")
    with services.database.read() as db:
        turn = db.scalars(select(TurnLog).where(TurnLog.user_id == c.user_id)).one()
    assert turn.outcome == "faq_not_found"
    assert "人工" in reply
    not_found = next(s for s in turn.steps if s["action"] == "faq_not_found")
    assert not_found["candidates"]


def test_analysts_list_unanswered_questions(chat, client):
    chat().say("你们银行的外币保管箱能存放黄金饰品和比特币冷钱包吗")
    token = client.post("/v1/auth/login", json={"username": "analyst", "password": "analyst-sandbox"}).json()["token"]
    body = client.get("/v1/admin/unanswered", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["questions"][0]["text"].startswith("你们银行的外币保管箱")
    assert body["questions"][0]["candidates"]
    assert client.get("/v1/admin/unanswered").status_code == 401
