"""Wealth products as rich reply items (docs/rich_replies.md): a card per product of a list,
a detail card for the one product asked about, a comparison table.

Each item's text is what the plain channels said before (the list line, the detail lines),
so the terminal and WeChat text read the same. A card's `product` field (`{"kind": "wealth",
"code", "url"}`) lets a channel say more about it: WeChat sends a single product card as a news
(图文) message that opens the product page (chatbot/channels/wechat/replies.py).
"""
from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from chatbot.dialogue import rich
from chatbot.messages import Rich, choice
from chatbot.money import format_amount
from chatbot.wealth.catalogue import WealthProductView

COMPARE_COLUMNS = ("产品", "风险等级", "业绩比较基准", "期限", "起购金额")


# The product page (api/static/product.html): what 了解详情 opens on the web page and what a
# WeChat news message links to (made absolute there with CHATBOT_PUBLIC_BASE_URL).
PRODUCT_PAGE = "/static/product.html?code={code}"


def page_url(view: WealthProductView) -> str:
    return PRODUCT_PAGE.format(code=quote(view.code, safe=""))


def buy_send(view: WealthProductView) -> str:
    return f"买{view.name}"


def _term(view: WealthProductView) -> str:
    return view.term_text or view.short_term()


def _product(view: WealthProductView) -> dict:
    return {"kind": "wealth", "code": view.code, "url": page_url(view)}


def list_card(view: WealthProductView, number: int, can_buy: bool) -> Rich:
    """One product of a list: the list's numbered line as text; 了解详情 (opens the product
    page: a button with `url` instead of `send`) and, when the customer may buy it, 购买."""
    buttons = [{"label": "了解详情", "url": page_url(view)}]
    if can_buy and view.on_sale:
        buttons.append(choice("购买", buy_send(view)))
    rows = [("风险等级", view.risk_label), ("业绩比较基准", view.expected_yield or "—"),
            ("期限", _term(view)), ("起购金额", format_amount(view.min_amount))]
    return rich.card(f"{number}. {view.line()}", view.name, rows, buttons, product=_product(view))


def detail_rows(view: WealthProductView) -> list[tuple[str, str]]:
    """The facts of one product, as label/value rows (at most 6)."""
    rows = [("风险等级", view.risk_label), ("适合客户", view.suits or "—"),
            ("业绩比较基准", view.expected_yield or "—"), ("期限", _term(view)),
            ("起购金额", format_amount(view.min_amount) + (f"（{view.min_note}）" if view.min_note else ""))]
    if view.redemption:
        rows.append(("赎回", view.redemption))
    return rows


def detail_card(view: WealthProductView, can_buy: bool) -> Rich:
    """The one product a customer asked about: every fact the graph has, 购买 when they may."""
    rows = detail_rows(view)
    text = "\n".join([f"{view.name}：", *(f"{label}：{value}" for label, value in rows)])
    buttons = [choice("购买", buy_send(view))] if can_buy and view.on_sale else []
    buttons.append(choice("看看其他产品", "推荐理财"))
    return rich.card(text, view.name, rows, buttons, product=_product(view))


def comparison(views: Sequence[WealthProductView], heading: str) -> Rich:
    """Products side by side, one row each; the text says each row as a line."""
    # Short cells (182 天, not the graph's sentence about opening days): a phone scrolls the
    # table sideways, and long cells make every row tall.
    rows = [[v.name, v.risk_label, v.expected_yield or "—", v.short_term(), format_amount(v.min_amount)] for v in views]
    lines = [f"{heading}："] + [f"{i}. {v.line()}" for i, v in enumerate(views, 1)]
    return rich.table("\n".join(lines), heading, COMPARE_COLUMNS, rows)
