"""Rich replies through `POST /v1/chat` (docs/rich_replies.md): what a customer can tap, the
cards and links, 有帮助吗 on knowledge answers; every item keeps its whole plain text, and
a tap sends words the bot understands exactly as typed."""
import re

import pytest
from sqlalchemy import select

from chatbot.messages import Rich
from chatbot.engine import _masked
from chatbot.storage.models import AnswerFeedback, ChannelBinding, Customer


def _bind(database, user_id, name="张伟"):
    with database.write() as db:
        customer = db.scalars(select(Customer).where(Customer.name == name)).one()
        db.add(ChannelBinding(channel="web", user_id=user_id, customer_id=customer.id, bound_at=customer.created_at))


@pytest.fixture
def say(client):
    def send(user_id, text):
        response = client.post("/v1/chat", json={"user_id": user_id, "text": text, "rich": True})
        assert response.status_code == 200, response.text
        return response.json()["replies"]
    return send


def _sends(item, field="buttons"):
    return [choice["send"] for choice in item[field]]


def test_every_item_has_its_plain_text(say):
    for item in say("rich-plain", "你好") + say("rich-plain", "挂失要收费吗"):
        assert item["type"] and item["text"].strip()


def test_a_client_that_does_not_ask_for_rich_replies_gets_the_plain_contract(client, say, database):
    """DESIGN.md's chat contract, unchanged for plain-text clients: {"type": "text", "text"} only."""
    _bind(database, "rich-contract")
    rich = say("rich-contract", "给李娜转500")
    say("rich-contract", "取消")
    plain = client.post("/v1/chat", json={"user_id": "rich-contract", "text": "给李娜转500"}).json()["replies"]
    assert all(item == {"type": "text", "text": item["text"]} for item in plain)
    assert [item["text"] for item in plain] == [item["text"] for item in rich]
    say("rich-contract", "取消")
    # A retried message id answers as the first time did, rich or plain as asked.
    body = {"user_id": "rich-contract", "text": "你好", "message_id": "rich-retry-1", "rich": True}
    first = client.post("/v1/chat", json=body).json()
    assert first == client.post("/v1/chat", json=body).json() and first["replies"][0]["type"] == "quick_replies"
    again_plain = client.post("/v1/chat", json={**body, "rich": False}).json()
    assert again_plain["replies"] == [{"type": "text", "text": first["replies"][0]["text"]}]


def test_a_greeting_offers_the_main_businesses_and_asked_questions_as_chips(say):
    [welcome] = say("rich-hello", "你好")
    assert welcome["type"] == "quick_replies" and welcome["text"].startswith("您好")
    sends = _sends(welcome, "options")
    assert {"查余额", "转账", "挂失", "转人工"} <= set(sends) and len(sends) <= 8
    question = next(send for send in sends if send.endswith("？"))  # an FAQ question, as a chip
    [answer] = say("rich-hello", question)
    assert answer["text"] and "feedback" in answer


def test_a_transfer_read_back_has_confirm_change_cancel_and_the_taps_work(say, database):
    _bind(database, "rich-transfer")
    [read_back] = say("rich-transfer", "给李娜转500")
    assert read_back["type"] == "buttons" and _sends(read_back) == ["确认", "修改", "取消"]
    assert "500.00 元" in read_back["text"] and "确认" in read_back["text"]
    [which] = say("rich-transfer", "修改")  # the tap: asks what to change, nothing confirmed
    assert "修改" in which["text"] and which["type"] == "text"
    [again] = say("rich-transfer", "改成600")
    assert again["type"] == "buttons" and "600.00 元" in again["text"]
    [cancelled] = say("rich-transfer", "取消")
    assert cancelled["type"] != "buttons" and "不办理" in cancelled["text"]


def test_a_yes_no_offer_and_a_choice_between_two_businesses_get_buttons(say, database):
    offer = say("rich-offer", "银行卡丢了怎么挂失")[-1]
    assert offer["type"] == "buttons" and _sends(offer) == ["好的", "不用了"]
    assert "姓名" in say("rich-offer", "好的")[-1]["text"]  # the tap starts the loss report (binding first)
    _bind(database, "rich-choice")
    [choice] = say("rich-choice", "理财")
    assert choice["type"] == "buttons" and len(choice["buttons"]) == 2
    first = choice["buttons"][0]["send"]
    picked = say("rich-choice", first)  # tapping the option's words starts that business
    assert not any(item["type"] == "buttons" and item["buttons"] == choice["buttons"] for item in picked)


def test_an_faq_clarification_offers_its_questions_and_a_tap_answers(say):
    replies = say("rich-clarify", "卡")
    clarify = [item for item in replies if item["type"] == "buttons"]
    assert clarify and clarify[0]["text"].startswith("您是想问"), replies  # 卡 alone is too vague to answer
    [answer] = say("rich-clarify", clarify[0]["buttons"][0]["send"])
    assert "feedback" in answer


def test_knowledge_answers_carry_related_questions_and_feedback_is_kept(client, say, database):
    [answer] = say("rich-feedback", "挂失要收费吗")
    assert answer["type"] == "text" and len(answer["related"]) <= 3
    assert all(choice["send"] != answer["text"] for choice in answer["related"])
    key = answer["feedback"]
    body = {"user_id": "rich-feedback", "feedback": key, "helpful": False}
    assert client.post("/v1/chat/feedback", json=body).status_code == 200
    assert client.post("/v1/chat/feedback", json={**body, "helpful": True}).status_code == 200
    with database.read() as db:
        [row] = db.scalars(select(AnswerFeedback)).all()
        assert row.helpful is True and row.faq_id


def test_feedback_refuses_strangers_and_nonsense(client, say):
    [answer] = say("rich-owner", "挂失要收费吗")
    say("rich-other", "你好")
    key = answer["feedback"]
    # Another customer, with their own valid token, cannot rate someone else's answer.
    other = client.post("/v1/chat/feedback", json={"user_id": "rich-other", "feedback": key, "helpful": False})
    assert other.status_code == 404 and other.json()["error"]
    # Nor by naming the owner with their own token.
    token = client.user_tokens["rich-other"]
    forged = client.post("/v1/chat/feedback", json={"user_id": "rich-owner", "feedback": key, "helpful": False},
                         headers={"Authorization": f"Bearer {token}"})
    assert forged.status_code == 401
    anonymous = client.post("/v1/chat/feedback", json={"user_id": "rich-owner", "feedback": key, "helpful": True},
                            headers={"Authorization": ""})
    assert anonymous.status_code == 401
    for bad in ('""', '"Z1"', f'"{"a" * 65}"', '"ab\\u0000cd"', '"\\ud800"', "12345678901234567890123"):
        body = f'{{"user_id": "rich-owner", "feedback": {bad}, "helpful": true}}'
        response = client.post("/v1/chat/feedback", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code in (400, 422) and response.json()["error"], bad


def test_download_links_are_labelled_and_balances_a_card(say, database):
    _bind(database, "rich-links")
    [card] = say("rich-links", "储蓄卡余额")
    assert card["type"] == "card" and card["rows"][0]["value"].endswith("元")
    say("rich-links", "最近的交易明细")
    [links] = say("rich-links", "导出")
    assert links["type"] == "link" and [link["label"] for link in links["links"]] == ["Excel", "CSV"]
    assert "http" not in links["caption"] and all(link["url"] in links["text"] for link in links["links"])


def test_masking_reaches_the_drawing_too():
    reply = _masked(Rich("账号 6222020200112233445", "card", title="卡 6222020200112233445",
                         rows=[{"label": "手机", "value": "13800138000"}]))
    assert isinstance(reply, Rich) and "6222020200112233445" not in str(reply)
    assert "6222020200112233445" not in reply.data["title"] and "13800138000" not in reply.data["rows"][0]["value"]


def test_wechat_draws_links_as_anchors_and_everything_else_as_its_text():
    from chatbot.channels.wechat.replies import render
    from chatbot.dialogue import rich
    from chatbot.messages import Reply, ReplyItem

    links = rich.links("明细下载链接：", [("Excel", "https://bank.example/x?a=1&b=2"), ("CSV", "https://bank.example/y")])
    buttons = Rich("请核对转账信息……确认转账请回复“确认”。", "buttons", buttons=[{"label": "确认", "send": "确认"}])
    text = render(Reply(1, (ReplyItem.of(buttons), ReplyItem.of(links), ReplyItem("好的"))))
    assert text.splitlines() == ["请核对转账信息……确认转账请回复“确认”。", "明细下载链接：",
                                 '<a href="https://bank.example/x?a=1&b=2">Excel</a>',  # CDATA: no entities
                                 '<a href="https://bank.example/y">CSV</a>', "好的"]


def test_a_product_comparison_is_a_table(say):
    [compared] = say("rich-table", "金卡和白金卡有什么区别")
    assert compared["type"] == "table" and compared["columns"] == ["项目", "金卡", "白金卡"]
    assert all(len(row) == 3 for row in compared["rows"]) and "年费" in compared["text"]


def test_a_card_bill_and_a_transfer_receipt_are_cards(client, say, database):
    _bind(database, "rich-cards")
    [bill] = say("rich-cards", "信用卡账单")
    assert bill["type"] == "card" and bill["title"].endswith("本期账单")
    assert [row["label"] for row in bill["rows"]][:1] == ["本期应还"] and _sends(bill)[-1] == "导出"
    say("rich-cards", "给李娜转100")
    say("rich-cards", "确认")
    sms = client.get("/v1/sandbox/sms", params={"phone": "13800138000"}).json()["messages"][0]["text"]
    receipt = say("rich-cards", re.search(r"\d{6}", sms).group(0))[-1]
    assert receipt["type"] == "card" and receipt["title"] == "转账成功"
    assert {"收款人", "金额", "流水号"} <= {row["label"] for row in receipt["rows"]}


def test_answers_marked_unhelpful_are_exported_for_analysts(client, say, database):
    from training.logs.select import select_turns

    [liked] = say("rich-analyst", "挂失要收费吗")
    [disliked] = say("rich-analyst", "转账限额多少")
    for answer, helpful in ((liked, True), (disliked, False)):
        body = {"user_id": "rich-analyst", "feedback": answer["feedback"], "helpful": helpful}
        assert client.post("/v1/chat/feedback", json=body).status_code == 200
    with database.read() as db:
        turns = select_turns(db, kinds=["unhelpful"])
    assert [(t.text, t.kind) for t in turns] == [("转账限额多少", "unhelpful")]


def test_masking_counts_digits_as_the_folded_text_has_them():
    """⑬ folds into 13: the number it starts is a phone and is masked (the short-text shortcut
    counts digits after folding)."""
    from chatbot.security.masking import mask_text

    assert mask_text("手机⑬800138000") == "手机138****8000"
    assert mask_text("转账100元") == "转账100元"
