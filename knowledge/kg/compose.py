"""Compose reply text from graph facts; nothing here stores an answer, only wording.

Every reply that carries a figure says it is demo data, as the file header does.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from knowledge.kg.load import FACT_KINDS, LINK_KEYS, KnowledgeGraph

DEMO = "（示例数据）"
ASPECT_LABELS = {**{kind: label for kind, (_, label) in FACT_KINDS.items()},
                 "requires": "申请条件", "requires_material": "所需材料", "applies_via": "办理渠道",
                 "has_benefit": "主要权益", "risk_level": "风险等级"}


def format_amount(yuan: float) -> str:
    """600 -> ``600 元``, 300000 -> ``30 万元``, 10000000 -> ``1,000 万元``, 0 -> ``免收``."""
    if yuan == 0:
        return "免收"
    if yuan >= 10_000 and yuan % 10_000 == 0:
        return f"{yuan / 10_000:,.0f} 万元"
    return f"{yuan:,.0f} 元" if float(yuan).is_integer() else f"{yuan:,.2f} 元"


def format_months(months: int) -> str:
    return f"{months // 12} 年" if months % 12 == 0 else f"{months} 个月"


def format_value(fact: Mapping) -> str:
    """The value of one fact node (without its label)."""
    if "amount" in fact:
        value = format_amount(fact["amount"])
    elif "min" in fact:
        value = f"{format_amount(fact['min'])}至 {format_amount(fact['max'])}"
    elif "percent" in fact:
        value = _percent(fact["percent"], fact.get("qualifier"))
    elif "low" in fact:
        value = f"{fact['low']:.2f}%–{fact['high']:.2f}%"
    elif "months" in fact:
        value = format_months(fact["months"])
    else:
        value = fact["text"]
    return value


def _percent(value: float, qualifier: str | None) -> str:
    if qualifier == "约":
        return f"约 {value:.2f}%"
    return f"{value:.2f}%" + (f" {qualifier}" if qualifier else "")


def format_fact(fact: Mapping, with_note: bool = True) -> str:
    """``首套 约 3.05%``, ``3 年 1.75%``, ``信用经营贷 100 万元（...）``."""
    prefix = fact.get("label") or (format_months(fact["term_months"]) if "term_months" in fact else "")
    text = f"{prefix} {format_value(fact)}" if prefix else format_value(fact)
    return f"{text}（{fact['note']}）" if with_note and fact.get("note") else text


def aspect_values(graph: KnowledgeGraph, product: str, aspect: str) -> list[str]:
    """The product's values for one aspect, formatted (empty when it has none)."""
    if aspect in FACT_KINDS:
        return [format_fact(graph.nodes[f], with_note=False) for f in graph.facts(product, aspect)]
    if aspect == "risk_level":
        return [graph.name(r) for r in graph.targets(product, "risk_level")]
    relation = LINK_KEYS[aspect][0]
    return [graph.name(n) for n in graph.targets(product, relation)]


def attribute_text(graph: KnowledgeGraph, product: str, aspect: str,
                   facts: Sequence[str] | None = None) -> str:
    """One attribute of one product as a sentence (``facts``: the fact nodes to state)."""
    if aspect in ("annual_fee", "fee_waiver"):
        return _fee_text(graph, product)
    if aspect in FACT_KINDS:
        return _fact_text(graph, product, aspect, facts if facts is not None else graph.facts(product, aspect))
    return _link_text(graph, product, aspect)


def _fact_text(graph: KnowledgeGraph, product: str, aspect: str, facts: Sequence[str]) -> str:
    chosen = [graph.nodes[f] for f in facts]
    values = "；".join(format_fact(f, with_note=False) for f in chosen)
    notes = list(dict.fromkeys(f["note"] for f in chosen if f.get("note")))
    return f"{graph.name(product)}{ASPECT_LABELS[aspect]}：{values}（{'；'.join([*notes, '示例数据'])}）。"


_LINK_TEMPLATES = {"requires": "申请{name}的条件（示例）：{items}。",
                   "requires_material": "申请{name}一般需要：{items}（示例，具体以客户经理告知为准）。",
                   "applies_via": "{name}可通过{items}办理。",
                   "has_benefit": "{name}的主要权益（示例）：{items}。"}


def _link_text(graph: KnowledgeGraph, product: str, aspect: str) -> str:
    name, values = graph.name(product), aspect_values(graph, product, aspect)
    if aspect == "risk_level":
        suits = graph.nodes[graph.targets(product, "risk_level")[0]].get("suits")
        return f"{name}的风险等级为 {values[0]}" + (f"，适合风险评估结果为 {suits}的客户。" if suits else "。")
    separator = "；" if aspect == "requires" else "、"
    return _LINK_TEMPLATES[aspect].format(name=name, items=separator.join(values))


def _fee_text(graph: KnowledgeGraph, product: str) -> str:
    name = graph.name(product)
    fees = [graph.nodes[f] for f in graph.facts(product, "annual_fee")]
    text = f"{name}年费 {format_fact(fees[0], with_note=False)}{DEMO}" if fees else name
    if fees and fees[0].get("note"):
        text += f"，{fees[0]['note']}"
    waivers = [graph.nodes[f] for f in graph.facts(product, "fee_waiver")]
    return text + (f"；{waivers[0]['text']}。" if waivers else "。")


def comparison_text(graph: KnowledgeGraph, products: Sequence[str], aspects: Sequence[str]) -> str:
    """A heading and one short line per aspect: ``年费：金卡 200 元；白金卡 600 元``."""
    names = [graph.name(p) for p in products]
    joined = "、".join(names[:-1]) + f"和{names[-1]}"
    lines = [f"{joined}的对比{DEMO}："]
    for aspect in aspects:
        cells = [f"{name} {'、'.join(aspect_values(graph, p, aspect)) or '—'}"
                 for name, p in zip(names, products)]
        lines.append(f"{ASPECT_LABELS[aspect]}：{'；'.join(cells)}")
    return "\n".join(lines)


def comparison_table(graph: KnowledgeGraph, products: Sequence[str],
                     aspects: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """The same comparison as columns (项目, then each product) and one row per aspect."""
    columns = ["项目", *(graph.name(p) for p in products)]
    rows = [[ASPECT_LABELS[aspect], *("、".join(aspect_values(graph, p, aspect)) or "—" for p in products)]
            for aspect in aspects]
    return columns, rows


def list_text(heading: str, items: Sequence[str]) -> str:
    """``R2（中低风险）理财产品有：A（2.40%–3.20%）、B……``."""
    if not items:
        return f"{heading}：暂无。"
    return f"{heading}：{'、'.join(items)}。"
