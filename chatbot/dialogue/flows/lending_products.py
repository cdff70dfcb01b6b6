"""Card and loan products as the application flows and the back office use them, read from the
knowledge graph (data/kg.yaml): never a copy of the product facts in code.

Cards: annual fee, fee waiver, credit-limit range, review time, benefits. Loans reuse the loan
calculator's catalogue (`loan_calculator.loan_products`): the first quoted rate, the numeric
amount limit and the longest term; a product whose limit is only a ratio (房贷: 房价的 85%;
车贷: 车价的 80%) needs documents and is not applied for in chat. Where the graph names no
minimum, the bank's rules (`LendingRules`) give one.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from decimal import Decimal

from chatbot.dialogue.context import FlowContext, product_graph
from chatbot.dialogue.flows.loan_calculator import loan_products
from chatbot.money import format_amount
from chatbot.tools.lending import DEMO_RULES, CardTerms, LendingRules, LoanTerms
from knowledge.kg.load import KnowledgeGraph


@dataclass(frozen=True)
class CardProduct:
    terms: CardTerms
    aliases: tuple[str, ...]
    annual_fee: Decimal | None
    fee_note: str | None
    fee_waiver: str | None
    benefits: tuple[str, ...]
    requirements: tuple[str, ...]

    @property
    def code(self) -> str:
        return self.terms.code

    @property
    def name(self) -> str:
        return self.terms.name

    def limits(self) -> str:
        """"1 万元–5 万元": the credit-limit range."""
        return f"{_wan(self.terms.limit_min)}–{_wan(self.terms.limit_max)}"

    def describe(self) -> str:
        """"金卡：年费 200.00 元（首年免年费…），额度 1 万–5 万元；权益：…"."""
        fee = f"年费 {format_amount(self.annual_fee)}" if self.annual_fee is not None else "年费以产品说明为准"
        if self.fee_waiver:
            fee += f"（{self.fee_waiver}）"
        limits = f"额度 {self.limits()}"
        benefits = f"；权益：{'、'.join(self.benefits)}" if self.benefits else ""
        return f"{self.name}：{fee}，{limits}{benefits}"


_cards: "weakref.WeakKeyDictionary[KnowledgeGraph, dict[str, CardProduct]]" = weakref.WeakKeyDictionary()


def card_products(graph: KnowledgeGraph | None) -> dict[str, CardProduct]:
    """The credit-card products of the graph, in file order (built once per graph)."""
    graph = product_graph(graph)
    if graph not in _cards:
        _cards[graph] = _read_cards(graph)
    return _cards[graph]


def _read_cards(graph: KnowledgeGraph) -> dict[str, CardProduct]:
    products = {}
    for node in graph.of_type("product"):
        if "credit_card" not in graph.targets(node, "is_a"):
            continue
        limit = _first(graph, node, "credit_limit")
        if "min" not in limit or "max" not in limit:
            continue  # a card without a limit range cannot be decided on
        fee = _first(graph, node, "annual_fee")
        terms = CardTerms(node, graph.name(node), Decimal(str(limit["min"])), Decimal(str(limit["max"])),
                          review_time(graph, node))
        products[node] = CardProduct(
            terms, tuple(graph.nodes[node]["aliases"]),
            Decimal(str(fee["amount"])) if "amount" in fee else None, fee.get("note"),
            _first(graph, node, "fee_waiver").get("text"),
            tuple(graph.name(b) for b in graph.targets(node, "has_benefit")),
            tuple(graph.name(r) for r in graph.targets(node, "requires")))
    return products


def loan_terms(graph: KnowledgeGraph | None, rules: LendingRules = DEMO_RULES) -> dict[str, LoanTerms]:
    """Loan products that can be applied for in chat, as the bank decides on them."""
    graph = product_graph(graph)
    terms = {}
    for code, product in loan_products(graph).items():
        if product.max_amount is None or product.max_months is None or not product.rates:
            continue
        minimums = [Decimal(str(graph.nodes[f]["min"])) for f in graph.facts(code, "max_amount")
                    if "min" in graph.nodes[f]]
        terms[code] = LoanTerms(code, product.name, Decimal(str(product.rates[0]["percent"])) / 100,
                                min(minimums) if minimums else rules.min_loan_amount, product.max_amount,
                                min(rules.min_loan_months, product.max_months), product.max_months,
                                review_time(graph, code))
    return terms


def review_time(graph: KnowledgeGraph, node: str) -> str | None:
    return _first(graph, node, "review_time").get("text")


def where_to_apply(graph: KnowledgeGraph | None, code: str) -> str:
    """"网点柜台、客户经理" for a product applied for elsewhere, with the documents it needs."""
    graph = product_graph(graph)
    channels = [graph.name(c) for c in graph.targets(code, "applies_via")]
    materials = [graph.name(m) for m in graph.targets(code, "requires_material")]
    text = f"{graph.name(code)}需要提供{'、'.join(materials[:4])}等材料" if materials else graph.name(code)
    return text + (f"，请通过{'、'.join(channels)}办理" if channels else "，请到网点办理")


class GraphProducts:
    """`Products` (chatbot/tools/lending.py) over a knowledge graph, for stage moves."""

    def __init__(self, graph: KnowledgeGraph | None) -> None:
        self.graph = graph

    def card(self, code: str) -> CardTerms | None:
        product = card_products(self.graph).get(code)
        return product.terms if product else None

    def loan(self, code: str) -> LoanTerms | None:
        return loan_terms(self.graph).get(code)


def named_card(ctx: FlowContext) -> str | None:
    """The card product a message names (the longest name or alias wins)."""
    best, length = None, 0
    for product in card_products(ctx.graph).values():
        for word in (product.name, *product.aliases):
            if len(word) > length and word.lower() in ctx.text.lower():
                best, length = product.code, len(word)
    return best


def _first(graph: KnowledgeGraph, node: str, kind: str) -> dict:
    facts = graph.facts(node, kind)
    return dict(graph.nodes[facts[0]]) if facts else {}


def _wan(amount: Decimal) -> str:
    """10000 -> "1 万元", 2000 -> "2,000 元"."""
    if amount >= 10000 and amount % 1000 == 0:
        wan = (amount / 10000).normalize()
        return f"{wan:f} 万元"
    return f"{amount:,.0f} 元"
