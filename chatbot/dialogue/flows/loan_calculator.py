"""loan.repayment_plan, what-if: "借10万分36期每月还多少", "房贷100万30年" (no binding needed).

The amount and the term come from the message (the term is asked for when missing); the
product (房贷, 消费贷, 经营贷, 车贷 and their aliases in data/kg.yaml) chooses the annual rate
and the limits; 消费贷 when none is named. The answer gives both methods (等额本息: the
monthly payment; 等额本金: first and last payment) with the total interest of each, computed
exactly by `chatbot.tools.amortization`. The customer's own loan ("我的贷款还剩多少",
"我这个月月供多少") is not this flow: `is_what_if` leaves it to the policy's usual answer.
"""
from __future__ import annotations

import re
import uuid
import weakref
from dataclasses import dataclass
from decimal import Decimal

from chatbot.dialogue.context import FlowContext, product_graph
from chatbot.dialogue.forms import FLOWS, Flow, Slot, flow
from chatbot.money import format_amount
from chatbot.tools.amortization import MAX_MONTHS, equal_installment, equal_principal
from knowledge.kg.load import KnowledgeGraph

DEFAULT_PRODUCT = "consumer_loan"
# The customer's own loan, not a what-if: answered as before (it needs the loan records).
OWN_LOAN = re.compile(r"我的|我家|我这|我现在|我目前|还剩|剩余|剩下|下期|本期|这期|这个月|上个月|欠")
# Words of a payment question: "房贷100万30年月供多少" asks to compute, whatever the model thinks.
PAYMENT_WORDS = re.compile(r"月供|每月|每期|一个月|还多少|利息|等额|还款计划|怎么还")
APPLY_WORDS = re.compile(r"申请|办理|办一笔|开通")
# Repaying the customer's own loan early ("如果我提前还两万，月供变多少"): never a new loan to
# compute; their plan (loan_plan.py) estimates it from the loan itself.
PREPAY = re.compile(r"提前(?:还|归还|偿还|结清)")
# "那我申请吧", "就按这个申请", "帮我申请" right after a what-if: apply with its figures.
APPLY_AFTER = re.compile(r"申请|办理|就办|办吧|办一笔|借吧|就借|我要借|按这个")
NOT_APPLY_AFTER = re.compile(r"卡|理财|进度|状态|怎么|如何|吗|么|[?？]|多少|条件|材料|不")
TERM = re.compile(r"\d+\s*(?:期|年|个月)|[一二两三四五六七八九十半]+(?:年|期|个月)")
BARE_MONTHS = re.compile(r"^(?:分)?(\d{1,3})[。.!！]*$")
TERM_PROMPT = "请问分多少期（或几年）？"


@dataclass(frozen=True)
class LoanProduct:
    id: str
    name: str
    aliases: tuple[str, ...]
    rates: tuple[dict, ...]  # rate facts of the graph: percent, qualifier, label
    max_amount: Decimal | None  # the largest numeric limit (None when only a ratio is given)
    max_months: int | None


_catalogues: "weakref.WeakKeyDictionary[KnowledgeGraph, dict[str, LoanProduct]]" = weakref.WeakKeyDictionary()


def loan_products(graph: KnowledgeGraph | None) -> dict[str, LoanProduct]:
    """The loan products of the service's knowledge graph (built once per graph)."""
    graph = product_graph(graph)
    if graph not in _catalogues:
        _catalogues[graph] = _read_products(graph)
    return _catalogues[graph]


def _read_products(graph: KnowledgeGraph) -> dict[str, LoanProduct]:
    products = {}
    for node in graph.of_type("product"):
        if "loan" not in graph.targets(node, "is_a"):
            continue
        facts = {kind: [graph.nodes[f] for f in graph.facts(node, kind)] for kind in ("rate", "max_amount", "max_term")}
        amounts = [Decimal(str(f["amount"])) for f in facts["max_amount"] if "amount" in f]
        months = [f["months"] for f in facts["max_term"] if "months" in f]
        products[node] = LoanProduct(
            node, graph.name(node), graph.nodes[node]["aliases"],
            tuple(f for f in facts["rate"] if "percent" in f),
            max(amounts) if amounts else None, max(months) if months else None)
    return products


def named_product(ctx: FlowContext) -> str | None:
    """The loan product a message names (the longest alias wins: 消费贷款 over 贷款)."""
    best, length = None, 0
    for product in loan_products(ctx.graph).values():
        for word in (product.name, *product.aliases):
            if len(word) > length and word in ctx.text:
                best, length = product.id, len(word)
    return best


def is_what_if(intent: str, text: str, has_amount: bool) -> bool:
    """A loan payment to compute ("借10万分36期每月还多少", "房贷100万30年"), not the
    customer's own loan nor (for loan.apply) a bare wish to borrow ("借10万", "申请贷款20万")."""
    if OWN_LOAN.search(text) or PREPAY.search(text) or not has_amount:
        return False
    if intent == "loan.repayment_plan":
        return True
    return bool(PAYMENT_WORDS.search(text) or (TERM.search(text) and not APPLY_WORDS.search(text)))


def _product(ctx: FlowContext) -> LoanProduct:
    return loan_products(ctx.graph)[ctx.state.slots.get("product") or named_product(ctx) or DEFAULT_PRODUCT]


def _rate(ctx: FlowContext, product: LoanProduct) -> dict:
    """The rate fact used: the labelled one the message names (二套), else the first (首套)."""
    for fact in product.rates:
        if fact.get("label") and fact["label"] in ctx.text:
            return fact
    return product.rates[0]


def _terms(months: int, years_first: bool = False) -> str:
    """"36 期（3 年）", or "3 年（36 期）" with `years_first`; "18 期" when not whole years."""
    if months % 12:
        return f"{months} 期"
    years, periods = f"{months // 12} 年", f"{months} 期"
    return f"{years}（{periods}）" if years_first else f"{periods}（{years}）"


def _extract_amount(ctx: FlowContext):
    amount = ctx.entity("amount")
    return str(amount) if amount is not None else None


def _validate_amount(ctx: FlowContext, value) -> str | None:
    product, amount = _product(ctx), Decimal(value)
    if amount <= 0:
        return "借款金额需大于 0，请重新告诉我借款金额。"
    if product.max_amount is not None and amount > product.max_amount:
        term = f"，期限最长 {_terms(product.max_months)}" if product.max_months else ""
        return (f"{product.name}可借 {format_amount(product.max_amount)}以内{term}。"
                "请重新告诉我借款金额，或说明其他贷款品种（如房贷、经营贷）。")
    return None


def _extract_term(ctx: FlowContext):
    months = ctx.entity("term_months")
    if months is None and ctx.state.asking == "term_months":
        bare = BARE_MONTHS.match(ctx.text)  # "36" answering "分多少期"
        months = int(bare.group(1)) if bare else None
    return months


def _validate_term(ctx: FlowContext, months) -> str | None:
    product = _product(ctx)
    longest = min(product.max_months or MAX_MONTHS, MAX_MONTHS)
    if not 1 <= months <= longest:
        return f"{product.name}期限为 1 至 {_terms(longest)}，请重新告诉我分多少期。"
    return None


@flow
class LoanCalculatorFlow(Flow):
    name = "loan.repayment_plan"
    title = "月供试算"
    requires_binding = False
    slots = (
        Slot("product", "", named_product, label="贷款品种"),
        Slot("amount", "请问要借多少钱？", _extract_amount, _validate_amount, label="金额",
             words=r"金额|借款|本金", reads_bare=True),
        Slot("term_months", TERM_PROMPT, _extract_term, _validate_term, label="期限", words=r"期限|期数|年限"),
    )

    def missing(self, ctx: FlowContext) -> list[Slot]:
        return [s for s in super().missing(ctx) if s.name != "product"]  # 消费贷 when none is named

    def cancelled(self, ctx: FlowContext) -> str:
        return "好的，先不算了。还有什么可以帮您？"

    def execute(self, ctx: FlowContext) -> None:
        slots = ctx.state.slots
        product = loan_products(ctx.graph)[slots.get("product") or DEFAULT_PRODUCT]
        amount, months = Decimal(slots["amount"]), int(slots["term_months"])
        rate = _rate(ctx, product)
        percent = Decimal(str(rate["percent"]))
        installment = equal_installment(amount, percent / 100, months)
        principal = equal_principal(amount, percent / 100, months)
        label = rate.get("label") or ""
        quoted = f"{product.name}{label}年化利率 " + ("约 " if rate.get("qualifier") == "约" else "") + f"{percent:.2f}%"
        quoted += " 起" if rate.get("qualifier") == "起" else ""
        ctx.say(
            f"借 {format_amount(amount)}，分 {_terms(months, years_first=True)}，"
            f"按年化 {percent:.2f}% 估算，实际以审批为准（{quoted}，示例数据）：\n"
            f"等额本息：每月 {format_amount(installment.first_payment)}，"
            f"总利息 {format_amount(installment.total_interest)}\n"
            f"等额本金：首月 {format_amount(principal.first_payment)}，逐月递减，"
            f"末月 {format_amount(principal.last_payment)}，总利息 {format_amount(principal.total_interest)}")
        ctx.step("loan_calculated", product=product.id, amount=str(amount), months=months, rate=str(percent))
        ctx.outcome = "completed"
        ctx.state.end_flow()


# "那分24期呢", "要是借20万呢": another what-if on the figures of the one just answered.
ELLIPTICAL = re.compile(r"那|呢|如果|要是|换成|改成|改为|变成")
METHOD = re.compile(r"等额本金|等额本息")


def is_follow_up(ctx: FlowContext) -> bool:
    """A short message changing the amount, the term or the product of the last what-if."""
    if ctx.state.context.get("flow") != LoanCalculatorFlow.name or len(ctx.text) > 16 or PREPAY.search(ctx.text):
        return False
    changes = ctx.entity("term_months") or ctx.entity("amount") or TERM.search(ctx.text) or METHOD.search(ctx.text)
    return bool(ELLIPTICAL.search(ctx.text) and changes)


def follow_up(ctx: FlowContext) -> None:
    """Compute again from the last figures with what this message changes; a change the
    product does not allow is refused, and the last figures stay for the next try."""
    last = dict(ctx.state.context.get("slots", {}))
    calculator = FLOWS[LoanCalculatorFlow.name]
    ctx.state.start_flow(calculator.name, uuid.uuid4().hex)
    ctx.state.slots = last
    filled = calculator.fill(ctx)
    ctx.step("loan_what_if_follow_up", changed=filled)
    refused = any(step["action"] == "slot_invalid" for step in ctx.steps)
    if refused or not (filled or METHOD.search(ctx.text)):  # "等额本金呢": the same figures again
        if not refused:  # "那分100年呢": a term no loan has, not read as one
            ctx.say("请告诉我要改的金额或期数，例如“分24期”或“借20万”。")
        ctx.outcome = "answered"
        ctx.state.slots = last
        ctx.state.end_flow()
        return
    calculator.next_step(ctx, [])


def is_apply_follow_up(ctx: FlowContext) -> bool:
    """"那我申请吧", "就按这个申请", "帮我申请" right after a what-if: apply for that loan (the policy
    starts loan.apply, binding first; `apply_figures` gives it the figures)."""
    context = ctx.state.context
    if context.get("flow") != LoanCalculatorFlow.name or len(ctx.text) > 16:
        return False
    slots = context.get("slots", {})
    if "amount" not in slots or "term_months" not in slots:
        return False
    named = named_product(ctx)
    if named is not None and named != (slots.get("product") or DEFAULT_PRODUCT):
        return False  # another product named: a new application, not this what-if
    return bool(APPLY_AFTER.search(ctx.text)) and not NOT_APPLY_AFTER.search(ctx.text)


def apply_figures(ctx: FlowContext) -> dict | None:
    """The last what-if's product, amount and term when this message applies for it."""
    if not is_apply_follow_up(ctx):
        return None
    slots = ctx.state.context["slots"]
    return {"product": slots.get("product") or DEFAULT_PRODUCT, "amount": slots["amount"],
            "term_months": int(slots["term_months"])}
