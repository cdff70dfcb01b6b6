"""The chat page against the real server in Chromium: 退出 and a lapsed binding end to end,
and the rich replies the engine sends drawn as such. The server is the real app (with
POST /v1/chat/logout mounted, as api/app.py will) on uvicorn in a thread, a fresh seeded
database per test; the page's clock is the server's fixed clock, so "今天" means its day.
Screenshots: test-artifacts/chat_page_live_*.png.
"""
from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from chatbot.storage.models import ChannelBinding
from tests.api.test_agent_api import _bind_zhang
from tests.api.test_chat_page_rich import PHONE, URL, chromium, no_overflow  # noqa: F401
from tests.api.test_chat_session import app_with_logout
from tests.conftest import FIXED_NOW, free_port

WAIT_MS = 20000  # a loaded 2-core machine: the real engine answers each message


@pytest.fixture
def served(services, chromium):
    """The app with the logout route, served like `chatbot serve` (as conftest's live_server)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app_with_logout(services), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    for context in chromium.contexts:  # their event streams first, so the server stops at once
        context.close()
    server.should_exit = True
    thread.join(timeout=10)


def open_page(chromium, base: str):
    """A phone page under the server's real Content-Security-Policy; `page.errors`: its uncaught errors."""
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.clock.install(time=FIXED_NOW)
    page.goto(base + "/")
    page.locator(".msg--bot").first.wait_for(timeout=WAIT_MS)
    return page


def say(page, words: str) -> None:
    answered = page.locator(".msg--user:not(.msg--pending)").count() + 1
    page.fill("#input", words)
    page.press("#input", "Enter")
    expect(page.locator(".msg--user:not(.msg--pending)")).to_have_count(answered, timeout=WAIT_MS)
    expect(page.locator(".typing")).to_have_count(0, timeout=WAIT_MS)


def identity(page) -> dict:
    return json.loads(page.evaluate("localStorage.getItem('chatbot.identity')"))


def bound(database, user_id: str) -> bool:
    with database.read() as db:
        return db.scalar(select(ChannelBinding).where(ChannelBinding.user_id == user_id)) is not None


def test_logout_unbinds_on_the_server_and_leaves_nothing_on_the_page(chromium, served, database, artifacts):
    page = open_page(chromium, served)
    say(page, "你好")
    me = identity(page)
    _bind_zhang(database, me["userId"])
    say(page, "查一下余额")
    expect(page.locator("#log")).to_contain_text("52,380.50", timeout=WAIT_MS)
    assert not URL.search(page.locator("#log").inner_text())
    no_overflow(page)
    page.screenshot(path=str(artifacts / "chat_page_live_balance.png"))

    page.click("#logout")
    page.click("#logout-confirm")
    expect(page.locator(".msg--notice")).to_contain_text("您已安全退出", timeout=WAIT_MS)
    assert "52,380.50" not in page.locator("#log").inner_text()
    assert identity(page)["userId"] != me["userId"] and identity(page)["token"] is None
    assert not bound(database, me["userId"])
    # Whoever copied the old token holds an unbound visitor: an account question asks to bind.
    again = httpx.post(served + "/v1/chat", json={"user_id": me["userId"], "text": "余额"},
                       headers={"Authorization": "Bearer " + me["token"]}, timeout=20).json()
    said = "\n".join(item["text"] for item in again["replies"])
    assert "52,380.50" not in said and "绑定" in said
    page.reload()
    page.locator(".msg--bot").first.wait_for(timeout=WAIT_MS)
    assert "52,380.50" not in page.locator("#log").inner_text()
    assert page.errors == []


def test_a_binding_that_lapsed_is_said_on_the_page(chromium, served, database, services, artifacts):
    page = open_page(chromium, served)
    say(page, "你好")
    _bind_zhang(database, identity(page)["userId"])
    say(page, "查一下余额")
    expect(page.locator("#log")).to_contain_text("52,380.50", timeout=WAIT_MS)
    services.clock.advance(minutes=services.settings.web_binding_idle_minutes + 1)
    page.clock.fast_forward((services.settings.web_binding_idle_minutes + 1) * 60_000)
    say(page, "查一下余额")
    lapsed = page.locator(".msg--lapsed")
    expect(lapsed).to_have_count(1, timeout=WAIT_MS)
    expect(lapsed.locator(".lapsed__title")).to_have_text("身份验证已过期")
    expect(page.locator(".msg--bot .msg__bubble").last).to_contain_text("姓名")  # binding again, asked at once
    assert page.errors == []
    page.screenshot(path=str(artifacts / "chat_page_live_lapsed.png"))


def test_the_engines_rich_replies_are_drawn_and_work(chromium, live_server, database, artifacts):
    """What the engine sends (docs/rich_replies.md), drawn and tapped: welcome chips, a balance
    card, 确认/修改/取消 under a read-back, download links, a comparison table, a knowledge
    answer's 相关问题 and 有帮助吗 (kept by the server)."""
    page = open_page(chromium, live_server)
    say(page, "你好")
    chips = page.locator(".msg--bot").last.locator(".chip")
    expect(chips.filter(has_text="查余额")).to_have_count(1, timeout=WAIT_MS)
    _bind_zhang(database, identity(page)["userId"])
    chips.filter(has_text="查余额").click()
    expect(page.locator(".msg--user .msg__bubble").last).to_have_text("查余额", timeout=WAIT_MS)
    expect(page.locator("#log")).to_contain_text("52,380.50", timeout=WAIT_MS)  # with the loan: text
    say(page, "储蓄卡余额")
    expect(page.locator(".card").last).to_contain_text("52,380.50", timeout=WAIT_MS)

    say(page, "给李娜转100")
    buttons = page.locator(".msg--bot").last.locator(".choice")
    expect(buttons).to_have_text(["确认", "修改", "取消"], timeout=WAIT_MS)
    buttons.filter(has_text="取消").click()
    expect(page.locator(".msg--user .msg__bubble").last).to_have_text("取消", timeout=WAIT_MS)
    expect(page.locator(".choice")).to_have_count(0, timeout=WAIT_MS)

    say(page, "上个月的明细")
    say(page, "导出")
    links = page.locator(".msg--bot").last.locator("a.rich-link")
    expect(links).to_have_count(2, timeout=WAIT_MS)
    assert all("/v1/exports/" in links.nth(n).get_attribute("href") for n in (0, 1))

    say(page, "金卡和白金卡有什么区别")
    expect(page.locator(".msg--bot").last.locator(".rich-table th").first).to_be_visible(timeout=WAIT_MS)
    say(page, "挂失要收费吗")
    answer = page.locator(".msg--bot").last
    expect(answer.locator(".feedback")).to_contain_text("有帮助吗", timeout=WAIT_MS)
    answer.locator(".feedback__button[data-helpful='true']").click()
    expect(answer.locator(".feedback")).to_have_text("感谢您的反馈", timeout=WAIT_MS)
    assert not URL.search(page.locator("#log").inner_text())
    no_overflow(page)
    page.screenshot(path=str(artifacts / "chat_page_live_rich.png"))

    # Drawn from the answers, confirmed by the transcript: a reload draws the same lines.
    bot_lines = page.locator(".msg--bot:not(.typing)").count()
    page.reload()
    expect(page.locator(".msg--bot")).to_have_count(bot_lines - 1, timeout=WAIT_MS)  # no welcome line
    assert not URL.search(page.locator("#log").inner_text())  # links in plain text: labelled buttons
    assert page.errors == []
    page.context.close()  # its event stream, before conftest's live_server stops
