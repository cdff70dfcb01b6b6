"""Wealth products end to end in Chromium against the real app: the engine's product cards
drawn on a phone, 了解详情 opening the product page, 购买 starting the purchase, a comparison
table, and a reload drawing every card again from `GET /v1/chat/history?rich=true`.
Screenshots: test-artifacts/chat_page_live_wealth_*.png.
"""
from __future__ import annotations

from playwright.sync_api import expect

from tests.api.test_agent_api import _bind_zhang
from tests.api.test_chat_page_live import WAIT_MS, identity, open_page, say
from tests.api.test_chat_page_rich import URL, chromium, no_overflow  # noqa: F401


def test_wealth_cards_work_and_come_back_after_a_reload(chromium, live_server, database, artifacts):
    page = open_page(chromium, live_server)
    say(page, "你好")
    _bind_zhang(database, identity(page)["userId"])  # C3: R1–R3 may be bought
    say(page, "推荐理财")
    cards = page.locator(".card")
    expect(cards.first.locator(".card__title")).to_have_text("示例天天宝", timeout=WAIT_MS)
    titles = cards.locator(".card__title").all_inner_texts()
    assert "示例平衡增利" in titles and "示例进取权益精选" not in titles  # R4: a text line, no card
    assert cards.count() == cards.locator("a.card__link").count() == cards.locator(".choice").count()
    no_overflow(page)
    assert not URL.search(page.locator("#log").inner_text())
    page.screenshot(path=str(artifacts / "chat_page_live_wealth_cards.png"))

    details = cards.first.locator("a.card__link")
    with page.context.expect_page() as opened:
        details.click()
    product = opened.value
    expect(product.locator(".product__name")).to_have_text("示例天天宝", timeout=WAIT_MS)
    expect(product.locator(".product__risk")).to_have_text("R1 低风险")
    product.screenshot(path=str(artifacts / "chat_page_live_wealth_product_page.png"))
    product.close()

    say(page, "在售理财产品比较一下")
    table = page.locator(".rich-table").last
    expect(table.locator("thead th")).to_have_text(["产品", "风险等级", "业绩比较基准", "期限", "起购金额"], timeout=WAIT_MS)
    no_overflow(page)
    page.screenshot(path=str(artifacts / "chat_page_live_wealth_compare.png"))

    say(page, "查看理财产品示例天天宝")
    detail = page.locator(".card").last
    expect(detail.locator(".card__row")).to_have_count(6, timeout=WAIT_MS)
    detail.locator(".choice").filter(has_text="购买").click()
    expect(page.locator(".msg--bot .msg__bubble").last).to_contain_text("请问购买多少", timeout=WAIT_MS)
    page.screenshot(path=str(artifacts / "chat_page_live_wealth_buy.png"))
    drawn = page.locator(".card").count()

    page.reload()
    expect(page.locator(".card")).to_have_count(drawn, timeout=WAIT_MS)
    expect(page.locator(".rich-table")).to_have_count(1)
    assert page.locator(".card .choice").count() == 0  # stale: the purchase asks for an amount now
    assert page.locator("a.card__link").count() == drawn - 1  # the detail card has no page link
    assert not URL.search(page.locator("#log").inner_text())
    no_overflow(page)
    page.screenshot(path=str(artifacts / "chat_page_live_wealth_reload.png"))
    say(page, "取消")
    assert page.errors == []
