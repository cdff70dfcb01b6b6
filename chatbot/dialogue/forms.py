"""Flows declared as forms: slots with extractors, validators, prompts and re-prompts.

A flow runs in steps: collect slots (several may arrive in one message; a slot already
filled can be corrected by a later message), optionally confirm, optionally verify a
fresh SMS code (high-risk operations), then execute. Invalid answers are re-asked at most
twice; the third offers a person.

Slot values live in `chat_sessions.state`. A full ID or card number is kept there only
sealed (`sealed_value`: AES-GCM under a key for that use, beside its masked form, which is
all the agent console shows); flows read it back with `opened`.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.turn import HandoffRequest
from chatbot.security.masking import mask_phone
from chatbot.security.sealing import seal, unseal

MAX_REASKS = 2
FLOWS: dict[str, "Flow"] = {}


def flow(cls: type["Flow"]) -> type["Flow"]:
    """Register a flow class under its `name` (one instance serves every session)."""
    FLOWS[cls.name] = cls()
    return cls


def sealed_value(ctx: FlowContext, label: str, text: str, masked: str) -> dict:
    """A number kept in the dialogue state: sealed, with the masked form for display."""
    return {"sealed": seal(ctx.secret_key, f"slot:{label}", text), "masked": masked}


def opened(ctx: FlowContext, label: str, value) -> str | None:
    """The clear text of a `sealed_value` (a plain string, from older state, as it is)."""
    if isinstance(value, dict) and "sealed" in value:
        return unseal(ctx.secret_key, f"slot:{label}", value["sealed"])
    return value


def get_flow(name: str) -> "Flow":
    try:
        return FLOWS[name]
    except KeyError:
        raise LookupError(f"no flow named {name!r}; registered: {', '.join(sorted(FLOWS))}") from None


@dataclass(frozen=True)
class Slot:
    """One piece of information a flow needs.

    `extract` reads the current message (entities or text) and returns a JSON-safe value
    or None; `validate` returns an error to tell the customer, or None when acceptable;
    `keep` turns an accepted value into what the state stores (e.g. sealed); `depends_on`
    names slots whose change makes this one stale (an agent's edit drops it); `phrase` is
    how a customer would word a bare value for this slot (an agent's edit is read so).

    For corrections (`corrections.py`): `label` names the slot to the customer (金额, 收款人);
    `words` is a pattern of the words that name it in a correction ("金额错了，是2000");
    `reads_bare` lets a bare value at the read-back correct it (a number is the amount);
    `correctable` lets a correction set it even when the flow fills it by itself (the one
    savings card a transfer is paid from). A validator's error says what to answer next: the
    slot's question is not repeated after it.
    """

    name: str
    prompt: Callable[[FlowContext], str] | str
    extract: Callable[[FlowContext], object]
    validate: Callable[[FlowContext, object], str | None] = lambda ctx, value: None
    needed: Callable[[FlowContext], bool] = lambda ctx: True
    keep: Callable[[FlowContext, object], object] = lambda ctx, value: value
    depends_on: tuple[str, ...] = ()
    phrase: str = "{}"
    label: str = ""
    words: str = ""
    reads_bare: bool = False
    correctable: bool = False

    def ask(self, ctx: FlowContext) -> str:
        return self.prompt(ctx) if callable(self.prompt) else self.prompt


class Flow(ABC):
    """Base class: subclasses declare `name`, `title`, `slots` and implement `execute`."""

    name = ""
    title = ""  # what the customer is doing, e.g. 转账
    slots: tuple[Slot, ...] = ()
    requires_binding = True
    confirm = False  # read the details back and wait for an explicit "确认"
    needs_code = False  # a fresh SMS one-time code before executing
    high_risk = False  # failing twice hands the customer to a person
    edit_resets: tuple[str, ...] = ()  # bookkeeping slots an agent's edit makes stale

    # --- hooks subclasses override -----------------------------------------------------------
    def on_start(self, ctx: FlowContext) -> bool:
        """Return False to end the flow right away (it has said why)."""
        return True

    def summary(self, ctx: FlowContext) -> str:
        return f"请确认办理{self.title}，回复“确认”继续。"

    def before_code(self, ctx: FlowContext) -> bool:
        """Checks before a code is sent (limits, fraud); False stops and has said why."""
        return True

    def screen(self, ctx: FlowContext) -> bool:
        """Checks on every message the flow takes in, before it asks or reads anything back
        (the transfer's fraud guard); False stops and has said why."""
        return True

    def aside(self, ctx: FlowContext) -> bool:
        """A question about the flow's own business that it answers itself, without a switch
        ("我的信用卡额度是多少" while raising the limit): True once answered; the open question
        is then asked again (at the read-back, the summary)."""
        return False

    def how_to(self, ctx: FlowContext) -> str | None:
        """How this business is done, for a how-to question ("怎么申请信用卡") the FAQ cannot
        answer surely; None: the flow has nothing to say (the policy starts it as asked)."""
        return None

    def same_value(self, ctx: FlowContext, name: str, value) -> bool:
        """Whether `value` (as extracted) is what slot `name` already holds."""
        return ctx.state.slots.get(name) == value

    def drop(self, slots: dict, name: str) -> None:
        """Forget a slot and every slot that depends on it (a changed payee drops its account)."""
        slots.pop(name, None)
        for slot in self.slots:
            if name in slot.depends_on and slot.name in slots:
                self.drop(slots, slot.name)

    @abstractmethod
    def execute(self, ctx: FlowContext) -> None:
        """Do the business (every slot is filled, confirmed and verified as the flow requires)."""

    def otp_use(self, ctx: FlowContext) -> str:
        return self.title

    def otp_phone(self, ctx: FlowContext) -> str | None:
        """Where the code goes; None: a decoy nobody receives (see OtpService.issue)."""
        return ctx.bank.customer(ctx.customer_id).phone

    def otp_subject(self, ctx: FlowContext) -> str:
        """Whose code it is (its wrong tries and lock): the customer, else the chat user."""
        return ctx.subject

    def operation(self, ctx: FlowContext) -> str:
        """Exactly what a code confirms (with the flow run): a change needs a new code."""
        slots = {k: v for k, v in ctx.state.slots.items() if not k.startswith("_")}
        return json.dumps(slots, ensure_ascii=False, sort_keys=True, default=str)

    def code_throttled(self, ctx: FlowContext, seconds: int, resend: bool) -> str:
        """What to say when no code may be sent yet (steps.send_code's limits)."""
        from chatbot.dialogue.steps import throttled_reply  # steps builds on this module

        return throttled_reply(seconds, resend)

    def code_sent(self, ctx: FlowContext, phone: str | None) -> str:
        return f"验证码已发送至 {mask_phone(phone)}，请在 5 分钟内回复 6 位验证码。"

    def cancelled(self, ctx: FlowContext) -> str:
        return f"好的，{self.title}先不办理了。还有什么可以帮您？"

    # --- the generic loop ---------------------------------------------------------------------
    def advance(self, ctx: FlowContext) -> None:
        """Take one customer message further through the flow."""
        filled = self.fill(ctx)
        if not self.screen(ctx):
            return
        if ctx.state.step == "confirm" and not filled:
            return  # confirmation answers are handled by the policy's confirm step
        self.next_step(ctx, filled)

    def fill(self, ctx: FlowContext) -> list[str]:
        """Fill (or correct) every slot this message carries; report invalid values."""
        filled = []
        for slot in self.slots:
            value = slot.extract(ctx)
            if value is None or not slot.needed(ctx):
                continue
            error = slot.validate(ctx, value)
            if error:
                ctx.say(error)
                ctx.step("slot_invalid", slot=slot.name)
                continue
            ctx.state.slots[slot.name] = slot.keep(ctx, value)
            filled.append(slot.name)
            ctx.step("slot_filled", slot=slot.name)
        return filled

    def missing(self, ctx: FlowContext) -> list[Slot]:
        return [s for s in self.slots if s.needed(ctx) and s.name not in ctx.state.slots]

    def next_step(self, ctx: FlowContext, filled: list[str]) -> None:
        missing = self.missing(ctx)
        ctx.state.missing_slots = [s.name for s in missing]
        if missing:
            self.ask(ctx, missing[0], filled)
        elif self.confirm:
            ctx.state.step, ctx.state.asking, ctx.state.retries = "confirm", None, 0
            ctx.say(self.summary(ctx))
            ctx.step("confirm", flow=self.name)
        elif self.needs_code:
            from chatbot.dialogue.steps import send_code  # steps builds on this module

            if self.before_code(ctx):
                send_code(self, ctx)
        else:
            self.execute(ctx)

    def ask(self, ctx: FlowContext, slot: Slot, filled: list[str]) -> None:
        answered = ctx.state.asking == slot.name and not filled
        if answered:
            ctx.state.retries += 1  # the answer gave nothing we could use
        if ctx.state.retries > MAX_REASKS:
            self.give_up(ctx, f"ask_{slot.name}")
            return
        if ctx.state.asking != slot.name:
            ctx.state.retries = 0
        ctx.state.asking = slot.name
        refused = any(s["action"] == "slot_invalid" and s.get("slot") == slot.name for s in ctx.steps)
        if not refused:  # the validator's error already asked again ("…，请重新输入金额。")
            prefix = "抱歉，没能识别您的回答。" if answered and not ctx.replies else ""
            question = slot.ask(ctx)
            ctx.say(prefix + question if prefix else question)  # as asked: a rich question keeps its buttons
        ctx.step("ask", slot=slot.name, retries=ctx.state.retries)

    def give_up(self, ctx: FlowContext, failed_step: str) -> None:
        """Too many invalid answers or a failed check: stop and offer a person."""
        ctx.state.failed_step = failed_step
        failures = ctx.state.failures.get(self.name, 0) + 1
        ctx.state.failures[self.name] = failures
        ctx.step("flow_failed", flow=self.name, failed_step=failed_step, failures=failures)
        ctx.outcome = "flow_failed"
        if self.high_risk and failures >= 2 and failed_step != "otp_locked":
            # Keep the flow where it stalled: the agent sees the filled and missing slots
            # and the failed step, and a release returns the customer to this point.
            ctx.say("看起来办理遇到了困难，正在为您转接人工客服。")
            ctx.handoff = HandoffRequest("flow_failed", priority=5)
            ctx.state.retries = 0
            return
        if self.high_risk and failures >= 2:
            ctx.say("正在为您转接人工客服。")
            ctx.handoff = HandoffRequest("flow_failed", priority=5)
        else:
            ctx.say(f"抱歉，{self.title}没能继续办理。如需帮助，可回复“人工”转接人工客服。")
        ctx.state.end_flow(keep_context=False)
