"""wealth.buy: buy a wealth product from the savings card, with the mandated disclosure.

Before anything is asked the customer needs an assessment in force (none or expired: the
reason and the offer to take it now). Then: the product (by name or alias; a paused one is
refused, one above the customer's level stops the purchase with the reason and the way
forward), the amount (the graph's minimum and the table's step, the savings balance), the
risk disclosure with the product's key terms from the graph, answered by an explicit
acknowledgement ("我已阅读并理解", or 确认 after it), the read-back for "确认", a fresh SMS
code (DESIGN.md: a wealth purchase is high-risk), then the debit and the holding
(SqlWealth.buy_wealth, idempotent on the flow run) and an evidence record of what was shown
(texts and their SHA-256), what the customer answered and when, the product and the amount.
"""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from chatbot.dialogue import offers
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.credit_common import bare_number, stop
from chatbot.dialogue.flows.wealth_common import (DISCLAIMER, assessment, day, no_valid_assessment, view, views)
from chatbot.dialogue.flows.wealth_products import comparison_asked
from chatbot.dialogue.forms import Flow, Slot, flow
from chatbot.money import format_amount, to_capital
from chatbot.nlu.entities import extract_entities
from chatbot.nlu.normalize import normalize
from chatbot.security.masking import mask_card
from chatbot.tools.banking import BankingRefusal
from chatbot.wealth import evidence
from chatbot.wealth import questionnaire as q
from chatbot.wealth.catalogue import amount_fits, named

ACK = re.compile(r"已阅读|已经阅读|阅读并理解|已了解|已知晓|知晓风险|明白风险|了解风险|理解风险|接受风险|我已阅读")
AFFIRM = re.compile(r"^(确认|确定|是|是的|好|好的|可以|同意|明白|知道了|了解|理解|嗯+|ok)[。!.！]*$")
QUESTION = re.compile(r"怎么|什么|为什么|吗|呢|多少|[?？]")


def _savings(ctx: FlowContext):
    return [a for a in ctx.bank.accounts(ctx.customer_id, ctx.now) if a.kind == "savings" and a.card_tail]


def _payer(ctx: FlowContext):
    savings = _savings(ctx)
    usable = [a for a in savings if a.status == "active" and a.card_status == "active"]
    return (usable or savings)[0]


def _level(ctx: FlowContext) -> str:
    return assessment(ctx).level


def _suitable_names(ctx: FlowContext) -> str:
    level = _level(ctx)
    names = [f"{v.name}（{v.risk_level}）" for v in views(ctx) if v.on_sale and q.suits(level, v.risk_level)]
    return "、".join(names)


# --- product ---------------------------------------------------------------------------------

def _extract_product(ctx: FlowContext):
    found = named(views(ctx), ctx.text)
    return found.code if found else None


def _validate_product(ctx: FlowContext, code: str) -> str | None:
    product = view(ctx, code)
    if product is None:
        return "没有找到这款产品，请告诉我产品名称。"
    if not product.on_sale:
        state = "暂停申购" if product.status == "paused" else "已停售"
        return f"{product.name}当前{state}，暂不能购买。您可以选择：{_suitable_names(ctx)}。"
    return None


def _ask_product(ctx: FlowContext) -> str:
    return f"请问购买哪款产品？适合您（{q.describe(_level(ctx))}）的在售产品有：{_suitable_names(ctx)}。"


# --- amount ----------------------------------------------------------------------------------

def _extract_amount(ctx: FlowContext):
    if QUESTION.search(ctx.text):
        return None
    amount = ctx.entity("amount")
    if amount is None:
        amount = _amount_beside_name(ctx)
    if amount is None and ctx.state.asking == "amount":
        amount = bare_number(ctx)
    return str(amount) if amount is not None else None


def _amount_beside_name(ctx: FlowContext):
    """"买1000天天宝": the name's 天 makes "1000天" a duration; read the amount without the name."""
    text = ctx.text
    product = named(views(ctx), text)
    if product is None:
        return None
    for word in sorted((product.name, *product.aliases), key=len, reverse=True):
        text = re.sub(re.escape(word), "，", text, flags=re.IGNORECASE)
    for entity in extract_entities(normalize(text), ctx.today):
        if entity.entity == "amount":
            return entity.value
    return None


def _validate_amount(ctx: FlowContext, value: str) -> str | None:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return "金额格式不正确，请重新输入。"
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        return "购买金额须大于 0、最多两位小数，请重新输入。"
    code = ctx.state.slots.get("product")
    if code is None:
        return None  # judged once the product is known (next_step)
    return _amount_problem(ctx, code, amount)


def _amount_problem(ctx: FlowContext, code: str, amount: Decimal) -> str | None:
    product = view(ctx, code)
    problem = amount_fits(product, amount)
    if problem:
        return problem
    try:
        ctx.bank.check_wealth_purchase(ctx.customer_id, code, amount, ctx.now)
    except BankingRefusal as refusal:
        return f"{refusal.message}，请重新输入金额。"
    return None


def _ask_amount(ctx: FlowContext) -> str:
    product = view(ctx, ctx.state.slots["product"])
    payer = _payer(ctx)
    step = (f"，超出部分须为 {format_amount(product.step_amount)} 的整数倍"
            if product.step_amount > Decimal("0.01") else "")
    return (f"请问购买多少？{product.name}{format_amount(product.min_amount)}起购{step}。"
            f"储蓄卡 {mask_card(payer.card_tail)} 可用余额 {format_amount(payer.balance)}。")


# --- the disclosure and its acknowledgement -------------------------------------------------

def disclosure(ctx: FlowContext) -> str:
    product = view(ctx, ctx.state.slots["product"])
    level = _level(ctx)
    lines = ["【风险揭示】理财非存款，产品有风险，投资须谨慎。",
             f"产品：{product.name}，风险等级 {product.risk_name}，适合 {product.suits}投资者",
             f"业绩比较基准：{product.expected_yield}（不代表实际收益，不构成收益承诺）"]
    if product.term_text:
        lines.append(f"期限：{product.term_text}")
    lines.append(f"起购金额：{format_amount(product.min_amount)}" + (f"（{product.min_note}）" if product.min_note else ""))
    if product.redemption:
        lines.append(f"赎回规则：{product.redemption}")
    if product.yield_note:
        lines.append(f"提示：{product.yield_note}")
    lines.append(f"您的风险等级 {q.describe(level)}，本产品在您的承受范围内。")
    lines.append("请仔细阅读以上内容，如已阅读并理解，请回复“我已阅读并理解”。")
    return "\n".join(lines)


def _ask_ack(ctx: FlowContext) -> str:
    text = disclosure(ctx)
    ctx.state.slots["_disclosure"] = {"text": text, "at": ctx.now.isoformat()}
    return text


def _extract_ack(ctx: FlowContext):
    if ctx.state.asking != "ack" or "_disclosure" not in ctx.state.slots:
        return None
    if ACK.search(ctx.text) or AFFIRM.match(ctx.text):
        shown = ctx.state.slots["_disclosure"]
        return {"answer": ctx.parse.text[:200], "at": ctx.now.isoformat(),
                "shown_sha256": evidence.text_hash(shown["text"])}
    return None


@flow
class WealthBuyFlow(Flow):
    name = "wealth.buy"
    title = "购买理财"
    confirm = True
    needs_code = True
    high_risk = True
    slots = (
        Slot("product", _ask_product, _extract_product, _validate_product, label="产品", words="产品|理财"),
        Slot("amount", _ask_amount, _extract_amount, _validate_amount, phrase="买{}", label="金额",
             words="金额|钱|数额", reads_bare=True),
        Slot("ack", _ask_ack, _extract_ack, depends_on=("product",), label="风险揭示确认"),
    )

    def on_start(self, ctx: FlowContext) -> bool:
        compared = comparison_asked(ctx)  # "对比一下A和B" read as a purchase: compare, buy nothing
        if compared:
            for reply in compared:
                ctx.say(reply)
            ctx.outcome = "answered"
            ctx.state.end_flow()
            return False
        info = assessment(ctx)
        if info is None or not info.valid_on(ctx.today):
            no_valid_assessment(ctx, info, "购买理财")
            return False
        if not _savings(ctx):
            stop(ctx, "您名下没有可用于购买理财的储蓄卡。", "no_savings")
            return False
        if all(a.status != "active" or a.card_status != "active" for a in _savings(ctx)):
            stop(ctx, f"您的储蓄卡 {mask_card(_payer(ctx).card_tail)} 已挂失或冻结，暂不能购买理财。"
                      "如卡片已找回，可回复“解挂”解除挂失后再购买。", "card_frozen")
            return False
        return True

    def next_step(self, ctx: FlowContext, filled: list[str]) -> None:
        slots = ctx.state.slots
        code = slots.get("product")
        if code is not None:
            product = view(ctx, code)
            level = _level(ctx)
            if not q.suits(level, product.risk_level):
                self._unsuitable(ctx, product, level)
                return
            if "amount" in slots:
                problem = _amount_problem(ctx, code, Decimal(slots["amount"]))
                if problem:
                    slots.pop("amount")
                    slots.pop("ack", None)
                    ctx.say(problem)
                    ctx.step("slot_invalid", slot="amount")
        super().next_step(ctx, filled)

    def _unsuitable(self, ctx: FlowContext, product, level: str) -> None:
        suitable = _suitable_names(ctx)
        stop(ctx, f"抱歉，{product.name}的风险等级为 {product.risk_name}，适合 {product.suits}投资者，"
                  f"超出了您的风险承受能力等级 {q.describe(level)}（可购买 {q.may_buy_text(level)}），不能购买。\n"
                  f"适合您的在售产品有：{suitable}。", "unsuitable")
        offers.make(ctx, "flow", "如您的财务状况或投资目标有变化，可以重新做风险测评。需要现在重新测评吗？",
                    "wealth.risk_assessment")

    def summary(self, ctx: FlowContext) -> str:
        slots = ctx.state.slots
        product = view(ctx, slots["product"])
        amount = Decimal(slots["amount"])
        maturity = (f"\n到期日：{day(ctx.today + timedelta(days=product.term_days))}（预计）"
                    if product.term_days else "\n期限：无固定期限")
        text = ("请核对购买信息：\n"
                f"产品：{product.name}（{product.risk_level}）\n"
                f"金额：{format_amount(amount)}（{to_capital(amount)}）\n"
                f"付款卡：储蓄卡 {mask_card(_payer(ctx).card_tail)}{maturity}\n"
                "确认购买请回复“确认”，如需修改请直接告诉我。")
        slots["_summary"] = {"text": text, "at": ctx.now.isoformat()}
        slots["_from_tail"] = _payer(ctx).card_tail  # the card read back is the card debited
        return text

    def before_code(self, ctx: FlowContext) -> bool:
        if not self._still_suits(ctx):
            return False
        problem = _amount_problem(ctx, ctx.state.slots["product"], Decimal(ctx.state.slots["amount"]))
        if problem:
            stop(ctx, f"暂不能购买：{problem.removesuffix('，请重新输入金额。').rstrip('。')}。", "purchase_refused")
            return False
        return True

    def _still_suits(self, ctx: FlowContext) -> bool:
        """Before the code and again at the purchase: the assessment in force (a new one may have
        been taken meanwhile) must still allow the product; the reason is said when not."""
        info = assessment(ctx)
        if info is None or not info.valid_on(ctx.today):
            no_valid_assessment(ctx, info, "购买理财")
            return False
        product = view(ctx, ctx.state.slots["product"])
        if not q.suits(info.level, product.risk_level):
            self._unsuitable(ctx, product, info.level)
            return False
        return True

    def cancelled(self, ctx: FlowContext) -> str:
        return "好的，先不购买了。需要时可以说“推荐理财”看看适合您的产品。"

    def execute(self, ctx: FlowContext) -> None:
        slots = ctx.state.slots
        product = view(ctx, slots["product"])
        amount = Decimal(slots["amount"])
        if not self._still_suits(ctx):
            return
        info = assessment(ctx)
        try:
            receipt = ctx.bank.buy_wealth(ctx.customer_id, product.code, amount, f"购买理财 {product.name}",
                                          f"flow:{ctx.state.flow_id}", ctx.now, from_tail=slots.get("_from_tail"))
        except BankingRefusal as refusal:
            stop(ctx, f"购买未成功：{refusal.message}。", refusal.code)
            return
        if not receipt.replayed:
            shown, summary = slots.get("_disclosure", {}), slots.get("_summary", {})
            evidence.append(ctx.db, ctx.customer_id, "wealth_purchase", {
                "reference": receipt.reference, "product": product.code, "product_name": product.name,
                "risk_level": product.risk_level, "customer_level": info.level, "assessment_id": info.id,
                "amount": str(amount), "from_card": mask_card(receipt.from_tail),
                "disclosure": {"text": shown.get("text"), "sha256": evidence.text_hash(shown.get("text", "")),
                               "shown_at": shown.get("at")},
                "acknowledgement": slots.get("ack"),
                "read_back": {"text": summary.get("text"), "sha256": evidence.text_hash(summary.get("text", "")),
                              "shown_at": summary.get("at")},
                "confirmed_with": "sms_code", "confirmed_at": ctx.now.isoformat(), "channel": ctx.channel}, ctx.now)
        maturity = f"到期日 {day(receipt.maturity_date)}，" if receipt.maturity_date else "无固定期限，"
        ctx.say(f"购买成功：{product.name} {format_amount(amount)}，{maturity}份额 {receipt.units:,.4f} 份。\n"
                f"已从储蓄卡 {mask_card(receipt.from_tail)} 扣款，余额 {format_amount(receipt.balance_after)}。\n"
                f"交易编号 {receipt.reference}。说“我的理财”可查看持仓。\n{DISCLAIMER}")
        ctx.outcome = "completed"
        ctx.step("executed", flow=self.name, reference=receipt.reference, replayed=receipt.replayed)
        ctx.state.end_flow()
