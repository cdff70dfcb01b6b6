"""Around issue 20's new paths: what must not change for ordinary messages, and the edges a
review found (scam reports that ask for a person, cue words inside ordinary questions,
entities around 顺便/还有, an either-or answered with an amount, call-back wording)."""
import pytest


def _queued(c) -> bool:
    return c.last["state"]["mode"] == "queued"


@pytest.mark.parametrize("text", ["有人冒充公安让我转账，帮我转人工客服", "刷单被骗了，我要报案，找人工客服"])
def test_a_scam_reported_with_a_request_for_a_person_reaches_one(chat, text):
    c = chat()
    c.say(text)
    assert _queued(c)


def test_an_explicit_complaint_that_mentions_a_deposit_is_a_complaint(chat):
    c = chat()
    assert "非常抱歉给您带来不便" in c.say("我要投诉，你们乱扣保证金")
    assert _queued(c)


@pytest.mark.parametrize("text", ["我个人行不行办信用卡", "人行征信怎么查", "我想换银行卡", "客服态度很好，谢谢",
                                  "良心银行，点赞", "卡一直没用会扣费吗", "为什么扣了年费？？"])
def test_ordinary_questions_and_praise_are_not_complaints(chat, text):
    c = chat()
    c.say(text)
    assert not _queued(c)


@pytest.mark.parametrize("text", ["帮我订机票", "附近有什么好吃的", "医保卡怎么办"])
def test_out_of_scope_gets_no_unrelated_faq_answer(chat, text):
    c = chat()
    reply = c.say(text)
    assert "诈骗" not in reply and "您是想问" not in reply and "网点" not in reply


@pytest.mark.parametrize(("text", "read_back"), [
    ("能不能顺便给李娜转500", "500.00 元"),
    ("帮我转账，收款人李娜，还有金额500", "500.00 元"),
    ("给李娜转账，还有就是金额是3000", "3,000.00 元"),
])
def test_one_request_around_the_connectives_keeps_its_figures(chat, text, read_back):
    c = chat()
    c.bind()
    reply = c.say(text)
    assert read_back in reply and "请问转多少" not in reply


def test_a_card_after_the_connective_stays_with_the_loss_report(chat):
    c = chat()
    c.bind()
    assert "请确认挂失储蓄卡 **** 1234" in c.say("那顺便帮我挂失尾号1234的卡")


def test_how_much_is_left_after_a_comma_is_one_question(chat):
    c = chat()
    c.bind()
    c.say("我的信用卡，还有多少可以用")
    assert c.last["state"]["active_flow"] != "card.apply"


def test_an_either_or_answered_with_an_amount_keeps_the_amount(chat):
    c = chat()
    c.bind()
    assert "您是想" in c.say("信用卡欠款")  # the bill, or paying it
    reply = c.say("帮我还3000")
    assert "3,000.00 元" in reply and "最低还款" not in reply.split("金额")[-1]


def test_a_second_request_waits_behind_an_offer_and_comes_after_it(chat):
    c = chat()
    c.bind()
    reply = c.say("信用卡怎么还款，顺便查下余额")  # the how-to answer, and the offer to repay now
    assert "您刚才还提到" not in reply
    assert "您刚才还提到查询余额" in c.say("不用了")


@pytest.mark.parametrize("text", ["不要给我打电话，转人工", "人工客服，联系我们的方式是什么"])
def test_not_every_mention_of_a_phone_is_a_call_back(chat, text):
    c = chat()
    reply = c.say(text)
    assert "回电" not in reply


def test_an_english_word_is_not_cut_into_a_greeting(chat):
    c = chat()
    c.bind()
    c.say("给李娜转账")
    c.say("history")
    assert c.last["state"]["active_flow"] == "transfer.create"
