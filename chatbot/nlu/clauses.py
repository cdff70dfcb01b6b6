"""Find the request in a message: greetings and polite fillers in front of it are not it.

"你好，我想问一下我朋友在昆明，我要怎么汇钱给她" is a transfer question, not a greeting; the
intent model, trained on whole messages, lets the greeting win. So the classifier reads the
message without its leading fillers (你好, 请问, 打扰一下, 我想咨询一下, 客服, 嗯 …) when something
substantial is left; a message that is only a greeting keeps its words.

A second request joined by 顺便 / 另外 / 还有 ("帮我还一下信用卡，顺便查下余额") is cut off and
returned apart: the first is served, the second offered after it. These are only candidates:
the parser keeps the stripped reading when it is at least as sure, and splits a message only
when both parts read as different businesses (`Parser.parse`, `Parser._split`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_SEPARATORS = r"[,.。!！?？~～;；、\s]"
# Whole leading words that carry no request. Addressing the bot (客服, 亲, 小助手), 谢谢 and the
# hesitation 额 only count with a separator after them: "客服电话多少", "额度多少" are requests.
_FILLER = re.compile(
    rf"^(?:(?:你好|您好|你们好|哈喽|哈啰|嗨|喂|(?:hi|hello|hey)(?![a-z])|早上好|上午好|中午好|下午好|晚上好|早安|"
    rf"在吗|在不在|在么|请问(?:一下|下(?={_SEPARATORS}))?|麻烦(?:你|您)?(?:一下)?|打扰(?:一下|了|您了)?|不好意思|"
    rf"嗯+|恩+|哦+|噢+|呃+|那个|(?:我)?想(?:问|咨询|了解|请教)(?:一下|下(?={_SEPARATORS}))?|"
    rf"(?:问|咨询|请教)(?:一下|下(?={_SEPARATORS}))|"
    rf"(?:(?:客服|亲|小助手|机器人|谢谢|多谢|额+)(?={_SEPARATORS})))"
    rf"(?:{_SEPARATORS}|[啊呀哈呢吗啦])*)+")
# 顺便 always starts another request; the others only after a clause break ("卡里还有多少钱",
# "查另外一张卡" are one request), and 还有 not when it asks how much is left ("我的信用卡，还有
# 多少可以用"). Spaces between Chinese characters are gone by now.
_LATER = re.compile(rf"{_SEPARATORS}*顺便|{_SEPARATORS}+(?:另外|还有就是|还有(?!多少|几|没|钱|余|剩|吗|什么)|然后再|然后帮我)")
# What is left must say something: not only particles, punctuation or a name for the bot.
_EMPTY = re.compile(rf"^(?:{_SEPARATORS}|[啊呀哈呢吗啦嘛哦]|客服|小助手|机器人|亲)*$")


@dataclass(frozen=True)
class Request:
    text: str  # the message without its leading fillers
    first: str | None = None  # with a second request: the first one alone
    later: str | None = None  # the second request, to offer once the first is served
    later_start: int | None = None  # where the second request starts in the whole text


def find_request(text: str) -> Request:
    """The request in normalized text (see the module docstring)."""
    match = _FILLER.match(text)
    skipped = match.end() if match else 0
    main = text[skipped:]
    if _EMPTY.match(main):
        return Request(text)
    cut = _LATER.search(main)
    if cut and cut.start() > 0:
        first, second = main[:cut.start()], main[cut.end():]
        if not _EMPTY.match(first) and len(second.strip()) >= 2:
            return Request(main, first, second.strip(), skipped + cut.end())
    return Request(main)
