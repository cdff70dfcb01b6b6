"""card.limit, a raise request: a permanent or temporary limit of a wanted amount.

Querying the limit stays the balance answer (policy.flow_for sends card.limit without raise
words to account.balance). The bank decides by explicit rules (SqlCreditCards.limit_options,
docs/credit_cards.md): card age, no overdue, usage, one permanent raise per 6 months, a
temporary limit up to +50 % for 30 days. What is allowed is said before the amount is asked
("本次最高可申请至 36,000.00 元"); a refusal names the rule and what to do instead. No SMS
code: DESIGN.md's high-risk list does not name it, and a raise moves no money.
"""
from __future__ import annotations

import re
from decimal import Decimal

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.credit_common import (bare_number, card_name, card_slot, chosen_tail, has_card,
                                                  stop)
from chatbot.dialogue.forms import Flow, Slot, flow
from chatbot.money import format_amount
from chatbot.tools.credit import LimitOptions

TEMPORARY = re.compile(r"临时|临额|短期|暂时")
PERMANENT = re.compile(r"固定|永久|长期|固额")
TO_TOTAL = re.compile(r"(?:到|至|为|成|变|额度)\s*[\d一二两三四五六七八九十]")
KIND_NAMES = {"permanent": "固定额度", "temporary": "临时额度"}
# "我的信用卡额度是多少" / "临时额度还有多少" inside the flow: a question about the limit, not a raise.
LIMIT_QUESTION = re.compile(r"额度.{0,6}(?:多少|几|剩|还有|是什么)|(?:查|看)一?下?.{0,4}额度")
RAISE_WORDS = re.compile(r"提额|提高|提升|调高|调整|调到|调至|调额|升额|涨|增加|加额|提到|提至|申请|办")


def options(ctx: FlowContext) -> LimitOptions:
    return ctx.bank.limit_options(ctx.customer_id, chosen_tail(ctx), ctx.now)


def _refusal(opts: LimitOptions, kind: str) -> str | None:
    return opts.permanent_refusal if kind == "permanent" else opts.temporary_refusal


def _highest(opts: LimitOptions, kind: str) -> Decimal:
    return opts.max_permanent if kind == "permanent" else opts.max_temporary


def _current(opts: LimitOptions, kind: str) -> Decimal:
    return opts.credit_limit if kind == "permanent" else (opts.temp_limit or opts.credit_limit)


def _extract_kind(ctx: FlowContext):
    if TEMPORARY.search(ctx.text):
        return "temporary"
    if PERMANENT.search(ctx.text):
        return "permanent"
    if ctx.state.asking == "kind":
        return {"1": "temporary", "2": "permanent"}.get(ctx.text.strip("。. "))
    return None


def _validate_kind(ctx: FlowContext, kind: str) -> str | None:
    opts = options(ctx)
    refusal = _refusal(opts, kind)
    if refusal is None:
        return None
    other = "temporary" if kind == "permanent" else "permanent"
    if _refusal(opts, other) is None:
        return (f"{KIND_NAMES[kind]}暂不能提升：{refusal}。您可以申请{KIND_NAMES[other]}，"
                f"最高 {format_amount(_highest(opts, other))}，需要的话请回复“{KIND_NAMES[other][:2]}”。")
    return f"{KIND_NAMES[kind]}暂不能提升：{refusal}。"


def _kind_prompt(ctx: FlowContext) -> str:
    opts = options(ctx)
    return (f"{card_name(opts.card_tail)} 当前固定额度 {format_amount(opts.credit_limit)}。请问申请：\n"
            f"1. 临时额度（最高 {format_amount(opts.max_temporary)}，有效 {opts.temp_days} 天）\n"
            f"2. 提高固定额度（最高 {format_amount(opts.max_permanent)}）\n回复“临时”或“固定”即可。")


def _extract_amount(ctx: FlowContext):
    amount = ctx.entity("amount")
    if amount is None and ctx.state.asking == "amount":
        amount = bare_number(ctx)
    if amount is None:
        return None
    opts = options(ctx)
    kind = ctx.state.slots.get("kind") or _extract_kind(ctx) or "permanent"
    current = _current(opts, kind)
    if amount <= current and not TO_TOTAL.search(ctx.text):
        amount = current + amount  # "提高5000": by, not to
    return str(Decimal(amount).quantize(Decimal("0.01")))


def _validate_amount(ctx: FlowContext, value: str) -> str | None:
    opts = options(ctx)
    amount = Decimal(value)
    kind = ctx.state.slots.get("kind")
    current = _current(opts, kind or "permanent")
    if amount <= current:
        return f"申请的额度需高于当前额度 {format_amount(current)}，请重新告诉我希望调整到多少。"
    if kind and amount > _highest(opts, kind):
        return (f"{KIND_NAMES[kind]}本次最高可申请至 {format_amount(_highest(opts, kind))}，"
                "请重新告诉我希望调整到多少。")
    return None


def _amount_prompt(ctx: FlowContext) -> str:
    opts = options(ctx)
    kind = ctx.state.slots["kind"]
    return (f"当前{KIND_NAMES[kind] if kind == 'permanent' or opts.temp_limit else '固定额度'} "
            f"{format_amount(_current(opts, kind))}，{KIND_NAMES[kind]}本次最高可申请至 "
            f"{format_amount(_highest(opts, kind))}。请问希望调整到多少？")


def _amount_before_kind(ctx: FlowContext) -> None:
    """"额度提到5万" before temporary or permanent is chosen: say at once which kinds can grant it
    (and the maximums when none can, forgetting the amount), then the kind is asked."""
    if any(s["action"] == "slot_invalid" and s.get("slot") == "kind" for s in ctx.steps):
        return  # the kind said was refused: its reason already names what can be applied for
    opts = options(ctx)
    amount = Decimal(ctx.state.slots["amount"])
    allowed = [k for k in ("temporary", "permanent") if _refusal(opts, k) is None]
    fits = [k for k in allowed if amount <= _highest(opts, k)]
    wanted = f"您希望额度调整到 {format_amount(amount)}"
    if not fits:
        ctx.state.slots.pop("amount")
        highest = "，".join(f"{KIND_NAMES[k]}最高 {format_amount(_highest(opts, k))}" for k in allowed)
        ctx.say(f"{wanted}，超过了本次可申请的最高额度（{highest}）。可以在最高额度以内申请：")
        ctx.step("slot_invalid", slot="amount")
    elif len(fits) > 1:
        ctx.say(f"{wanted}，临时额度和固定额度都可以申请。")
    else:  # only one kind can grant it: that is what is offered, so a yes ("确认", "好的") goes on
        kind = fits[0]
        ctx.state.slots["kind"] = kind
        others = [k for k in allowed if k != kind]
        why = "".join(f"{KIND_NAMES[k]}本次最高可申请至 {format_amount(_highest(opts, k))}，" for k in others)
        term = f"（{opts.temp_days} 天）" if kind == "temporary" else ""
        ctx.say(f"{wanted}：{why}可以为您申请{KIND_NAMES[kind]} {format_amount(amount)}{term}。")
        ctx.step("slot_filled", slot="kind", offered=True)


@flow
class CardLimitFlow(Flow):
    name = "card.limit"
    title = "额度调整"
    confirm = True
    slots = (
        card_slot(),
        Slot("kind", _kind_prompt, _extract_kind, _validate_kind, label="额度类型", words="临时|固定|永久"),
        Slot("amount", _amount_prompt, _extract_amount, _validate_amount, phrase="调到{}", label="金额",
             words="金额|额度到|调到|提到", reads_bare=True, depends_on=("kind",)),
    )

    def on_start(self, ctx: FlowContext) -> bool:
        if not has_card(ctx):
            return False
        opts = options(ctx)
        if opts.permanent_refusal and opts.temporary_refusal:
            reason = opts.permanent_refusal if opts.permanent_refusal == opts.temporary_refusal else \
                f"{opts.permanent_refusal}；临时额度：{opts.temporary_refusal}"
            stop(ctx, f"很抱歉，{card_name(opts.card_tail)} 目前不能调整额度：{reason}。"
                      "保持按时还款、正常用卡，之后可再申请；如有疑问可回复“人工”。", "limit_refused")
            return False
        return True

    def next_step(self, ctx: FlowContext, filled: list[str]) -> None:
        slots = ctx.state.slots
        if "amount" in filled and "amount" in slots and "kind" not in slots:
            _amount_before_kind(ctx)
        if "kind" in slots and "amount" in slots:  # the amount came before the kind: check it now
            error = _validate_amount(ctx, slots["amount"])
            if error:
                slots.pop("amount")
                ctx.say(error)
                ctx.step("slot_invalid", slot="amount")
        super().next_step(ctx, filled)

    def aside(self, ctx: FlowContext) -> bool:
        """"我的信用卡额度是多少" while raising it: the limit in force and what is available now
        (the balance answer's figures), then the open question again, not an offer to switch."""
        intent = ctx.parse.intent
        if intent.name not in ("card.limit", "account.balance") or intent.confidence < 0.5:
            return False
        if self._asked_again(ctx):
            return True
        if not LIMIT_QUESTION.search(ctx.text) or RAISE_WORDS.search(ctx.text) or ctx.entity("amount"):
            return False
        card = ctx.bank.credit_card(ctx.customer_id, chosen_tail(ctx), ctx.now, recent=0)
        if card.temp_limit:
            total = (f"总额度 {format_amount(card.effective_limit)}（含临时额度，有效期至 "
                     f"{card.temp_limit_until:%Y-%m-%d}；固定额度 {format_amount(card.credit_limit)}）")
        else:
            total = f"总额度 {format_amount(card.effective_limit)}"
        ctx.say(f"{card_name(card.card_tail)} {total}，可用额度 {format_amount(card.available)}。")
        ctx.step("answer", intent="card.limit", aside=True)
        return True

    @staticmethod
    def _asked_again(ctx: FlowContext) -> bool:
        """"我想提额", "唔該，我想提額", "點樣提高額度？" (normalized to Simplified) inside the raise:
        the request this flow is already doing, not a failed answer; said so, and its question again."""
        if ctx.entity("amount") or _extract_kind(ctx) or bare_number(ctx) is not None:
            return False  # it carries an answer: the slots read it
        if not RAISE_WORDS.search(ctx.text) and not re.search(r"提额|额度", ctx.text):
            return False
        if LIMIT_QUESTION.search(ctx.text) and not RAISE_WORDS.search(ctx.text):
            return False  # "额度还有多少": answered below
        ctx.say("好的，正在为您办理提额。")
        ctx.step("answer", intent="card.limit", aside=True, again=True)
        return True

    def summary(self, ctx: FlowContext) -> str:
        kind, amount = ctx.state.slots["kind"], Decimal(ctx.state.slots["amount"])
        opts = options(ctx)
        term = f"（有效 {opts.temp_days} 天）" if kind == "temporary" else ""
        return (f"请确认：申请将{card_name(opts.card_tail)} 的{KIND_NAMES[kind]}调整为 {format_amount(amount)}{term}。\n"
                "确认请回复“确认”，如需修改请直接告诉我。")

    def cancelled(self, ctx: FlowContext) -> str:
        return "好的，先不调整额度了。还有什么可以帮您？"

    def execute(self, ctx: FlowContext) -> None:
        kind, amount = ctx.state.slots["kind"], Decimal(ctx.state.slots["amount"])
        tail = chosen_tail(ctx)
        decision = ctx.bank.raise_limit(ctx.customer_id, tail, kind, amount, ctx.now)
        if decision.approved is None:
            ctx.say(f"很抱歉，本次额度申请未通过：{decision.reason}。如有疑问可回复“人工”。")
            ctx.outcome = "refused"
            ctx.step("refused", code=decision.code)
        else:
            card = ctx.bank.credit_card(ctx.customer_id, tail, ctx.now, recent=0)
            until = f"，有效期至 {decision.until:%Y-%m-%d}，到期自动恢复为固定额度" if decision.until else ""
            ctx.say(f"申请已通过：{card_name(tail)} 的{KIND_NAMES[kind]}已调整为 {format_amount(decision.approved)}"
                    f"{until}。\n当前可用额度 {format_amount(card.available)}。")
            ctx.outcome = "completed"
            ctx.step("executed", flow=self.name, kind=kind, approved=str(decision.approved))
        ctx.state.end_flow()
