"""Offers the bot makes ("需要我现在为您挂失吗？") and the request they carry.

An offer is remembered in the dialogue state (`DialogueState.offer`) for exactly one turn:
the next message either answers it (yes / no, in the many ways people say so, tapping
words included) or is something else, and then the offer is simply dropped.

A request the bot cannot serve at once (an offer, or the binding detour in front of the
customer's own money) is kept as the parse of the message that asked for it, sealed
(it may hold account or ID numbers), so the flow can later start with everything the
customer already said: "给李娜转两千五" still names the payee and the amount after binding.
"""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from chatbot.dialogue.context import FlowContext
from chatbot.nlu.entities.base import Entity, json_value
from chatbot.nlu.intents import IntentScore
from chatbot.nlu.parser import ParseResult
from chatbot.security.sealing import SealBroken, seal, unseal

REQUEST_LABEL = "dialogue/request"
PARTS = re.compile(r"[,，。.!！?？、;；\s~～…]+")
TAPPING = "啊呀吧哈嘛哦噢喔呢啦哇嗷滴嘞咯昂"
LEADING = re.compile(r"^(那就|那|就|嗯+|恩+|哦+|噢+)(?=.)")
YES = re.compile(
    r"^(是|是的|对|对的|没错|好|好的|行|行的|可以|可以的|嗯+|恩+|en|ok|okay|yes|y|要|要的|需要|需要的|当然|有|有的|"
    r"系|系啊|得|唔该|"  # Cantonese (好嘅 and 冇问题 arrive normalized as 好的, 没有问题)
    r"没问题|没有问题|麻烦(你|您)?(了)?|请|请告诉我|告诉我|请说|你说|说|请讲|"
    r"(请|麻烦)?(你|您)?(帮我|给我|为我)?(现在|马上|立即|立刻|赶紧|快)?(就)?(办|办理|弄|处理|操作|挂失|查|查一下|看看|说说)(一下)?|"
    r"帮我|现在|马上|立即|赶紧|快|快点|确定|确认|去吧|来吧|走起)$")
NO = re.compile(
    r"^(不|不用|不用了|不要|不要了|不需要|不需要了|不必|不必了|不了|先不|先不用|先不用了|暂时不用|暂时不用了|暂不|"
    r"算了|没事|没事了|不是|否|no|n|不办|不办了|先不办|没有|没有了|没了|不麻烦了|不挂失|不挂了|不查了|免了)$")
# (Cantonese 唔使/唔要/唔係/唔需要 arrive normalized as 不用/不要/不是/不需要.)
CONFIDENT = 0.6


def reply_to(ctx: FlowContext) -> str | None:
    """"yes", "no", or None when the message is not an answer to a yes/no offer."""
    parts = [_bare(part) for part in PARTS.split(ctx.text.lower())]
    parts = [part for part in parts if part]
    if parts and all(YES.match(part) for part in parts):
        return "yes"
    if parts and all(NO.match(part) for part in parts):
        return "no"
    intent = ctx.parse.intent
    if len(ctx.text) <= 6 and intent.confidence >= CONFIDENT and intent.name in ("affirm", "deny"):
        return "yes" if intent.name == "affirm" else "no"
    return None


def _bare(part: str) -> str:
    part = part.strip(TAPPING)
    return LEADING.sub("", part).strip(TAPPING)


def make(ctx: FlowContext, kind: str, question: str, intent: str | None = None) -> None:
    """Say `question` and remember it (with this message's request) for the next turn."""
    ctx.say(question)
    remember(ctx, kind, question, intent)


def remember(ctx: FlowContext, kind: str, question: str, intent: str | None = None) -> None:
    """Remember an offer already said: `kind` flow (start `intent`), switch (abandon the
    current flow for `intent`) or more ("还有其他需要吗？")."""
    ctx.state.offer = {"kind": kind, "intent": intent, "question": question,
                       "request": seal_request(ctx, ctx.parse) if intent else None}
    ctx.step("offer", kind=kind, intent=intent)


# --- the request a flow starts from -------------------------------------------------------------

def seal_request(ctx: FlowContext, parse: ParseResult) -> str:
    data = {"text": parse.text, "normalized": parse.normalized,
            "intent": [parse.intent.name, parse.intent.confidence],
            "entities": [[e.entity, json_value(e.value), e.start, e.end, e.text] for e in parse.entities],
            "tokens": list(parse.tokens)}
    return seal(ctx.secret_key, REQUEST_LABEL, json.dumps(data, ensure_ascii=False))


def open_request(ctx: FlowContext, sealed: str | None) -> ParseResult | None:
    if not sealed:
        return None
    try:
        data = json.loads(unseal(ctx.secret_key, REQUEST_LABEL, sealed))
        intent = IntentScore(data["intent"][0], float(data["intent"][1]))
        entities = tuple(Entity(name, _value(name, value), start, end, text)
                         for name, value, start, end, text in data["entities"])
        return ParseResult(text=data["text"], normalized=data["normalized"], intent=intent, ranking=(intent,),
                           entities=entities, tokens=tuple(data["tokens"]))
    except (SealBroken, ValueError, KeyError, TypeError, InvalidOperation):
        return None  # a request that cannot be read back is asked for again, never guessed


def _value(name: str, value):
    if name == "amount":
        return Decimal(value)
    if name == "date_range" and isinstance(value, dict):
        return {key: date.fromisoformat(item) for key, item in value.items()}
    return value


def merged(saved: ParseResult, live: ParseResult) -> ParseResult:
    """The earlier request with what this message adds ("好的，挂尾号1234的"); the new wins."""
    if not live.entities and not live.normalized:
        return saved
    kinds = {e.entity for e in live.entities}
    entities = live.entities + tuple(e for e in saved.entities if e.entity not in kinds)
    return ParseResult(text=f"{saved.text}；{live.text}", normalized=f"{saved.normalized}；{live.normalized}",
                       intent=saved.intent, ranking=saved.ranking, entities=entities,
                       tokens=saved.tokens + live.tokens)
