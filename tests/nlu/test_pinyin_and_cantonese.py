"""Messages typed in pinyin without an input method, and Cantonese function words."""
from datetime import date

import pytest

from chatbot.nlu.normalize import normalize

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(("typed", "read"), [
    ("cha xinyongka zhangdan", "查信用卡账单"),
    ("wo xiang zhuanzhang", "我想转账"),
    ("wo de xinyongka huankuan", "我的信用卡还款"),  # 还 read huan, not pypinyin's phrase reading hai
    ("zhang dan", "账单"),  # a word typed across a space
    ("rengong kefu", "人工客服"),
    ("mima wangle", "密码忘了"),
    ("zhuan gei mama", "转给妈妈"),  # not the particle twice (吗吗)
    ("Qing wen daikuan lilv duoshao", "请问贷款利率多少"),
])
def test_pinyin_becomes_the_words(typed, read):
    assert normalize(typed).text == read


@pytest.mark.parametrize("typed", [
    "pls call me later",  # English stays English for the model
    "ok", "en", "yue",  # too short to tell from an abbreviation or an interjection
    "hi 你好",
    "gei wangfang zhuan 500",  # a name is not in the vocabulary: nothing is guessed
    "转账 5000 yuan",
])
def test_only_a_message_wholly_in_known_pinyin_is_rewritten(typed):
    assert normalize(typed).text == " ".join(typed.lower().split())


def test_pinyin_keeps_the_span_of_what_was_typed():
    result = normalize("wo xiang zhuanzhang")
    assert result.original_text(2, 4) == "zhuanzhang"


@pytest.mark.parametrize(("typed", "read"), [
    ("唔係", "不是"),
    ("唔使", "不用"),
    ("唔好意思，我想查餘額", "不好意思,我想查余额"),  # polite, not "不要意思"
    ("係唔係要手續費", "是不是要手续费"),
    ("我嘅按揭批咗未", "我的按揭批了没"),
    ("冇錯呀", "没错呀"),  # not 没有错
    ("我哋聽日再傾", "我哋明天再聊"),
    ("俾我睇下帳單", "给我看下账单"),
])
def test_cantonese_function_words(typed, read):
    assert normalize(typed).text == read


@pytest.mark.parametrize("text", ["这一点解释一下", "然而家里人不同意", "这边度假区有网点吗"])
def test_mandarin_words_that_hold_cantonese_ones_are_left_alone(text):
    assert normalize(text).text == text


@pytest.mark.parametrize(("message", "intent"), [
    ("cha xinyongka zhangdan", "card.bill"),
    ("wo xiang zhuanzhang", "transfer.create"),
    ("唔係", "deny"),
    ("冇錯呀", "affirm"),
    ("我哋聽日再傾啦", "goodbye"),
])
def test_the_model_reads_them(parser, message, intent):
    assert parser.parse(message, TODAY).intent.name == intent
