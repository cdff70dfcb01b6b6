"""Ask which of two businesses the customer means, when the model cannot tell.

Wrong and sure is the worst outcome: "刚还完款，看下还欠多少" may be the card's bill or the
loan's plan. When the model's two best readings are both businesses and the first is not
clearly ahead, the bot asks one short question naming both ("您是想查询信用卡账单，还是查询
还款计划？"), numbered so that the page can offer them as buttons, and answerable by number,
by tapping, or in words; the chosen business then starts from the original message (its
amount, card or dates are kept).

A terse message ("分期", "额度") carries less evidence, so it is asked about at a higher
confidence than a sentence: one or two words are where the model guesses most.

Thresholds chosen on data/intents_test.tsv and data/intents_real.tsv: on the real customers'
set `chatbot evaluate` reports how often it asks and how often the right business is among
the two.
"""
from __future__ import annotations

import re
from dataclasses import replace

from chatbot.dialogue import own_money, replies
from chatbot.dialogue.context import FlowContext
from chatbot.nlu.intents import IntentScore
from chatbot.nlu.parser import ParseResult
from knowledge.faq.clarify import choice_number

# Ask when the first reading is below ..._TOP and the second at least ..._SECOND.
CLOSE_TOP, CLOSE_SECOND = 0.6, 0.2
TERSE_TOP, TERSE_SECOND = 0.7, 0.25
# The two must hold most of the model's belief: "卡" spread over loss, application and
# activation is no question between two (the FAQ's clarification lists more).
TWO_COVER = 0.75
TERSE = re.compile(r"^[\u4e00-\u9fff]{1,4}[?？。!！]*$")
NEITHER = re.compile(r"^(都不是|都不对|都不|不是|哪个都不是|两个都不是|都没有|其他|别的)[。!！]*$")
ANSWERED_BY = 0.5  # a reply the model reads as one of the two businesses with this much


def close_call(parse: ParseResult) -> tuple[str, str] | None:
    """The two businesses to ask between, or None when the model's first reading stands (a
    how-to question is never asked about: the FAQ answers it)."""
    ranking = parse.ranking
    if len(ranking) < 2 or own_money.is_how_to(parse.normalized):
        return None
    first, second = ranking[0], ranking[1]
    if first.name not in replies.BUSINESS_INTENTS or second.name not in replies.BUSINESS_INTENTS:
        return None
    terse = bool(TERSE.match(parse.normalized))
    top, least = (TERSE_TOP, TERSE_SECOND) if terse else (CLOSE_TOP, CLOSE_SECOND)
    if first.confidence >= top or second.confidence < least or first.confidence + second.confidence < TWO_COVER:
        return None
    return first.name, second.name


def question(options: tuple[str, str]) -> str:
    one, two = (replies.intent_title(name) for name in options)
    return f"您是想{one}，还是{two}？\n1. {one}\n2. {two}\n回复序号或直接说即可。"


def picked(ctx: FlowContext, options: list[str]) -> str | None:
    """The business the reply picks: a number, the option's words, or a message the model
    reads as one of them; None when it picks neither."""
    number = choice_number(ctx.text, len(options))
    if number is not None:
        return options[number - 1] if 1 <= number <= len(options) else None
    for name in options:
        title = replies.intent_title(name)
        if ctx.text.strip("。.!！ ") in (title, name):
            return name
    intent = ctx.parse.intent
    if intent.name in options and intent.confidence >= ANSWERED_BY:
        return intent.name
    return None


def by_number(ctx: FlowContext) -> bool:
    """The reply is only a number ("2", "第二个"): nothing in it to carry into the business."""
    return choice_number(ctx.text, 9) is not None


def says_neither(ctx: FlowContext) -> bool:
    return bool(NEITHER.match(ctx.text))


def as_chosen(request: ParseResult, name: str) -> ParseResult:
    """The original message, now read as the chosen business."""
    chosen = IntentScore(name, 1.0)
    return replace(request, intent=chosen, ranking=(chosen, *(s for s in request.ranking if s.name != name)))
