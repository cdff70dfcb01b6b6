"""Load ``data/kg.yaml`` into a typed networkx graph, refusing anything malformed.

Node types: ``category``, ``product``, ``fact`` and the shared kinds in :data:`SHARED_TYPES`
(requirement, material, channel, benefit, risk_level). Every product fact (a fee, a
rate, a term...) becomes its own ``fact`` node, linked from the product by the typed
relation of :data:`FACT_KINDS`, so the graph answers "which products have X" as well
as "what is X of this product". Edges are keyed by their relation name.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import yaml

from chatbot.errors import ChatbotError

# fact kind -> (relation from the product, label used in answers)
FACT_KINDS: dict[str, tuple[str, str]] = {
    "annual_fee": ("has_fee", "年费"),
    "card_fee": ("has_fee", "工本费"),
    "management_fee": ("has_fee", "小额账户管理费"),
    "fee_waiver": ("has_rule", "年费减免"),
    "credit_limit": ("has_limit", "信用额度"),
    "withdrawal_limit": ("has_limit", "取款限额"),
    "max_amount": ("has_limit", "最高可贷"),
    "rate": ("has_rate", "利率"),
    "max_term": ("has_term", "最长期限"),
    "term": ("has_term", "期限"),
    "validity": ("has_term", "有效期"),
    "minimum": ("has_minimum", "起点金额"),
    "review_time": ("takes_time", "审批时间"),
    "expected_yield": ("has_yield", "业绩比较基准"),
    "redemption": ("has_rule", "赎回规则"),
}
# product key -> (relation, type of the nodes it points to)
LINK_KEYS: dict[str, tuple[str, str]] = {
    "requires": ("requires", "requirement"),
    "requires_material": ("requires_material", "material"),
    "applies_via": ("applies_via", "channel"),
    "has_benefit": ("has_benefit", "benefit"),
}
SHARED_TYPES = ("requirement", "material", "channel", "benefit", "risk_level")
FACT_FIELDS = frozenset({"amount", "min", "max", "percent", "qualifier", "low", "high",
                         "months", "text", "label", "term_months", "note"})
FACT_VALUES = ("amount", "min", "percent", "low", "months", "text")
NODE_FIELDS = frozenset({"id", "name", "aliases", "suits"})
PRODUCT_FIELDS = frozenset({"id", "name", "aliases", "is_a", "facts", "risk_level", *LINK_KEYS})


class KgFileError(ChatbotError):
    """The knowledge-graph file cannot be used; the message names the node and field."""

    default_code = "kg_file_invalid"


# libyaml's safe loader when PyYAML has it (same result, ~10x faster than the pure-Python one).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class KnowledgeGraph(nx.MultiDiGraph):
    """The product graph: a ``networkx.MultiDiGraph`` with a few typed look-ups."""

    @classmethod
    def load(cls, path: str | Path) -> KnowledgeGraph:
        """Read and validate ``path`` (see ``data/kg.yaml`` for the format)."""
        path = Path(path)
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)  # noqa: S506 (a safe loader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise KgFileError(f"{path}: cannot read the knowledge graph ({_one_line(error)})") from None
        graph = cls()
        _Builder(graph, path).build(raw)
        return graph

    def of_type(self, node_type: str) -> list[str]:
        """Node ids of one type, in file order."""
        return [n for n, data in self.nodes(data=True) if data["type"] == node_type]

    def targets(self, node: str, relation: str) -> list[str]:
        """Nodes ``node`` points to by ``relation``, in file order."""
        return [v for _, v, key in self.out_edges(node, keys=True) if key == relation]

    def sources(self, node: str, relation: str) -> list[str]:
        """Nodes pointing to ``node`` by ``relation``, in file order."""
        return [u for u, _, key in self.in_edges(node, keys=True) if key == relation]

    def facts(self, product: str, kind: str) -> list[str]:
        """The fact node ids of ``kind`` for ``product`` (several when labelled), in file order."""
        relation = FACT_KINDS[kind][0]
        return [f for f in self.targets(product, relation) if self.nodes[f]["kind"] == kind]

    def name(self, node: str) -> str:
        """The display name of ``node`` (what answers print)."""
        return self.nodes[node]["name"]


class _Builder:
    """Validates the raw YAML and adds nodes and edges; errors say where."""

    def __init__(self, graph: KnowledgeGraph, path: Path) -> None:
        self.graph, self.path = graph, path

    def fail(self, where: str, problem: str) -> KgFileError:
        return KgFileError(f"{self.path}: {where}: {problem}")

    def build(self, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            raise self.fail("top level", "expected a mapping with categories, nodes and products")
        unknown = set(raw) - {"categories", "nodes", "products"}
        if unknown:
            raise self.fail("top level", f"unknown key '{sorted(unknown)[0]}'")
        for item in self._list(raw, "categories", "top level"):
            self._node(item, "category", "categories")
        shared = raw.get("nodes") or {}
        if not isinstance(shared, Mapping) or set(shared) - set(SHARED_TYPES):
            raise self.fail("nodes", f"expected a mapping of {', '.join(SHARED_TYPES)}")
        for node_type in SHARED_TYPES:
            for item in self._list(shared, node_type, "nodes"):
                self._node(item, node_type, f"nodes.{node_type}")
        for item in self._list(raw, "products", "top level"):
            self._product(item)

    def _list(self, raw: Mapping, key: str, where: str) -> list:
        value = raw.get(key) or []
        if not isinstance(value, list):
            raise self.fail(where, f"'{key}' must be a list")
        return value

    def _node(self, item: Any, node_type: str, where: str, allowed=NODE_FIELDS) -> str:
        if not isinstance(item, Mapping):
            raise self.fail(where, f"every item must be a mapping, got {item!r}")
        node_id = item.get("id")
        if not isinstance(node_id, str) or not node_id.strip():
            raise self.fail(where, f"an item has no 'id': {dict(item)!r}")
        where = f"{where} '{node_id}'"
        unknown = set(item) - allowed
        if unknown:
            raise self.fail(where, f"unknown field '{sorted(unknown)[0]}'")
        if node_id in self.graph:
            raise self.fail(where, "duplicate id")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(where, "field 'name' is missing or empty")
        aliases = item.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise self.fail(where, "field 'aliases' must be a list of non-empty strings")
        extra = {k: v for k, v in item.items() if k in {"suits"}}
        self.graph.add_node(node_id, type=node_type, name=name.strip(),
                            aliases=tuple(a.strip() for a in aliases), **extra)
        return node_id

    def _product(self, item: Any) -> None:
        product = self._node(item, "product", "products", PRODUCT_FIELDS)
        where = f"products '{product}'"
        self._edge(product, item.get("is_a"), "is_a", "category", f"{where}: field 'is_a'")
        if "risk_level" in item:
            self._edge(product, item["risk_level"], "risk_level", "risk_level", f"{where}: field 'risk_level'")
        for key, (relation, target_type) in LINK_KEYS.items():
            targets = item.get(key) or []
            if not isinstance(targets, list):
                raise self.fail(where, f"field '{key}' must be a list of node ids")
            for target in targets:
                self._edge(product, target, relation, target_type, f"{where}: field '{key}'")
        facts = item.get("facts") or {}
        if not isinstance(facts, Mapping):
            raise self.fail(where, "field 'facts' must be a mapping of fact kinds")
        for kind, value in facts.items():
            self._facts(product, kind, value, f"{where}: facts.{kind}")

    def _edge(self, source: str, target: Any, relation: str, target_type: str, where: str) -> None:
        if not isinstance(target, str) or target not in self.graph:
            raise self.fail(where, f"unknown node {target!r}")
        if self.graph.nodes[target]["type"] != target_type:
            raise self.fail(where, f"'{target}' is a {self.graph.nodes[target]['type']}, not a {target_type}")
        self.graph.add_edge(source, target, key=relation)

    def _facts(self, product: str, kind: str, value: Any, where: str) -> None:
        if kind not in FACT_KINDS:
            raise self.fail(where, f"unknown fact kind (known: {', '.join(FACT_KINDS)})")
        values = value if isinstance(value, list) else [value]
        relation, label = FACT_KINDS[kind]
        for position, fact in enumerate(values):
            if not isinstance(fact, Mapping) or set(fact) - FACT_FIELDS:
                raise self.fail(where, f"expected a mapping with fields from {sorted(FACT_FIELDS)}")
            if not any(key in fact for key in FACT_VALUES):
                raise self.fail(where, f"no value (one of {', '.join(FACT_VALUES)})")
            node = f"{product}.{kind}" + (f".{position + 1}" if len(values) > 1 else "")
            self.graph.add_node(node, type="fact", kind=kind, name=label, aliases=(), **fact)
            self.graph.add_edge(product, node, key=relation)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
