"""The patterns behind "my money" versus "how to", a lost card, and stickers (fast, no chat)."""
import pytest

from chatbot.dialogue.own_money import is_how_to, lost_card
from chatbot.dialogue.stickers import is_sticker
from chatbot.nlu.normalize import normalize


@pytest.mark.parametrize("text", ["余额多少", "我卡里还有多少钱", "那我现在余额多少", "我的额度还有多少", "余额?",
                                  "我能查余额吗", "能帮我查下余额吗", "我的余额怎么这么少"])
def test_own_money_is_not_a_how_to_question(text):
    assert not is_how_to(text)


@pytest.mark.parametrize("text", ["怎么查余额", "余额在哪里看", "挂失要收费吗", "可以查余额吗", "转账限额是多少",
                                  "挂失要多少钱", "卡被吞了咋办"])
def test_how_to_questions(text):
    assert is_how_to(text)


@pytest.mark.parametrize("text", ["我卡丢了怎么办啊", "卡掉了", "卡被偷了", "卡找不到了", "我的卡不见了", "我的卡遗失了",
                                  "钱包被偷了银行卡也在里面咋办", "张卡跌咗点算", "丢了一张卡"])
def test_lost_card(text):
    assert lost_card(normalize(text).text)  # the policy reads normalized text (跌咗 is 跌了 there)


@pytest.mark.parametrize("text", ["挂失要收费吗", "卡丢了补办要多少钱", "卡找到了怎么解挂", "卡被盗刷了怎么办",
                                  "卡被吞了咋办", "丢了的卡找回来了"])
def test_not_a_lost_card_report(text):
    assert not lost_card(text)


@pytest.mark.parametrize("text", ["😊", "👍", "🙏", "👍🏻", "❤️", "🆗", "[微笑]", "[OK]", "[强]", "。。。", "？？", "…", "~~"])
def test_stickers(text):
    assert is_sticker(text)


@pytest.mark.parametrize("text", ["ok", "好的👍", "1", "+1", "[1]", "确认", "123456"])
def test_words_are_not_stickers(text):
    assert not is_sticker(text)
