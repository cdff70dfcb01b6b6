"""Reading what a message is about: the customer's own money, a how-to question, a lost card.

"余额多少" and "我卡里还有多少钱" ask for the customer's balance, "怎么查余额" and
"余额在哪里看" ask how it is done; "我卡丢了怎么办" is not a knowledge question but an
emergency (the card should be frozen now), while "挂失要收费吗" asks about the rules.
All patterns work on the normalized text (Simplified, NFKC, lower case).
"""
from __future__ import annotations

import re

# Words that make a question about how something is done, what it costs or what the rules are.
HOW_WORDS = re.compile(
    r"怎么|怎样|如何|咋|哪里|哪儿|在哪|哪些|哪个|什么|为什么|为啥|能不能|可不可以|能否|是否|多久|几天|"
    r"流程|步骤|手续|材料|条件|规定|要求|收费|收不收|费用|手续费|年费|工本费|利率|限额|要钱|免费|"
    r"要多少钱|需要多少钱|收多少|扣多少|交多少|方法|方式|渠道")
# "能查余额吗" without anything personal asks whether it can be done at all.
CAN_QUESTION = re.compile(r"(能|可以|可否|支持|允许).{0,8}(吗|么|嘛|\?)\??$")
# Markers of the customer's own accounts or of a request for action ("帮我", "一下").
OWN = re.compile(r"我|咱|俺|帮|卡里|卡上|账上|账户里|现在|目前|当前|还有|还剩|剩下|剩多少|一下|查查|看看")
# "我的余额怎么这么少" asks why, about their own money, not how.
WHY_MINE = re.compile(r"怎么(这么|那么|变|少了|多了|不对|没了|还没|还是|才)")

# Losing a card (or the wallet with it): 丢了/掉了/被偷/找不到/不见了/遗失 (遺失 is normalized).
LOST = re.compile(
    r"(卡|钱包|皮夹|卡包).{0,8}?(丢|掉了|弄掉|被偷|被盗(?!刷)|被扒|偷了|找不到|不见|遗失|遗落|没了"
    r"|唔见|跌了|找唔到)"  # Cantonese 唔见咗, 跌咗, 搵唔到 (咗 and 搵 are normalized to 了, 找)
    r"|(丢|掉|遗失|弄丢|偷)了.{0,6}卡")
FOUND = re.compile(r"找到了|找回|捡到")
# A question about the rules of a loss report, not a report: answered from the FAQ.
LOSS_RULES = re.compile(r"收费|收不收|费用|手续费|工本费|要钱|免费|多少钱|补办|补卡|换卡|新卡|区别|代办|有效期|多久")
QUESTION = re.compile(r"怎么|怎样|如何|咋|吗|么|嘛|呢|\?|什么|点算|点办|点搞")


def is_how_to(text: str) -> bool:
    """A question about how, where, what it costs (answered from the FAQ), not a request."""
    if WHY_MINE.search(text) and OWN.search(text):
        return False
    if HOW_WORDS.search(text):
        return True
    return bool(CAN_QUESTION.search(text)) and not OWN.search(text)


def lost_card(text: str) -> bool:
    """The customer says a card (or the wallet with it) is lost or stolen."""
    return bool(LOST.search(text)) and not FOUND.search(text) and not LOSS_RULES.search(text)


def asks_what_to_do(text: str) -> bool:
    """"我卡丢了怎么办" asks; "我的卡丢了，帮我挂失" already says what to do."""
    return bool(QUESTION.search(text))
