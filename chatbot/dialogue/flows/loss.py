"""account.report_loss and account.cancel_loss: freeze a lost card at once, lift it later."""
from __future__ import annotations

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.cards import card_accounts, card_label, list_labels, pick_card
from chatbot.dialogue.forms import Flow, Slot, flow
from chatbot.tools.banking import BankingRefusal


def _lost(account) -> bool:
    return account.card_status == "lost"


class _CardFlow(Flow):
    confirm = needs_code = high_risk = True
    wants_lost = False  # which cards are candidates: active ones (report) or lost ones (cancel)

    def candidates(self, ctx: FlowContext):
        return [a for a in card_accounts(ctx) if _lost(a) == self.wants_lost]

    def on_start(self, ctx: FlowContext) -> bool:
        candidates = self.candidates(ctx)
        if not candidates:
            ctx.say(self.nothing_to_do)
            ctx.outcome = "answered"
            ctx.state.end_flow(keep_context=False)
            return False
        if len(candidates) == 1 and not ctx.entity("card_tail"):
            ctx.state.slots["card_tail"] = candidates[0].card_tail
        return True

    def card(self, ctx: FlowContext):
        tail = ctx.state.slots["card_tail"]
        return next(a for a in card_accounts(ctx) if a.card_tail == tail)

    def _prompt(self, ctx: FlowContext) -> str:
        candidates = self.candidates(ctx)
        return f"您名下有{len(candidates)}张卡：{list_labels(candidates)}，请问{self.verb}哪一张？"

    def _extract(self, ctx: FlowContext):
        return pick_card(ctx, self.candidates(ctx))

    def _validate(self, ctx: FlowContext, tail) -> str | None:
        if any(a.card_tail == tail for a in self.candidates(ctx)):
            return None
        if any(a.card_tail == tail for a in card_accounts(ctx)):
            return self.wrong_state + (self._prompt(ctx) if len(self.candidates(ctx)) > 1 else "")
        return f"没有找到尾号 {tail} 的卡，请核对后再说一次。"

    @property
    def slots(self):
        return (Slot("card_tail", self._prompt, self._extract, self._validate, label="卡片",
                     words="卡|尾号", correctable=True),)

    def summary(self, ctx: FlowContext) -> str:
        return f"请确认{self.verb}{card_label(self.card(ctx))}。{self.effect}\n确认请回复“确认”。"

    def otp_use(self, ctx: FlowContext) -> str:
        return f"{self.verb}尾号{ctx.state.slots['card_tail']}的卡"

    def execute(self, ctx: FlowContext) -> None:
        operation = ctx.bank.report_loss if not self.wants_lost else ctx.bank.cancel_loss
        try:
            account = operation(ctx.customer_id, ctx.state.slots["card_tail"], ctx.now)
        except BankingRefusal as refusal:
            ctx.say(refusal.message)
            ctx.outcome = "refused"
        else:
            ctx.say(self.done(account))
            ctx.outcome = "completed"
        ctx.step("executed", flow=self.name, card_tail=ctx.state.slots["card_tail"], outcome=ctx.outcome)
        ctx.state.end_flow()


@flow
class ReportLossFlow(_CardFlow):
    name = "account.report_loss"
    title = "挂失"
    verb = "挂失"
    nothing_to_do = "您名下的卡都已处于挂失状态。补办新卡请携带身份证到任一网点办理。"
    wrong_state = "这张卡已经挂失过了。"
    effect = "挂失后该卡立即冻结，无法交易。"

    def done(self, account) -> str:
        return (f"挂失成功，{card_label(account)} 已冻结。\n补办新卡请携带身份证到任一网点办理"
                "（工本费 10 元，示例数据）；如找回原卡，回复“解挂”即可解除挂失。")

    def cancelled(self, ctx: FlowContext) -> str:
        return "好的，先不办理了。如卡片确实丢失，建议尽快挂失，以免资金损失。"


@flow
class CancelLossFlow(_CardFlow):
    name = "account.cancel_loss"
    title = "解除挂失"
    verb = "解除挂失"
    wants_lost = True
    nothing_to_do = "您名下没有挂失中的卡片，无需解挂。"
    wrong_state = "这张卡没有挂失，无需解挂。"
    effect = "解挂后该卡恢复正常使用。"

    def done(self, account) -> str:
        return f"已解除挂失，{card_label(account)} 恢复正常使用。"
