"""Entity linking: find the graph's nodes named in a normalized question.

Every node's name and aliases are normalized exactly like customer text (full-width,
Traditional, case, spelling variants), then matched leftmost-longest, so ``白金卡`` wins
over ``金卡`` and ``零存整取`` over ``整存整取``. Linking runs on text the normalizer
already produced; it never re-segments.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.nlu.lexmatch import LongestMatcher
from chatbot.nlu.normalize import Normalizer, default_normalizer
from knowledge.kg.load import KgFileError, KnowledgeGraph

LINKED_TYPES = ("category", "product", "material", "channel", "risk_level")
_CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                   "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11, "十二": 12}
_TERM = re.compile(r"(\d{1,2}|十[一二]?|[一二两三四五六七八九]|半)\s*(?:个)?\s*(年期|年|月期|月)")


@dataclass(frozen=True)
class Mention:
    """A node named in the text at ``[start, end)``."""

    start: int
    end: int
    node: str
    type: str


class EntityLinker:
    """Alias table of a :class:`KnowledgeGraph`, built once."""

    def __init__(self, graph: KnowledgeGraph, normalizer: Normalizer | None = None) -> None:
        normalizer = normalizer or default_normalizer()
        self.graph = graph
        self._nodes: dict[str, str] = {}
        for node, data in graph.nodes(data=True):
            if data["type"] not in LINKED_TYPES:
                continue
            for surface in (data["name"], *data["aliases"]):
                self._add(normalizer.normalize(surface).text, node)
        self._matcher = LongestMatcher(self._nodes)

    def _add(self, alias: str, node: str) -> None:
        owner = self._nodes.setdefault(alias, node)
        if owner != node:
            # Ambiguous aliases would make linking depend on file order.
            raise KgFileError(f"alias '{alias}' names both '{owner}' and '{node}'", code="kg_alias_conflict")

    def link(self, normalized_text: str) -> list[Mention]:
        """Mentions in ``normalized_text``, left to right (longest alias wins at each position)."""
        return [Mention(start, end, self._nodes[word], self.graph.nodes[self._nodes[word]]["type"])
                for start, end, word in self._matcher.finditer(normalized_text)]


def term_months(normalized_text: str) -> list[int]:
    """Terms written in the text, in months: 三年 -> 36, 6个月 -> 6, 半年 -> 6, 一年期 -> 12."""
    months = []
    for number, unit in _TERM.findall(normalized_text):
        if number == "半":
            value = 6 if unit.startswith("年") else 0
        else:
            count = int(number) if number.isdigit() else _CHINESE_DIGITS[number]
            value = count * 12 if unit.startswith("年") else count
        if value:
            months.append(value)
    return months
