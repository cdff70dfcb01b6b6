"""The request behind greetings and fillers, and a second request in the same message."""
from datetime import date
from decimal import Decimal

import pytest

from chatbot.nlu.clauses import find_request
from chatbot.nlu.normalize import normalize

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(("message", "wanted", "later"), [
    ("你好，我想问一下我朋友在昆明，我要怎么汇钱给她", "我朋友在昆明,我要怎么汇钱给她", None),
    ("您好，我想咨询一下三年期大额存单的利率", "三年期大额存单的利率", None),
    ("哈喽 帮我还下信用卡 顺便看下余额", "帮我还下信用卡", "看下余额"),
    ("我要挂失，另外帮我查下余额", "我要挂失", "帮我查下余额"),
    ("客服，我要投诉", "我要投诉", None),
    ("额，额度多少", "额度多少", None),
    ("嗯嗯，查余额", "查余额", None),
])
def test_fillers_in_front_are_not_the_request(message, wanted, later):
    found = find_request(normalize(message).text)
    assert (found.first or found.text, found.later) == (wanted, later)


@pytest.mark.parametrize("message", [
    "你好", "你好啊客服", "在吗？", "请问",  # nothing but the greeting: it is the message
    "客服电话多少", "额度多少",  # 客服 and 额 start a request here
    "我卡里还有多少钱", "查一下另外一张卡",  # 还有 and 另外 inside one request
])
def test_a_message_that_is_its_own_request_is_kept_whole(message):
    normalized = normalize(message).text
    found = find_request(normalized)
    assert (found.text, found.first, found.later) == (normalized, None, None)


@pytest.mark.parametrize(("message", "intent"), [
    ("你好，我想问一下我朋友在昆明，我要怎么汇钱给她", "transfer.create"),
    ("您好，在吗？帮我查下余额", "account.balance"),
    ("打扰一下，信用卡账单出来了吗", "card.bill"),
    ("你好", "greet"),
    ("您好，有空吗", "greet"),  # 有空吗 alone is nothing the bot serves: still a greeting
    ("谢谢，再见", "goodbye"),
])
def test_the_request_wins_over_the_greeting(parser, message, intent):
    assert parser.parse(message, TODAY).intent.name == intent


def test_a_second_request_is_read_apart(parser):
    parse = parser.parse("帮我还一下信用卡，顺便查下余额", TODAY)
    assert parse.intent.name == "card.repay"
    assert parse.later is not None and parse.later.name == "account.balance"


def test_entities_still_come_from_the_whole_message(parser):
    parse = parser.parse("你好，给李娜转500，顺便查下余额", TODAY, known_payees=("李娜",))
    assert parse.intent.name == "transfer.create"
    assert parse.entity_values("amount") == [Decimal("500")]
