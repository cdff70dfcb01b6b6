"""wealth.products: the products on sale, filtered by what the message asks for.

Filters read from the message: a risk level ("R2", "R3以下", "中低风险", "稳健" = up to R2),
a term ("三个月以内", "一年期", "半年", "短期", "随时能取"), an amount ("一万块能买什么": the
minimum must fit). For a bound customer with an assessment in force the products that suit
their level come first and are the only ones recommended; the others are listed apart,
marked as above their level. Without a binding or a valid assessment every product is
listed, with what is needed before buying. Paused or closed products are never offered.
Every fact comes from the knowledge graph (chatbot/wealth/catalogue.py).

Said as rich items (chatbot/wealth/cards.py) whose texts are the plain answer: a card per
product that may be bought (了解详情 opens the product page, 购买 sends 买<name>); a table
when the customer asks to compare (比较/对比) or names two products or more; one product
named, its detail card and whether this customer may buy it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.wealth_common import DISCLAIMER, assessment, graph, valid_level, views
from chatbot.dialogue.forms import Flow, flow
from chatbot.money import format_amount
from chatbot.nlu.entities.numbers import parse_number
from chatbot.wealth import questionnaire as q
from chatbot.wealth import cards
from chatbot.wealth.catalogue import WealthProductView
from knowledge.kg.cues import asks_comparison

LEVEL = re.compile(r"[rR]\s*([1-5])")
BELOW = re.compile(r"以下|以内|之内|及以下|不超过|内的|内$|之下|以下的|不到")
ABOVE = re.compile(r"以上|及以上|超过")
STEADY = re.compile(r"稳健|稳一点|稳的|稳妥|保守|保本|不亏|风险低|低风险|安全")
TERM = re.compile(r"(\d+|[一二两三四五六七八九十半]+)\s*(?:个)?\s*(天|周|个月|月|年)(?:期)?")
SHORT = re.compile(r"短期|期限短")
ANYTIME = re.compile(r"随时|活期|随存随取|灵活|不封闭")
MINE = re.compile(r"适合我|我能买|我可以买")


@dataclass
class Filters:
    levels: tuple[str, ...] = q.RISK_LEVELS
    max_days: int | None = None
    min_days: int | None = None
    anytime: bool = False
    amount: Decimal | None = None
    words: tuple[str, ...] = ()

    def keep(self, view: WealthProductView) -> bool:
        if view.risk_level not in self.levels:
            return False
        if self.anytime and view.term_days != 0:
            return False
        if self.max_days is not None and view.term_days > self.max_days:
            return False
        if self.min_days is not None and (view.term_days == 0 or view.term_days < self.min_days):
            return False
        return self.amount is None or view.min_amount <= self.amount


def read_filters(ctx: FlowContext) -> Filters:
    text = ctx.text
    found = Filters()
    words = []
    level = LEVEL.search(text)
    named = _named_level(ctx)
    if level or named:
        top = f"R{level.group(1)}" if level else named
        position = q.RISK_LEVELS.index(top)
        if BELOW.search(text[(level.end() if level else 0):]):
            found.levels = q.RISK_LEVELS[:position + 1]
            words.append(f"{top} 及以下")
        elif ABOVE.search(text[(level.end() if level else 0):]):
            found.levels = q.RISK_LEVELS[position:]
            words.append(f"{top} 及以上")
        else:
            found.levels = (top,)
            words.append(top)
    elif STEADY.search(text):
        found.levels = ("R1", "R2")
        words.append("稳健型（R1–R2）")
    if ANYTIME.search(text):
        found.anytime = True
        words.append("随时可取")
    elif match := TERM.search(text):
        days = _days(match.group(1), match.group(2))
        if days is not None:
            rest = text[match.end():]
            if BELOW.search(rest[:4]):
                found.max_days = days
                words.append(f"期限{match.group(0)}以内")
            elif ABOVE.search(rest[:4]):
                found.min_days = int(days * 0.9)
                words.append(f"期限{match.group(0)}以上")
            else:
                found.min_days, found.max_days = int(days * 0.8), days
                words.append(f"期限约{match.group(0)}")
    elif SHORT.search(text):
        found.max_days = 93
        words.append("短期（3 个月以内）")
    amount = ctx.entity("amount")
    if amount is not None and amount > 0:
        found.amount = Decimal(amount)
        words.append(f"{format_amount(found.amount)}可起购")
    found.words = tuple(words)
    return found


def _named_level(ctx: FlowContext) -> str | None:
    """"中低风险", "高风险": the risk-level node the graph names so (longest alias wins)."""
    g = graph(ctx)
    best, length = None, 0
    for node in g.of_type("risk_level"):
        for word in (*g.nodes[node].get("aliases", ()),):
            if len(word) > 2 and word in ctx.text.lower() and len(word) > length:
                best, length = node, len(word)
    return best


def _days(number: str, unit: str) -> int | None:
    value = Decimal("0.5") if number == "半" else (Decimal(number) if number.isdigit() else parse_number(number))
    if value is None:
        return None
    per = {"天": 1, "周": 7, "个月": 31, "月": 31, "年": 366}[unit]
    return int(value * per)


def catalogue_replies(ctx: FlowContext, filters: Filters | None = None) -> list[str]:
    """What the bot says about the products asked for: one product named, its detail card;
    two or more named, or a list with "比较/对比", a comparison table; else a card per
    product that suits (chatbot/wealth/cards.py). Every item's text is the plain answer."""
    on_sale_named = _named_products(views(ctx), ctx.text)
    compare = asks_comparison(ctx.text)
    if len(on_sale_named) >= 2:
        ctx.step("wealth_products_compared", count=len(on_sale_named))
        return [cards.comparison(on_sale_named, "产品对比（示例数据）"), _buy_hint(ctx, on_sale_named)]
    if len(on_sale_named) == 1 and not compare:
        return _detail(ctx, on_sale_named[0])
    return _catalogue(ctx, filters or read_filters(ctx), compare)


def comparison_asked(ctx: FlowContext) -> list[str]:
    """The comparison table when the message asks to compare two products or more ("对比一下天天宝
    和安心30天", however it was understood), else nothing."""
    named = _named_products(views(ctx), ctx.text)
    if not asks_comparison(ctx.text) or len(named) < 2:
        return []
    ctx.step("wealth_products_compared", count=len(named))
    return [cards.comparison(named, "产品对比（示例数据）"), _buy_hint(ctx, named)]


def _named_products(found: list[WealthProductView], text: str) -> list[WealthProductView]:
    """The products a message names (longest names first, each span counted once)."""
    text = re.sub(r"\s+", "", text.lower())
    words = sorted(((re.sub(r"\s+", "", w.lower()), v) for v in found for w in (v.name, *v.aliases) if w),
                   key=lambda pair: -len(pair[0]))
    named: list[WealthProductView] = []
    for word, view in words:
        if word in text:
            text = text.replace(word, "\0")
            if view not in named:
                named.append(view)
    return sorted(named, key=found.index)


def _detail(ctx: FlowContext, view: WealthProductView) -> list[str]:
    level, info = valid_level(ctx), assessment(ctx)
    if not view.on_sale:
        note = f"该产品当前{'暂停申购' if view.status == 'paused' else '已停售'}，暂不能购买。"
    elif level is not None:
        note = (f"您的风险等级为 {q.describe(level)}，可以购买该产品。" if q.suits(level, view.risk_level)
                else f"该产品超出您的风险等级 {q.describe(level)}，不能购买，仅供了解。")
    elif ctx.customer_id is None:
        note = "购买前需要绑定账户并完成风险测评。"
    else:
        note = f"购买前需要{'重新' if info is not None else '先'}完成风险测评（说“风险测评”即可开始）。"
    can_buy = level is None or q.suits(level, view.risk_level)
    ctx.step("wealth_product_detail", code=view.code)
    return [cards.detail_card(view, can_buy), f"{note}\n{DISCLAIMER}"]


def _buy_hint(ctx: FlowContext, shown: list[WealthProductView]) -> str:
    level = valid_level(ctx)
    buyable = [v for v in shown if v.on_sale and (level is None or q.suits(level, v.risk_level))]
    hint = f"想购买可以直接说，例如“买1万{_short(buyable[0])}”。" if buyable else ""
    return "\n".join(filter(None, [DISCLAIMER, hint]))


def _short(view: WealthProductView) -> str:
    return view.aliases[0] if view.aliases else view.name


def _catalogue(ctx: FlowContext, filters: Filters, compare: bool) -> list[str]:
    on_sale = [v for v in views(ctx) if v.on_sale and filters.keep(v)]
    scope = f"（{'，'.join(filters.words)}）" if filters.words else ""
    info = assessment(ctx)
    if not on_sale:
        ctx.step("wealth_products", count=0)
        return [f"暂时没有符合条件{scope}的在售理财产品。您可以放宽期限或风险等级再看看，"
                "或直接说“推荐理财”查看全部在售产品。"]
    if ctx.customer_id is not None and info is not None and info.valid_on(ctx.today):
        suitable = [v for v in on_sale if q.suits(info.level, v.risk_level)]
        above = [v for v in on_sale if not q.suits(info.level, v.risk_level)]
        said: list[str] = [f"您的风险等级为 {q.describe(info.level)}。"]
        if suitable:
            said += _shown(f"适合您的在售产品{scope}", suitable, compare, can_buy=True)
        else:
            said[0] += f"\n符合条件{scope}的在售产品都超出了您的风险等级，暂不能购买。"
        if above:
            said.append("\n".join(["以下产品超出您的风险等级，不能购买，仅供了解：",
                                   *(f"· {v.name}（{v.risk_level}，适合 {v.suits}）" for v in above)]))
        said.append(_buy_hint(ctx, suitable))
        ctx.step("wealth_products", count=len(on_sale), suitable=len(suitable), level=info.level)
        return said
    said = _shown(f"在售理财产品{scope}", on_sale, compare, can_buy=True)
    if ctx.customer_id is None:
        need = "购买前需要绑定账户并完成风险测评，系统只会向您推荐与风险等级相符的产品。"
    elif info is None:
        need = "您还没有做过风险测评，购买前需要先完成测评（说“风险测评”即可开始）。"
    else:
        need = "您的风险测评已过期，购买前需要重新测评（说“风险测评”即可开始）。"
    said.append(f"{DISCLAIMER}\n{need}")
    ctx.step("wealth_products", count=len(on_sale))
    return said


def _shown(heading: str, shown: list[WealthProductView], compare: bool, can_buy: bool) -> list[str]:
    """A heading and a card per product, or (asked to compare) one table."""
    if compare:
        return [cards.comparison(shown, heading)]
    return [f"{heading}：", *(cards.list_card(v, n, can_buy) for n, v in enumerate(shown, 1))]


@flow
class WealthProductsFlow(Flow):
    name = "wealth.products"
    title = "了解理财产品"
    requires_binding = False

    def on_start(self, ctx: FlowContext) -> bool:
        for reply in catalogue_replies(ctx):
            ctx.say(reply)
        ctx.outcome = "answered"
        ctx.state.end_flow()
        return False

    def execute(self, ctx: FlowContext) -> None:  # everything is said on start
        ctx.state.end_flow()
