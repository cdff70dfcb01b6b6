"""card.activate: the customer's own mailed card, confirmation, SMS code, active."""
from __future__ import annotations

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.lending_common import refused
from chatbot.dialogue.forms import Flow, Slot, flow
from chatbot.money import format_amount
from chatbot.security.masking import mask_card
from chatbot.tools.banking import BankingRefusal

WAITING = ("approved", "producing")


def _waiting(ctx: FlowContext):
    return ctx.bank.activatable_cards(ctx.customer_id)


def _label(app) -> str:
    return f"{app.product_name}信用卡 {mask_card(app.card_tail)}"


@flow
class CardActivateFlow(Flow):
    name = "card.activate"
    title = "信用卡激活"
    confirm = needs_code = high_risk = True

    def on_start(self, ctx: FlowContext) -> bool:
        waiting = _waiting(ctx)
        if not waiting:
            ctx.say(self._nothing(ctx))
            ctx.outcome = "answered"
            ctx.step("nothing_to_activate")
            ctx.state.end_flow(keep_context=False)
            return False
        if len(waiting) == 1 and not ctx.entity("card_tail"):
            ctx.state.slots["card_tail"] = waiting[0].card_tail
        return True

    def _nothing(self, ctx: FlowContext) -> str:
        apps = ctx.bank.applications(ctx.customer_id, kind="card")
        coming = [a for a in apps if a.stage in WAITING or a.stage in ("submitted", "reviewing")]
        if coming:
            app = coming[0]
            return f"您的{app.product_name}申请当前为“{app.stage_name}”，卡片寄出后即可激活。回复“信用卡申请进度”可查看详情。"
        credit = [a for a in ctx.bank.accounts(ctx.customer_id, ctx.now) if a.kind == "credit" and a.card_tail]
        if credit:
            return f"您名下的信用卡（{'、'.join(mask_card(a.card_tail) for a in credit)}）均已激活，无需再次激活。"
        return "您名下没有待激活的信用卡。如需办卡，请回复“申请信用卡”。"

    def _prompt(self, ctx: FlowContext) -> str:
        return f"您有{len(_waiting(ctx))}张待激活的信用卡：{'、'.join(_label(a) for a in _waiting(ctx))}，请问激活哪一张？"

    def _extract(self, ctx: FlowContext):
        return ctx.entity("card_tail")

    def _validate(self, ctx: FlowContext, tail) -> str | None:
        if any(a.card_tail == tail for a in _waiting(ctx)):
            return None
        if any(a.card_tail == tail for a in ctx.bank.accounts(ctx.customer_id, ctx.now)):
            return f"尾号{tail}的卡已激活，无需再次激活。" + (self._prompt(ctx) if len(_waiting(ctx)) > 1 else "")
        return f"没有找到尾号{tail}的待激活信用卡，请核对卡片背面的卡号尾号。"

    @property
    def slots(self):
        return (Slot("card_tail", self._prompt, self._extract, self._validate, label="卡片", words="卡|尾号",
                     correctable=True),)

    def _app(self, ctx: FlowContext):
        return next(a for a in _waiting(ctx) if a.card_tail == ctx.state.slots["card_tail"])

    def summary(self, ctx: FlowContext) -> str:
        app = self._app(ctx)
        limit = f"（额度 {format_amount(app.credit_limit)}）" if app.credit_limit else ""
        return f"请确认激活{_label(app)}{limit}。激活后即可消费。\n确认请回复“确认”。"

    def otp_use(self, ctx: FlowContext) -> str:
        return f"激活尾号{ctx.state.slots['card_tail']}的信用卡"

    def cancelled(self, ctx: FlowContext) -> str:
        return "好的，先不激活了。需要时回复“激活信用卡”即可。"

    def execute(self, ctx: FlowContext) -> None:
        tail = ctx.state.slots["card_tail"]
        try:
            app = ctx.bank.activate_card(ctx.customer_id, tail, ctx.now)
        except BankingRefusal as refusal:
            refused(ctx, self.name, refusal.code, refusal.message + "。")
            return
        limit = f"，额度 {format_amount(app.credit_limit)}" if app.credit_limit else ""
        ctx.say(f"激活成功！{_label(app)} 已可使用{limit}。请妥善保管卡片，勿将卡号、有效期和验证码告诉他人。")
        ctx.outcome = "completed"
        ctx.step("executed", flow=self.name, card_tail=tail)
        ctx.state.end_flow()
