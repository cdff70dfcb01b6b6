"""Messages that should reach a person although the model is not sure of it.

A bank serves a complaint first by a person, and real complaints rarely say 投诉: "什么破服务",
"你们是抢钱吗", "再这样我就销户", "我要找银保监会". The intent model hears some of them as a fee
question or small talk; these cues, together with the model still ranking `complaint`
somewhere near the top, make them complaints. A regulator or a threat to leave is one
whatever the model thinks.

Asking to be called back ("请回电", "下午3点后打给我") is a request for a person the bank
cannot serve by phone from the chat: the queue says so (chatbot/handoff/texts.py).
"""
from __future__ import annotations

import re

from chatbot.nlu.parser import ParseResult

# Anger, sarcasm and accusations; each alone is enough only when the model also hears a complaint.
# Whole phrases, not bare words that ordinary questions hold (态度 in 风险态度, 没用 in 卡一直没用).
ANGER = re.compile(
    r"破服务|什么破|垃圾(银行|服务|客服|机器人|系统|app)|什么垃圾|态度(太|很|真|极其|非常)?(差|恶劣|不好)|"
    r"耍人|耍我|坑人|坑钱|坑我|抢钱|骗子|骗人|黑心|没良心|良心(不痛|何在|被狗)|气死|火大|无语|(?<!客)服了|"
    r"搞什么|凭什么|乱扣|乱收|一点用(都|也)没有|有什么用|有啥用|太慢了|等了.{0,6}(还|都)没|有病|离谱|太过分|"
    r"恶心|受不了|差劲|太差|我真的会谢")
# A regulator, the press, a lawyer, or leaving the bank: a complaint in any case.
ESCALATION = re.compile(
    r"银保监|金管会|金融监管|12378|消协|消费者协会|曝光你们|找媒体|律师函|请律师|起诉|告你们|"
    r"(再这样|再不|否则).{0,8}(销户|投诉|换(一)?家|去别)|去别家|去别的银行|换(一)?家银行|换银行(?!卡)")
COMPLAINT_HEARD = 0.15  # the model's share for `complaint` that, with anger, makes one

# Asking to be phoned, not "联系我们的方式" nor "不要给我打电话".
CALL_BACK = re.compile(r"回电|回个电话|回我电话|打给我|打我电话|给我打(个)?电话|给我来电|来个电话|电话联系我|联系我(?!们)|"
                       r"call\s*me|call\s*back|callback|ring\s*me")
NO_CALL = re.compile(r"(不要|别|不用|不必|勿)(再)?(给我)?(打|回|来)?(个)?电话|(不要|别)(再)?联系我")


def sounds_like_complaint(parse: ParseResult) -> bool:
    """A complaint without the word 投诉 (see the module docstring)."""
    text = parse.normalized
    if ESCALATION.search(text):
        return True
    heard = next((score.confidence for score in parse.ranking[:3] if score.name == "complaint"), 0.0)
    return heard >= COMPLAINT_HEARD and bool(ANGER.search(text))


def asks_call_back(text: str) -> bool:
    return bool(CALL_BACK.search(text)) and not NO_CALL.search(text)
