"""Every panel of the agent console, on a phone (390x844) and at a desk, in real Chromium
against the real app: login, queue, the conversation with its composer, the customer
context, quick replies ("/"), a private note, transfer with a note, 历史会话 search, quick
reply management, presence. Each is checked the way an agent sees it (Chinese labels, no
internal codes or raw URLs, nothing wider than the screen) and saved as
test-artifacts/agent_panel_<panel>_<phone|desktop>.png.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.api.test_agent_api import _bind_zhang
from tests.api.test_agent_console_features_browser import RAW_CODE, Customer, open_card

WAIT_MS = 20000
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 820}}


def _fits(page) -> None:
    """Nothing wider than the screen: the page never scrolls sideways."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths


def _reads_well(page) -> None:
    text = page.locator("body").inner_text()
    assert not RAW_CODE.findall(text), RAW_CODE.findall(text)
    assert "[object Object]" not in text and "http" not in text and "undefined" not in text


def _shot(page, artifacts, panel: str, size: str, target=None, scroll_to=None) -> None:
    """The screen (scrolled to `scroll_to` first), or just the `target` element."""
    _fits(page)
    _reads_well(page)
    path = str(artifacts / f"agent_panel_{panel}_{size}.png")
    if scroll_to is not None:  # in the middle of the screen, with what is around it
        scroll_to.evaluate("node => node.scrollIntoView({block: 'center'})")
    (target.screenshot(path=path) if target is not None else page.screenshot(path=path))


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_console_panel(live_server, browser, database, artifacts, size):
    page = browser.new_page(viewport=VIEWPORTS[size], locale="zh-CN", timezone_id="Asia/Shanghai",
                            bypass_csp=False)
    page.goto(live_server + "/agent")
    page.wait_for_selector("#login-form")
    _shot(page, artifacts, "login", size)
    page.fill("#login-username", "agent1")
    page.fill("#login-password", "agent1-sandbox")
    page.click("#login-submit")
    page.wait_for_selector("#live[data-state='live']", timeout=WAIT_MS)

    user = f"panel-{size}"
    _bind_zhang(database, user)
    customer = Customer(live_server, user)
    customer.says("你好")
    customer.says("给李娜转100")
    customer.says("转人工")
    Customer(live_server, f"panel-visitor-{size}").says("人工客服")
    expect(page.locator("#queue-list .card")).to_have_count(2, timeout=WAIT_MS)
    _shot(page, artifacts, "queue", size, page.locator(".side") if size == "phone" else None)

    open_card(page, "queue-list", "张*")
    page.click("#accept")
    page.wait_for_selector("#composer:not([hidden])", timeout=WAIT_MS)
    page.fill("#reply", "您好，我是客服小王，我来帮您核对这笔转账。")
    page.press("#reply", "Enter")
    expect(page.locator("#transcript .line--agent").last).to_contain_text("核对这笔转账", timeout=WAIT_MS)
    expect(page.locator("#ctx-flow")).to_contain_text("100.00 元", timeout=WAIT_MS)
    _shot(page, artifacts, "conversation", size)
    _shot(page, artifacts, "context", size, page.locator("#context"))

    page.fill("#reply", "/防诈")
    expect(page.locator("#canned-popup .canned-popup__item")).to_have_count(1, timeout=WAIT_MS)
    _shot(page, artifacts, "quick_replies", size, scroll_to=page.locator("#composer"))
    page.press("#reply", "Escape")
    page.fill("#reply", "")

    page.click("#mode-note")
    page.fill("#reply", "客户要核对给李娜的转账，身份已核实")
    page.press("#reply", "Enter")
    expect(page.locator("#transcript .line--note").last).to_contain_text("内部备注", timeout=WAIT_MS)
    _shot(page, artifacts, "note", size, scroll_to=page.locator("#transcript .line--note").last)
    page.click("#mode-reply")

    page.click("#transfer")
    expect(page.locator("#transfer-panel")).to_be_visible()
    page.fill("#transfer-note", "客户要核对转账，身份已核实")
    _shot(page, artifacts, "transfer", size, scroll_to=page.locator("#transfer-panel"))
    page.click("#transfer-cancel")

    page.select_option("#presence", "busy")
    expect(page.locator("#presence-box")).to_have_attribute("data-status", "busy", timeout=WAIT_MS)
    _shot(page, artifacts, "presence", size, page.locator(".topbar") if size == "phone" else None)
    page.select_option("#presence", "online")

    page.click("#close")  # finished: the conversation is now in 历史会话
    expect(page.locator("#composer")).to_be_hidden(timeout=WAIT_MS)
    page.click("#open-history")
    expect(page.locator("#history")).to_be_visible()
    page.fill("#history-q", "转账")
    page.click("#history-search")
    expect(page.locator("#history-results li").first).to_contain_text("转账", timeout=WAIT_MS)
    _shot(page, artifacts, "history", size)
    page.click("#history-done")

    page.click("#manage-canned")
    expect(page.locator("#canned-admin")).to_be_visible()
    expect(page.locator("#canned-admin-list li").first).to_be_visible(timeout=WAIT_MS)
    _shot(page, artifacts, "canned_admin", size)
    page.click("#canned-done")
    assert re.search(r"客服", page.title())
    page.close()
