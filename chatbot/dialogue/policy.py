"""Policy interface and the base policy: small talk and an honest fallback.

A policy receives what NLU understood plus the session's state and returns replies, the
new state and an outcome label for the turn log. It never touches HTTP or storage.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from chatbot.dialogue.state import DialogueState
from chatbot.nlu.parser import ParseResult


@dataclass(frozen=True)
class TurnContext:
    """Everything a policy may look at for one turn; `db` is the turn's open transaction."""

    parse: ParseResult
    state: DialogueState
    customer_id: int | None
    now: datetime
    db: Session | None = None
    channel: str = "web"
    user_id: str = ""
    session_id: int | None = None


@dataclass(frozen=True)
class HandoffRequest:
    """The policy asks for a person; higher priority is served first (complaints: 10)."""

    reason: str  # human_request | complaint | not_understood | flow_failed
    priority: int = 0


@dataclass
class PolicyResult:
    replies: list[str]
    state: DialogueState
    outcome: str
    steps: list[dict] = field(default_factory=list)
    handoff: HandoffRequest | None = None


class Policy(Protocol):
    def respond(self, ctx: TurnContext) -> PolicyResult: ...


CAPABILITIES = "我可以帮您查余额和明细、转账、挂失、办信用卡、贷款和理财。"
HUMAN_HELP = "如需人工服务，请拨打客服热线 955888。"
SMALL_TALK = {
    "greet": "您好！我是示例银行智能客服。" + CAPABILITIES,
    "thanks": "不客气，很高兴为您服务。还有其他需要吗？",
    "goodbye": "感谢您的咨询，再见！",
}
NOT_UNDERSTOOD = "抱歉，我没太明白您的意思，您可以换个说法试试。" + HUMAN_HELP
NOT_UNDERSTOOD_AGAIN = "抱歉，我还是没能理解。" + CAPABILITIES + HUMAN_HELP


class SmallTalkPolicy:
    """Answers greetings, thanks and goodbyes; anything else gets an honest fallback."""

    def __init__(self, confidence_threshold: float = 0.5) -> None:
        self.threshold = confidence_threshold

    def respond(self, ctx: TurnContext) -> PolicyResult:
        intent = ctx.parse.intent
        state = ctx.state
        state.last_intent = intent.name
        if intent.confidence >= self.threshold and intent.name in SMALL_TALK:
            state.not_understood = 0
            step = {"action": "utter_small_talk", "intent": intent.name}
            return PolicyResult([SMALL_TALK[intent.name]], state, "answered", [step])
        state.not_understood += 1
        text = NOT_UNDERSTOOD if state.not_understood < 2 else NOT_UNDERSTOOD_AGAIN
        step = {"action": "fallback", "intent": intent.name, "confidence": intent.confidence,
                "not_understood": state.not_understood}
        return PolicyResult([text], state, "not_understood", [step])
