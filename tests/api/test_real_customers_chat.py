"""Issue 20 through `POST /v1/chat`: what real customers type, kind by kind.

Terse, regional (Cantonese, Taiwanese, pinyin), greeting-prefixed, complaints without 投诉,
requests to be contacted, my-versus-how, business the chat does not do, and a question
between two businesses answered by tapping (the page sends the option's number) or in words.
Sentences written for these tests, not taken from data/intents_real.tsv.
"""
import pytest
from sqlalchemy import select

from chatbot.storage.models import ChannelBinding, Customer


def _bind_zhang(database, user_id):
    with database.write() as db:
        customer = db.scalars(select(Customer).where(Customer.name == "张伟")).one()
        db.add(ChannelBinding(channel="web", user_id=user_id, customer_id=customer.id, bound_at=customer.created_at))


@pytest.fixture
def talk(client, database):
    """talk(user_id, text, bound=True) -> (all reply text, state) of one message."""
    bound_users = set()

    def say(user_id, text, bound=True):
        if bound and user_id not in bound_users:
            _bind_zhang(database, user_id)
            bound_users.add(user_id)
        response = client.post("/v1/chat", json={"user_id": user_id, "text": text})
        assert response.status_code == 200, response.text
        body = response.json()
        return "\n".join(item["text"] for item in body["replies"]), body["state"]

    return say


@pytest.mark.parametrize(("text", "flow", "shows"), [
    ("流水", "account.transactions", "笔"),
    ("额度", None, "可用额度"),
    ("卡费", None, "本期"),
])
def test_terse_words_get_the_business_they_most_likely_mean(talk, text, flow, shows):
    reply, state = talk(f"terse-{text}", text)
    assert shows in reply
    assert state["mode"] == "bot"


def test_a_terse_word_between_two_businesses_is_asked_about(talk):
    reply, state = talk("terse-wealth", "理财")  # the products on sale, or what the customer holds
    assert "您是想" in reply and "还是" in reply and "1. " in reply and "2. " in reply
    assert state["active_flow"] is None


@pytest.mark.parametrize(("text", "intent"), [
    ("今期帳單幾時出", "card.bill"),  # Traditional
    ("户头还有几多钱", "account.balance"),  # Taiwan 户头, Cantonese 几多
    ("我申请嘅按揭批咗未", "loan.status"),  # Cantonese 咗未
    ("cha xinyongka zhangdan", "card.bill"),  # pinyin without an input method
])
def test_regional_and_pinyin_messages(talk, text, intent):
    _, state = talk(f"regional-{intent}-{len(text)}", text)
    assert state["intent"] == intent


def test_cantonese_yes_and_no_answer_an_offer(talk):
    reply, _ = talk("yue-offer", "张卡唔见咗，点算")
    assert "需要我现在为您挂失吗" in reply
    reply, _ = talk("yue-offer", "唔使了")
    assert "建议尽快挂失" in reply


@pytest.mark.parametrize(("text", "intent", "shows"), [
    ("你好，打扰一下，我朋友在成都，我要怎么给她汇钱", "transfer.create", "转给谁"),
    ("您好，在吗？想咨询一下大额存单的利率", "faq", "大额存单"),
])
def test_a_greeting_in_front_does_not_hide_the_request(talk, text, intent, shows):
    reply, state = talk(f"prefixed-{intent}", text)
    assert state["intent"] == intent and shows in reply


def test_two_requests_in_one_message_the_second_is_offered_after_the_first(talk):
    reply, state = talk("two-requests", "查下余额，顺便看看信用卡账单")
    assert "储蓄卡 **** 1234" in reply  # the balance of every account: the card belongs to the second request
    assert "您刚才还提到查询信用卡账单，需要现在办理吗？" in reply
    reply, _ = talk("two-requests", "好的")
    assert "本期账单" in reply


def test_the_second_request_waits_for_the_first_flow_to_finish(talk):
    reply, state = talk("two-flows", "帮我还一下信用卡，顺便查下余额")
    assert state["active_flow"] == "card.repay" and "提到" not in reply
    talk("two-flows", "全额")
    reply, _ = talk("two-flows", "确认")
    assert "还款成功" in reply and "您刚才还提到查询余额" in reply


@pytest.mark.parametrize("text", ["你们是抢钱吗，手续费这么高？？", "什么破服务", "再这样我就销户", "我要找银保监会"])
def test_complaints_without_the_word_go_to_a_person_first(talk, text):
    reply, state = talk(f"complaint-{text}", text)
    assert state["mode"] == "queued" and state["intent"] in ("complaint", "faq", "out_of_scope", "deny")
    assert "非常抱歉给您带来不便" in reply and "优先排队" in reply


def test_a_fee_question_is_not_a_complaint(talk):
    reply, state = talk("fee-question", "跨行转账手续费多少")
    assert state["mode"] == "bot" and "排队" not in reply


@pytest.mark.parametrize("text", ["请回电", "能打给我吗", "下午3点以后给我打电话"])
def test_asking_to_be_called_says_how_contact_works(talk, text):
    reply, state = talk(f"callback-{text}", text)
    assert state["mode"] == "queued"
    assert "暂不能预约回电" in reply and "955888" in reply


def test_asking_for_a_real_person_queues(talk):
    reply, state = talk("real-person", "有没有真人啊")
    assert state["mode"] == "queued" and "排队" in reply and "回电" not in reply


@pytest.mark.parametrize(("text", "own", "shows"), [
    ("这期卡费多少", True, "本期账单"),
    ("我下个月要还多少贷款", True, "应还"),
    ("信用卡账单怎么查", False, None),
])
def test_my_data_versus_how_it_works(talk, text, own, shows):
    reply, state = talk(f"mine-{text}", text)
    if own:
        assert state["intent"] != "faq" and shows in reply
    else:
        assert state["intent"] == "faq" and "**** 5678" not in reply


@pytest.mark.parametrize(("text", "shows"), [
    ("电子式国债在哪买", "国债"),
    ("外汇怎么兑换", "结汇"),
    ("房贷能提前还吗", "提前还款"),
])
def test_business_done_elsewhere_is_answered_with_where(talk, text, shows):
    reply, state = talk(f"elsewhere-{text}", text)
    assert shows in reply and state["mode"] == "bot"
    assert "暂时回答不了" not in reply and "这个问题我回答不了" not in reply


def test_a_close_call_is_answered_by_tapping_its_number(talk):
    reply, state = talk("tap", "刚还完款，看下还欠多少")
    assert "您是想" in reply and "还是" in reply
    lines = [line for line in reply.splitlines() if line[:2] in ("1.", "2.")]
    assert len(lines) == 2
    card = "1" if "信用卡账单" in lines[0] else "2"
    reply, _ = talk("tap", card)
    assert "本期账单" in reply


def test_a_close_call_is_answered_in_words_and_by_neither(talk):
    talk("words", "刚还完款，看下还欠多少")
    reply, _ = talk("words", "查询还款计划")
    assert "消费贷" in reply
    talk("neither", "刚还完款，看下还欠多少")
    reply, _ = talk("neither", "都不是")
    assert "请问需要办理什么业务" in reply


def test_a_close_call_then_something_else_is_a_new_message(talk):
    talk("else", "刚还完款，看下还欠多少")
    reply, state = talk("else", "你好")
    assert state["intent"] == "greet" and "您好" in reply
