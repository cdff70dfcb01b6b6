"""What the customer can tap under the bot's question, decided from the state after the turn.

Every button sends words the policy already understands as typed (docs/rich_replies.md), so
a tap and a typed answer are the same message on every channel; plain channels show the
question's own text, which already says what to answer. Only a question this turn asked
gets buttons: a read-back waiting for “确认”, a yes/no offer, "您是想…，还是…？", an FAQ
clarification. A greeting gets the welcome chips.
"""
from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Sequence

from chatbot.dialogue import replies
from chatbot.dialogue.context import FlowContext
from chatbot.messages import Rich, choice

CONFIRM = (choice("确认"), choice("修改"), choice("取消"))
YES_NO = (choice("好的"), choice("不用了"))
ONE_QUESTION = (choice("是"), choice("不是"))
# What a greeting offers besides the most asked questions: the main businesses, by name.
BUSINESSES = (choice("查余额"), choice("转账"), choice("挂失"), choice("信用卡账单"), choice("转人工"))
WELCOMED = frozenset({replies.SMALL_TALK["greet"], replies.SMALL_TALK["out_of_scope"], replies.STICKER,
                      replies.TELL_ME_WHAT, replies.GO_ON})


def add_actions(ctx: FlowContext, faq_question: Callable[[str], str | None],
                popular: Callable[[], Sequence[str]]) -> None:
    """Make the bot's question of this turn a `buttons` reply, or a greeting a `quick_replies`
    one. `faq_question(id)` is an FAQ entry's question; `popular()` the most asked ones."""
    if not ctx.replies:
        return
    where, buttons = _question_asked(ctx, faq_question)
    if buttons:
        if not isinstance(ctx.replies[where], Rich):
            ctx.replies[where] = Rich(ctx.replies[where], "buttons", buttons=list(buttons))
        return
    last = ctx.replies[-1]
    if not isinstance(last, Rich) and last in WELCOMED and not ctx.state.active_flow:
        options = [choice(question) for question in popular()][:3] + list(BUSINESSES)
        ctx.replies[-1] = Rich(last, "quick_replies", options=options)


def _question_asked(ctx: FlowContext, faq_question: Callable[[str], str | None]) -> tuple[int, Sequence[dict]]:
    """Which reply asks for one of a few answers, and the buttons that give them."""
    state, said, last = ctx.state, {step["action"] for step in ctx.steps}, len(ctx.replies) - 1
    offer = state.offer
    if offer and "offer" in said:
        if offer.get("kind") == "choose":
            return last, [choice(replies.intent_title(name)) for name in offer.get("options") or ()]
        if offer.get("kind") in ("flow", "switch"):
            return last, YES_NO
    if state.active_flow and state.step == "confirm" and "确认" in ctx.replies[-1]:
        return last, CONFIRM  # the read-back, or the question that asks for 确认 again
    if state.offered_faq and "faq_clarify" in said:
        questions = [q for q in map(faq_question, state.offered_faq) if q]
        if len(questions) == 1:  # "您是想问“…”吗？"
            where = next((n for n, text in enumerate(ctx.replies) if text.startswith("您是想问“")), None)
            return (where, ONE_QUESTION) if where is not None else (last, ())
        # The clarification, not a flow's question said after it (a question in the middle of a flow).
        where = next((n for n, text in enumerate(ctx.replies) if questions and questions[0] in text), None)
        if where is not None:
            return where, [choice(q) for q in questions]
    return last, ()


def mark_answers(ctx: FlowContext, faq_answer: Callable[[str], str | None],
                 related: Callable[[str], Sequence[str]]) -> None:
    """Under each FAQ answer of this turn: the "有帮助吗" key (kept in the turn's steps, which
    `POST /v1/chat/feedback` looks up) and the entry's close neighbours as "相关问题"."""
    for step in [s for s in ctx.steps if s["action"] == "faq_answer"]:
        answer = faq_answer(step["faq_id"])
        where = next((n for n, text in enumerate(ctx.replies) if text == answer and not isinstance(text, Rich)), None)
        if where is None:
            continue
        # Letters only: a key of digits could read as a card number to the masking it passes.
        key = "".join(string.ascii_lowercase[byte % 26] for byte in secrets.token_bytes(16))
        ctx.step("feedback_offered", faq_id=step["faq_id"], key=key)
        neighbours = [choice(question) for question in related(step["faq_id"])]
        ctx.replies[where] = Rich(answer, "text", feedback=key, **({"related": neighbours} if neighbours else {}))
