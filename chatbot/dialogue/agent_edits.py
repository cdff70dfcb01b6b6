"""An agent's edits of a stalled flow's slots, held to the same rules as the customer's answers.

    editor.edit(db, session, {"amount": "2.00"}, now, resolve_failed_step) -> new state (JSON)
    editor.resume(db, session, now) -> what the customer reads on release (or None)

Only the active flow's declared slots can be edited (anything else is InvalidInput naming
the allowed ones). Each value is read as if the customer had typed it when asked for that
slot: the flow's own extractor and validator decide, so a value the flow would refuse
(an unknown payee, "NaN", "-100", an account that does not match the payee's name) is
refused and nothing changes. A change to a slot drops the slots that depend on it.

An accepted edit undoes any confirmation and code: outstanding codes of the flow are
retired and the flow goes back to collecting. On release the customer reads the flow's
next question or its full read-back (payee, masked account, card, amount in capitals) and
must confirm again before a new code is sent; a flow without a read-back waits for the
customer to say "继续". The editor never sends a code or runs the business itself.
"""
from __future__ import annotations

import copy
import logging
import math
from datetime import datetime

from sqlalchemy.orm import Session

import chatbot.dialogue.flows  # noqa: F401 (registers the flows)
from chatbot.clock import BANK_TZ
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.forms import Flow, get_flow
from chatbot.dialogue.state import DialogueState
from chatbot.errors import Conflict, InvalidInput
from chatbot.nlu.intents import IntentScore
from chatbot.nlu.parser import Parser, ParseResult
from chatbot.security.masking import mask_text
from chatbot.security.otp import OtpService
from chatbot.security.rate_limit import SqlRateLimiter
from chatbot.storage import conversations
from chatbot.storage.models import ChatSession
from chatbot.tools.sql_bank import SqlBank

log = logging.getLogger(__name__)

EDITED = "_agent_edit"  # marks a state whose read-back the customer has not seen yet
MAX_VALUE_LENGTH = 200


class _NoSms:
    """An agent's edit never sends a code; only the customer's confirmation does."""

    def send(self, phone: str, text: str, now: datetime) -> None:
        raise RuntimeError("agent edits do not send codes")


class SlotEditor:
    def __init__(self, parser: Parser, secret_key: str) -> None:
        self.parser = parser
        self.secret_key = secret_key

    def edit(self, db: Session, session: ChatSession, values: dict, now: datetime,
             resolve_failed_step: bool = True) -> dict:
        """Validate and apply the values; the new state (also set on `session`)."""
        state = DialogueState.from_json(session.state)
        if not state.active_flow:
            raise Conflict("该会话当前没有进行中的业务流程", "no_active_flow")
        try:
            flow = get_flow(state.active_flow)
        except LookupError:
            raise Conflict("该会话的业务流程已不存在", "flow_state_invalid") from None
        allowed = [slot.name for slot in flow.slots]
        unknown = sorted(name for name in values if name not in allowed)
        if unknown:
            raise InvalidInput(f"{flow.title}没有槽位 {'、'.join(unknown)}；可修改的槽位：{'、'.join(allowed)}",
                               "unknown_slot")
        texts = {name: _as_text(name, value) for name, value in values.items()}
        ctx = self._context(db, session, state, now)
        if flow.requires_binding and ctx.customer_id is None:
            raise Conflict("客户尚未绑定银行账户，不能修改该业务的信息", "not_bound")
        try:
            old_subject = _subject(flow, ctx)
            edited = self._apply(flow, ctx, texts)
        except InvalidInput:
            raise
        except Exception:  # a state this code cannot read: refuse, never fail the request
            log.exception("agent edit of %s could not be applied", flow.name)
            raise Conflict("流程状态无法修改，请让客户重新办理", "flow_state_invalid") from None
        if old_subject is not None:
            ctx.otp.retire(db, old_subject, flow.name, now)
        edited.step, edited.asking, edited.retries, edited.pending_switch = "collect", None, 0, None
        edited.missing_slots = [slot.name for slot in flow.missing(ctx)]
        if resolve_failed_step:
            edited.failed_step = None
        for name in flow.edit_resets:
            edited.slots.pop(name, None)
        edited.slots[EDITED] = True
        session.state = edited.to_json()
        return session.state

    def resume(self, db: Session, session: ChatSession, now: datetime) -> str | None:
        """On release after an edit: the next question or the full read-back (state updated)."""
        state = DialogueState.from_json(session.state)
        if not state.active_flow or not state.slots.get(EDITED):
            return None
        state.slots.pop(EDITED, None)
        ctx = self._context(db, session, state, now)
        try:
            flow = get_flow(state.active_flow)
            if flow.missing(ctx) or flow.confirm:
                flow.next_step(ctx, filled=["(agent)"])
            else:
                ctx.say(f"客服已更新{flow.title}信息，回复“继续”办理，回复“取消”退出。")
        except Exception:  # the release itself must go through
            log.exception("read-back of %s after an agent edit failed", state.active_flow)
            return None
        session.state = ctx.state.to_json()
        return "\n".join(ctx.replies) or None

    # --- plumbing ---------------------------------------------------------------------------
    def _apply(self, flow: Flow, ctx: FlowContext, texts: dict[str, str]) -> DialogueState:
        """Each value in the flow's slot order, read and checked as a customer answer."""
        work = ctx.state = copy.deepcopy(ctx.state)
        for slot in flow.slots:
            if slot.name not in texts:
                continue
            work.slots.pop(slot.name, None)
            for other in flow.slots:
                if slot.name in other.depends_on and other.name not in texts:
                    work.slots.pop(other.name, None)
            work.asking = slot.name
            ctx.parse = self._parse(slot.phrase.format(texts[slot.name]), ctx)
            if not slot.needed(ctx):
                raise InvalidInput(f"当前不需要填写 {slot.name}", "slot_not_needed")
            value = slot.extract(ctx)
            if value is None:
                raise InvalidInput(f"无法识别 {slot.name} 的值：{mask_text(texts[slot.name])}", "invalid_slot_value")
            error = slot.validate(ctx, value)
            if error:
                raise InvalidInput(f"{slot.name}：{error}", "invalid_slot_value")
            work.slots[slot.name] = slot.keep(ctx, value)
        for slot in flow.slots:  # a slot the new values made unnecessary
            if slot.name in work.slots and not slot.needed(ctx):
                work.slots.pop(slot.name)
        return work

    def _parse(self, text: str, ctx: FlowContext) -> ParseResult:
        parsed = self.parser.parse(text, ctx.today)
        # The intent of an agent's value means nothing; only its entities and text are read.
        score = IntentScore("out_of_scope", 0.0)
        return ParseResult(parsed.text, parsed.normalized, score, (score,), parsed.entities, parsed.tokens)

    def _context(self, db: Session, session: ChatSession, state: DialogueState, now: datetime) -> FlowContext:
        score = IntentScore("out_of_scope", 0.0)
        empty = ParseResult("", "", score, (score,), (), ())
        return FlowContext(
            db=db, parse=empty, state=state, bank=SqlBank(db), otp=OtpService(self.secret_key, _NoSms()),
            customer_id=conversations.bound_customer_id(db, session.channel, session.user_id),
            now=now, today=now.astimezone(BANK_TZ).date(), channel=session.channel, user_id=session.user_id,
            session_id=session.id, secret_key=self.secret_key, limiter=SqlRateLimiter(self.secret_key))


def _subject(flow: Flow, ctx: FlowContext) -> str | None:
    """Whose codes the flow's outstanding codes are (None: it has not got that far)."""
    try:
        return flow.otp_subject(ctx) if flow.needs_code else None
    except KeyError:
        return None


def _as_text(name: str, value) -> str:
    """A value as the customer would have typed it; not a switch, not NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidInput(f"槽位 {name} 的值须为文字或数字", "invalid_slot_value")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"槽位 {name} 的值不是有效数字", "invalid_slot_value")
        value = format(value, "f").rstrip("0").rstrip(".") if "." in format(value, "f") else format(value, "f")
    text = str(value).strip()
    if not text or len(text) > MAX_VALUE_LENGTH:
        raise InvalidInput(f"槽位 {name} 的值须为 1–{MAX_VALUE_LENGTH} 个字", "invalid_slot_value")
    return text
