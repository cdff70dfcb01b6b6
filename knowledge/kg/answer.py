"""Answer product questions from the knowledge graph: attributes, comparisons, lists.

``KgAnswerer.answer`` returns ``None`` for anything that is not clearly a graph question,
so the FAQ retriever handles it. A question is a graph question when it names a product
(or, for lists, a category / risk level / material / channel) *and* asks for something the
graph holds, and it is not about a procedure (see :mod:`knowledge.kg.cues`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from chatbot.messages import Rich
from chatbot.nlu.normalize import Normalizer, default_normalizer
from knowledge.kg import compose
from knowledge.kg.cues import PLACEHOLDERS, aspects_asked, asks_comparison, asks_list, is_vetoed
from knowledge.kg.link import EntityLinker, Mention, term_months
from knowledge.kg.load import FACT_KINDS, LINK_KEYS, KnowledgeGraph

# What "A 和 B 有什么区别" compares when no attribute is named, per category.
DEFAULT_COMPARISON = {
    "credit_card": ("annual_fee", "fee_waiver", "credit_limit", "has_benefit"),
    "bank_card": ("annual_fee", "card_fee", "withdrawal_limit"),
    "loan": ("rate", "max_amount", "max_term", "review_time"),
    "deposit": ("rate", "minimum", "term"),
    "wealth": ("risk_level", "expected_yield", "term", "minimum", "redemption"),
}
# The detail shown after each product in a list, per category.
LIST_DETAIL = {"wealth": "expected_yield", "credit_card": "annual_fee", "loan": "rate", "deposit": "minimum"}
# "A 是什么" / "什么是 A" asks for a definition, which the FAQ writes better than a fact list.
_DEFINITION = re.compile(r"{P}(是|指)(什么|啥)(意思|东西|产品)?(?=$|[?？,，。!！\s])|什么(是|叫){P}")
_PUNCT = re.compile(r"[\s\W_]+$")

AnswerKind = Literal["attribute", "comparison", "list"]


@dataclass(frozen=True)
class KgAnswer:
    """A reply composed from the graph."""

    text: str
    kind: AnswerKind
    nodes: tuple[str, ...]      # the graph nodes the reply states or is about
    table: tuple[list[str], list[list[str]]] | None = None  # a comparison's columns and rows

    @property
    def reply(self) -> str:
        """What the bot says: a comparison is also a table for the pages that draw one."""
        if self.table is None:
            return self.text
        columns, rows = self.table
        return Rich(self.text, "table", title=self.text.splitlines()[0].rstrip("：:"), columns=columns, rows=rows)


class KgAnswerer:
    """Answers product questions; build once (the alias table is compiled here)."""

    def __init__(self, graph: KnowledgeGraph, normalizer: Normalizer | None = None) -> None:
        self.graph = graph
        self.normalizer = normalizer or default_normalizer()
        self.linker = EntityLinker(graph, self.normalizer)

    def answer(self, text: str, *, normalized: bool = False) -> KgAnswer | None:
        """The graph's answer to ``text``, or None when it is not a graph question.

        Pass ``normalized=True`` when ``text`` already went through the normalizer.
        """
        norm = text if normalized else self.normalizer.normalize(text).text
        mentions = self.linker.link(norm)
        if not mentions or is_vetoed(norm) or _DEFINITION.search(_placeholders(norm, mentions)):
            return None
        products = _unique(m.node for m in mentions if m.type == "product")
        aspects = aspects_asked(norm)
        if len(products) >= 2 and (asks_comparison(norm) or aspects):
            return self._comparison(products, aspects)
        if asks_list(_placeholders(norm, mentions)):
            return self._list(mentions)
        if len(products) == 1 and aspects:
            return self._attribute(products[0], aspects, norm)
        return None

    def _has(self, product: str, aspect: str) -> bool:
        return bool(compose.aspect_values(self.graph, product, aspect))

    def _attribute(self, product: str, groups: list[tuple[str, ...]], norm: str) -> KgAnswer | None:
        chosen = _unique(next((a for a in group if self._has(product, a)), "") for group in groups)
        chosen = [a for a in chosen if a]
        if not chosen:
            return None
        sentences, nodes = [], [product]
        for aspect in chosen:
            facts = self._narrow(product, aspect, norm) if aspect in FACT_KINDS else None
            sentences.append(compose.attribute_text(self.graph, product, aspect, facts))
            nodes.extend(facts if facts is not None else self._linked(product, aspect))
        return KgAnswer("\n".join(sentences), "attribute", tuple(_unique(nodes)))

    def _narrow(self, product: str, aspect: str, norm: str) -> list[str]:
        """The facts the question singles out (三年 -> the 3-year rate, 首套 -> 首套), else all."""
        facts = self.graph.facts(product, aspect)
        terms = term_months(norm)
        by_term = [f for f in facts if self.graph.nodes[f].get("term_months") in terms]
        by_label = [f for f in facts if (label := self.graph.nodes[f].get("label")) and label in norm]
        return by_term or by_label or facts

    def _linked(self, product: str, aspect: str) -> list[str]:
        relation = "risk_level" if aspect == "risk_level" else LINK_KEYS[aspect][0]
        return self.graph.targets(product, relation)

    def _comparison(self, products: list[str], groups: list[tuple[str, ...]]) -> KgAnswer | None:
        if groups:
            aspects = [next((a for a in group if any(self._has(p, a) for p in products)), "") for group in groups]
        else:
            aspects = list(DEFAULT_COMPARISON.get(self._category(products[0]), ()))
        aspects = [a for a in _unique(aspects) if a and any(self._has(p, a) for p in products)]
        if not aspects:
            return None
        text = compose.comparison_text(self.graph, products, aspects)
        table = compose.comparison_table(self.graph, products, aspects)
        return KgAnswer(text, "comparison", tuple(products), table)

    def _list(self, mentions: Sequence[Mention]) -> KgAnswer | None:
        by_type = {m.type: m.node for m in reversed(mentions)}  # first mention of each type wins
        # A list needs a kind of product: a category, or a risk level (which implies 理财).
        category = by_type.get("category") or ("wealth" if "risk_level" in by_type else None)
        if category is None:
            return None
        filters = [(by_type[t], relation) for t, relation in
                   (("risk_level", "risk_level"), ("material", "requires_material"), ("channel", "applies_via"))
                   if t in by_type]
        products = self.graph.sources(category, "is_a")
        for node, relation in filters:
            products = [p for p in products if node in self.graph.targets(p, relation)]
        heading = self._heading(category, filters)
        detail = LIST_DETAIL.get(category)
        items = [self._item(p, detail) for p in products]
        nodes = [category, *(node for node, _ in filters), *products]
        return KgAnswer(compose.list_text(heading, items), "list", tuple(nodes))

    def _heading(self, category: str, filters: list[tuple[str, str]]) -> str:
        noun = f"{self.graph.name(category)}产品"
        for node, relation in filters:
            name = self.graph.name(node)
            if relation == "risk_level":
                noun = f"{name}{noun}"
            elif relation == "requires_material":
                noun = f"需要{name}的{noun}"
            else:
                noun = f"可通过{name}办理的{noun}"
        return f"{noun}有"

    def _item(self, product: str, detail: str | None) -> str:
        values = compose.aspect_values(self.graph, product, detail) if detail else []
        return f"{self.graph.name(product)}（{'；'.join(values)}）" if values else self.graph.name(product)

    def _category(self, product: str) -> str:
        categories = self.graph.targets(product, "is_a")
        return categories[0] if categories else ""


def _placeholders(text: str, mentions: Sequence[Mention]) -> str:
    """``text`` with linked spans replaced ({C} category, {R} risk level, {P} product...)."""
    parts, last = [], 0
    for mention in mentions:
        parts.append(text[last:mention.start])
        parts.append(PLACEHOLDERS.get(mention.type, "{P}" if mention.type == "product" else mention.type))
        last = mention.end
    parts.append(_PUNCT.sub("", text[last:]))  # "有哪些贷款？" must end with the placeholder
    return "".join(parts)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
