"""Issue 21 through `POST /v1/chat`: FAQ look-alikes that differ by product are answered for
the product named, the product the conversation is about, or the one the customer holds, and
otherwise asked about in one question answered by tapping, a number or a word.

逾期记录多久能消除 fits credit-022 (信用卡) and loan-041 (贷款) alike (knowledge/faq/products.py).
"""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from chatbot.dialogue.flows.lending_products import GraphProducts
from chatbot.settings import DATA_DIR
from chatbot.storage.models import ChannelBinding, Customer
from chatbot.tools.sql_bank import SqlBank
from knowledge.faq.store import load_faq

QUESTION = "逾期记录多久能消除"
ASKED = "您是想问信用卡还是贷款的逾期记录？"


@pytest.fixture(scope="module")
def answers():
    """The two answers by product: what the customer must (not) be told."""
    entries = {entry.id: entry.answer for entry in load_faq(DATA_DIR / "faq.yaml")}
    return {"信用卡": entries["credit-022"], "贷款": entries["loan-041"]}


@pytest.fixture
def talk(client, database):
    """talk(user_id, text, customer=None) -> (all reply text, state); binds `customer` first."""
    return _talker(client, database, lambda body: "\n".join(item["text"] for item in body["replies"]))


@pytest.fixture
def items(client, database):
    """items(user_id, text) -> the reply items of one message, as the page draws them."""
    return _talker(client, database, lambda body: body["replies"])


def _talker(client, database, shape):
    """say(user_id, text, customer=None) -> (`shape` of the answer, state); binds `customer` first."""
    bound = set()

    def say(user_id, text, customer=None):
        if customer and user_id not in bound:
            with database.write() as db:
                row = db.scalars(select(Customer).where(Customer.name == customer)).one()
                db.add(ChannelBinding(channel="web", user_id=user_id, customer_id=row.id, bound_at=row.created_at))
            bound.add(user_id)
        response = client.post("/v1/chat", json={"user_id": user_id, "text": text, "rich": True})
        assert response.status_code == 200, response.text
        body = response.json()
        return shape(body), body["state"]

    return say


def test_after_a_card_conversation_the_card_answer(talk, answers):
    reply, state = talk("card-talk", "查一下本期账单", "张伟")  # no product word: the bill flow says it
    assert state["intent"] == "card.bill" and "本期账单" in reply
    reply, _ = talk("card-talk", QUESTION)
    assert answers["信用卡"] in reply and answers["贷款"] not in reply and ASKED not in reply


def test_after_a_loan_conversation_the_loan_answer(talk, answers):
    reply, state = talk("loan-talk", "看看我的还款计划", "张伟")
    assert state["intent"] == "loan.repayment_plan" and "消费贷" in reply
    reply, _ = talk("loan-talk", QUESTION)
    assert answers["贷款"] in reply and answers["信用卡"] not in reply


def test_without_context_one_question_answered_by_a_word(talk, answers):
    reply, state = talk("ask-word", QUESTION)
    assert reply.startswith(ASKED) and "1. 信用卡" in reply and "2. 贷款" in reply and "回复序号" in reply
    assert answers["信用卡"] not in reply and answers["贷款"] not in reply and state["mode"] == "bot"
    reply, _ = talk("ask-word", "贷款")
    assert reply.startswith(answers["贷款"])


def test_a_customer_holding_both_is_asked_and_answers_by_number(talk, answers):
    reply, _ = talk("ask-number", QUESTION, "张伟")  # a credit card and a loan, no conversation yet
    assert reply.startswith(ASKED)
    reply, _ = talk("ask-number", "1")
    assert reply.startswith(answers["信用卡"])


def test_the_question_has_a_button_per_product_and_a_tap_answers_it(items, answers):
    replies, _ = items("ask-buttons", QUESTION)
    question = replies[-1]
    assert question["type"] == "buttons" and [b["label"] for b in question["buttons"]] == ["信用卡", "贷款"]
    replies, _ = items("ask-buttons", question["buttons"][1]["send"])
    assert replies[0]["text"] == answers["贷款"]


def test_the_option_tapped_as_its_whole_question_resolves_too(talk, answers):
    talk("ask-tap", QUESTION)
    reply, _ = talk("ask-tap", "信用卡逾期记录会在征信上保留多久？")  # a button that sends the entry's question
    assert reply.startswith(answers["信用卡"])


def test_a_customer_who_holds_only_a_loan_gets_the_loan_answer(talk, answers, database):
    now = datetime.now(timezone.utc)
    with database.write() as db:
        bank = SqlBank(db)
        li_na = db.scalars(select(Customer).where(Customer.name == "李娜")).one().id
        application = bank.applications(li_na, "loan")[0]
        for stage in ("reviewing", "approved", "disbursed"):
            bank.move_application(application.id, stage, "test", now, GraphProducts(None))
    reply, _ = talk("loan-only", QUESTION, "李娜")
    assert answers["贷款"] in reply and ASKED not in reply
    reply, _ = talk("no-loan", QUESTION, "王芳")  # neither a credit card nor a loan: asked
    assert reply.startswith(ASKED)


@pytest.mark.parametrize(("text", "product"), [("信用卡逾期记录多久能消除", "信用卡"), ("房贷逾期了，记录多久能消", "贷款")])
def test_a_question_naming_the_product_is_answered_directly(talk, answers, text, product):
    reply, _ = talk(f"named-{product}", text, "张伟")
    assert answers[product] in reply and ASKED not in reply


def test_the_question_ignored_for_another_one(talk, answers):
    talk("ignored", QUESTION)
    reply, state = talk("ignored", "网点几点开门")
    assert "9:00–17:00" in reply and answers["信用卡"] not in reply and answers["贷款"] not in reply
    reply, _ = talk("ignored", "1")  # the question is gone: a bare number is not taken for it
    assert answers["信用卡"] not in reply


def test_neither_asks_what_they_meant(talk, answers):
    talk("neither", QUESTION)
    reply, state = talk("neither", "都不是")
    assert "请您具体说说" in reply and state["mode"] == "bot"
    assert answers["信用卡"] not in reply and answers["贷款"] not in reply


def test_traditional_characters(talk, answers):
    talk("traditional-card", "查一下本期帳單", "张伟")
    reply, _ = talk("traditional-card", "逾期記錄多久能消除")
    assert answers["信用卡"] in reply
    reply, _ = talk("traditional-ask", "逾期記錄多久能消除")
    assert reply.startswith(ASKED)
    reply, _ = talk("traditional-ask", "貸款的")
    assert reply.startswith(answers["贷款"])
