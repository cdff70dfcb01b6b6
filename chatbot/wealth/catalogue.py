"""Wealth products as customers see them: the knowledge graph's facts (name, aliases, risk
level, expected yield, term, minimum, redemption; data/kg.yaml) joined with what the sales
table knows (term in days, step amount, net value, status). Nothing about a product is
copied into code: change the graph and every answer, the purchase and the public catalogue
follow.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from knowledge.kg.load import KnowledgeGraph



@dataclass(frozen=True)
class WealthProductView:
    code: str
    name: str
    aliases: tuple[str, ...]
    risk_level: str  # R1..R5
    risk_name: str  # R2（中低风险）
    suits: str  # C2（稳健型）及以上
    yield_low: Decimal | None  # percent
    yield_high: Decimal | None
    yield_note: str | None
    term_text: str | None
    min_amount: Decimal
    min_note: str | None
    redemption: str | None
    term_days: int  # 0: no fixed term
    step_amount: Decimal
    nav: Decimal | None
    status: str  # on_sale | paused | closed

    @property
    def on_sale(self) -> bool:
        return self.status == "on_sale"

    @property
    def expected_yield(self) -> str:
        """"2.40%–3.20%" (the graph's performance benchmark range)."""
        if self.yield_low is None and self.yield_high is None:
            return ""
        if self.yield_low is None or self.yield_high is None or self.yield_low == self.yield_high:
            return f"{(self.yield_high or self.yield_low):.2f}%"
        return f"{self.yield_low:.2f}%–{self.yield_high:.2f}%"

    @property
    def risk_label(self) -> str:
        """"R2 中低风险" from the graph's "R2（中低风险）"."""
        inner = re.search(r"（(.+?)）", self.risk_name)
        return f"{self.risk_level} {inner.group(1)}" if inner else self.risk_name

    def short_term(self) -> str:
        """"182 天" / "无固定期限"."""
        return f"{self.term_days} 天" if self.term_days else "无固定期限"

    def line(self) -> str:
        """One line of a product list."""
        return (f"{self.name}（{self.risk_label}）：业绩比较基准 "
                f"{self.expected_yield}，{self.term_text or self.short_term()}，{_money(self.min_amount)}起购")


def products(graph: KnowledgeGraph, rows: dict[str, object]) -> list[WealthProductView]:
    """Every wealth product of the graph that the sales table knows (`rows`: code -> row with
    term_days, step_amount, nav, status), in the graph's order."""
    views = []
    for node in graph.of_type("product"):
        if "wealth" not in graph.targets(node, "is_a") or node not in rows:
            continue
        row = rows[node]
        levels = graph.targets(node, "risk_level")
        if not levels:
            continue
        level = levels[0]
        yield_fact = _first(graph, node, "expected_yield")
        minimum = _first(graph, node, "minimum")
        views.append(WealthProductView(
            code=node, name=graph.name(node), aliases=tuple(graph.nodes[node].get("aliases", ())),
            risk_level=level, risk_name=graph.name(level), suits=graph.nodes[level].get("suits", ""),
            yield_low=_dec(yield_fact.get("low")), yield_high=_dec(yield_fact.get("high")),
            yield_note=yield_fact.get("note"), term_text=_first(graph, node, "term").get("text"),
            min_amount=_dec(minimum.get("amount")) or Decimal("0.01"), min_note=minimum.get("note"),
            redemption=_first(graph, node, "redemption").get("text"),
            term_days=int(row.term_days), step_amount=Decimal(row.step_amount),
            nav=Decimal(row.nav) if row.nav is not None else None, status=row.status))
    return views


def named(views: list[WealthProductView], text: str) -> WealthProductView | None:
    """The product a message names by name or alias (the longest match wins)."""
    lowered = re.sub(r"\s+", "", text.lower())
    best, length = None, 0
    for view in views:
        for word in (view.name, *view.aliases):
            word = re.sub(r"\s+", "", word.lower())
            if word and word in lowered and len(word) > length:
                best, length = view, len(word)
    return best


def amount_fits(view: WealthProductView, amount: Decimal) -> str | None:
    """Why `amount` cannot buy the product (minimum, step), or None."""
    if amount < view.min_amount:
        return f"{view.name}{_money(view.min_amount)}起购，请输入不低于 {_money(view.min_amount)} 的金额。"
    if view.step_amount > 0 and (amount - view.min_amount) % view.step_amount != 0:
        lower = amount - (amount - view.min_amount) % view.step_amount
        return (f"{view.name}{_money(view.min_amount)}起购，超出部分须为 {_money(view.step_amount)} 的整数倍"
                f"（例如 {_money(lower)} 或 {_money(lower + view.step_amount)}），请重新输入金额。")
    return None


def _first(graph: KnowledgeGraph, node: str, kind: str) -> dict:
    facts = graph.facts(node, kind)
    return dict(graph.nodes[facts[0]]) if facts else {}


def _dec(value) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def _money(amount: Decimal) -> str:
    from chatbot.money import format_amount

    return format_amount(amount.quantize(Decimal("0.01")))
