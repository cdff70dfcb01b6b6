"""The chat page's transcript and frame, in real Chromium against the fake chat API of
test_chat_page_rich.py (no server): days, times, who wrote each line, the queue and agent
state, a scroll that leaves a reader alone, a phone-correct composer, a lapsed binding and
退出. Screenshots: test-artifacts/chat_page_*.png.
"""
from __future__ import annotations

import json
from datetime import timedelta

from playwright.sync_api import expect

from chatbot.engine import BINDING_LAPSED
from tests.api.test_chat_page_rich import (DESK, NOW, PHONE, TOKEN, URL, WAIT_MS, FakeBank, _close_pages,  # noqa: F401
                                           chromium, no_overflow, open_page, say, text, visible_text)

ME = {"userId": "web-fake", "token": TOKEN}


def poll(page) -> None:
    """Let the page's history poll (every 3 s without a live stream) run now."""
    page.clock.run_for(3100)


def test_history_shows_days_times_and_who_wrote_each_line(chromium, artifacts):
    bank = FakeBank()
    yesterday, today = NOW - timedelta(days=1), NOW
    bank.add("user", "查一下余额", yesterday.replace(hour=9, minute=30))
    bank.add("bot", "储蓄卡 **** 1234：可用余额 52,380.50 元", yesterday.replace(hour=9, minute=30))
    bank.add("user", "转人工", today.replace(hour=9, minute=52))
    bank.add("bot", "好的，已为您排队等候人工客服，当前第 1 位，预计等待约 1 分钟。", today.replace(hour=9, minute=52))
    bank.add("bot", "客服小王已接入，为您服务。", today.replace(hour=9, minute=53))
    bank.add("agent", "您好，我是客服小王，我来帮您看一下。", today.replace(hour=9, minute=54), agent="小王")
    bank.add("agent", "请问还有什么可以帮您？", today.replace(hour=9, minute=58))  # a server without names
    bank.status.update(mode="agent", agent="小王")
    page = open_page(chromium, bank, identity=ME)
    expect(page.locator(".msg--agent")).to_have_count(2, timeout=WAIT_MS)

    assert page.locator(".day").all_inner_texts() == ["昨天", "今天"]
    assert page.locator(".msg--bot .msg__time").all_inner_texts() == ["09:30", "09:52", "09:53"]
    assert page.locator(".msg--user").evaluate_all("items => items.map(i => i.dataset.time)") == ["09:30", "09:52"]
    assert page.locator(".msg--agent .msg__who").all_inner_texts() == ["客服小王", "人工客服"]
    assert page.locator(".msg--agent .msg__avatar").all_inner_texts() == ["王", "客"]
    assert set(page.locator(".msg--bot .msg__avatar").all_inner_texts()) == {"银"}
    expect(page.locator("#status")).to_have_text("客服小王服务中")
    assert page.locator("#banner").is_hidden()
    assert page.locator("#logout").is_visible()
    no_overflow(page)
    page.screenshot(path=str(artifacts / "chat_page_history_agent.png"))

    # Older than yesterday: the date, with the weekday; another year: with the year.
    bank.history.clear()
    bank.add("bot", "上周的消息", NOW - timedelta(days=4))
    bank.add("bot", "去年的消息", NOW - timedelta(days=365))
    page2 = open_page(chromium, bank, DESK, identity=ME)
    expect(page2.locator(".day")).to_have_text(["11月20日 周五", "2025年11月24日 周一"], timeout=WAIT_MS)
    assert bank.errors == []



def test_a_line_the_server_dates_otherwise_moves_under_its_day(chromium):
    """Drawn with the device's time, confirmed with the server's: the date lines follow."""
    bank = FakeBank()
    bank.add("bot", "昨天的消息", NOW - timedelta(days=1))
    page = open_page(chromium, bank, identity=ME)
    expect(page.locator(".day")).to_have_text(["昨天"], timeout=WAIT_MS)
    bank.now = NOW - timedelta(hours=11)  # the server's clock says it is still yesterday
    say(page, "你好")
    expect(page.locator(".msg--user[data-id]")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator(".day")).to_have_text(["昨天"])
    assert page.locator(".msg--user").get_attribute("data-time") == "23:00"


def test_queue_state_is_visible_and_can_be_left(chromium, artifacts):
    bank = FakeBank()
    bank.add("user", "转人工")
    bank.add("bot", "好的，已为您排队等候人工客服，当前第 2 位，预计等待约 3 分钟。\n等待期间回复“取消”可退出排队。")
    bank.status.update(mode="queued", position=2, estimated_wait_minutes=3, agents_online=1)
    bank.answer("取消", text("已为您取消排队，我会继续为您服务。"))
    page = open_page(chromium, bank, identity=ME)
    expect(page.locator("#banner-text")).to_have_text("正在排队 · 第 2 位 · 预计等待约 3 分钟", timeout=WAIT_MS)
    expect(page.locator("#status")).to_have_text("正在排队…")
    page.screenshot(path=str(artifacts / "chat_page_queued.png"))
    bank.status.update(mode="bot", position=None)
    page.click("#cancel-wait")
    expect(page.locator("#banner")).to_be_hidden(timeout=WAIT_MS)
    assert bank.said == ["取消"]
    expect(page.locator("#status")).to_have_text("在线")


def test_a_customer_reading_history_is_not_pulled_down(chromium, artifacts):
    bank = FakeBank()
    for n in range(1, 21):
        bank.add("user", f"第 {n} 个问题")
        bank.add("bot", f"第 {n} 个回答：" + "示例银行的说明文字。" * 3)
    page = open_page(chromium, bank, identity=ME)
    log = page.locator("#log")
    expect(page.locator(".msg--bot")).to_have_count(20, timeout=WAIT_MS)
    assert log.evaluate("l => l.scrollHeight - l.scrollTop - l.clientHeight") < 2  # opened at the end

    log.evaluate("l => { l.scrollTop = 0; }")
    bank.add("agent", "您好，我是客服小王。", agent="小王")
    poll(page)
    expect(page.locator("#new-pill")).to_have_text("新消息 ↓", timeout=WAIT_MS)
    assert log.evaluate("l => l.scrollTop") == 0  # still reading where they were
    bank.add("agent", "请问有什么可以帮您？", agent="小王")
    poll(page)
    expect(page.locator("#new-pill")).to_have_text("2 条新消息 ↓", timeout=WAIT_MS)
    page.screenshot(path=str(artifacts / "chat_page_new_messages.png"))
    page.click("#new-pill")
    expect(page.locator("#new-pill")).to_be_hidden()
    page.wait_for_function("() => { const l = document.getElementById('log');"
                           " return l.scrollHeight - l.scrollTop - l.clientHeight < 2; }", timeout=WAIT_MS)

    # At the end, new lines are followed without a pill; the customer's own always are.
    bank.add("agent", "已为您查询完毕。", agent="小王")
    poll(page)
    expect(page.locator(".msg--agent")).to_have_count(3, timeout=WAIT_MS)
    assert page.locator("#new-pill").is_hidden()
    log.evaluate("l => { l.scrollTop = 0; }")
    say(page, "谢谢")
    expect(page.locator(".msg--user .msg__bubble").last).to_have_text("谢谢")
    page.wait_for_function("() => { const l = document.getElementById('log');"
                           " return l.scrollHeight - l.scrollTop - l.clientHeight < 2; }", timeout=WAIT_MS)


def test_the_composer_is_phone_correct(chromium, artifacts):
    page = open_page(chromium, FakeBank())
    box = page.locator("#input")
    assert box.evaluate("e => getComputedStyle(e).fontSize") == "16px"  # iOS zooms into smaller boxes
    assert page.locator(".chat").evaluate("e => e.getBoundingClientRect().height") == PHONE["height"]
    rules = page.evaluate("""() => [...document.styleSheets].flatMap(s => [...s.cssRules]).map(r => r.cssText)
                             .join('\\n')""")
    assert "100dvh" in rules
    for side in ("top", "bottom", "left", "right"):
        assert f"env(safe-area-inset-{side})" in rules
    one_line = box.evaluate("e => e.offsetHeight")
    box.fill("第一行\n第二行\n第三行")
    three_lines = box.evaluate("e => e.offsetHeight")
    box.fill("\n".join(["很长的一段话"] * 12))
    capped = box.evaluate("e => e.offsetHeight")
    assert one_line < three_lines < capped <= one_line + 4 * 24 + 2  # grows to five lines, then scrolls
    assert box.evaluate("e => e.scrollHeight > e.clientHeight")
    box.fill("余" * 460)
    expect(page.locator("#counter")).to_have_text("460/500")
    assert "chat__counter--near" in page.get_attribute("#counter", "class")
    page.screenshot(path=str(artifacts / "chat_page_composer.png"))
    say(page, "你好")
    expect(page.locator(".msg--user .msg__bubble")).to_have_count(1, timeout=WAIT_MS)
    assert box.evaluate("e => e.offsetHeight") == one_line  # sent: back to one line


def test_a_lapsed_binding_is_said_plainly_and_asks_for_a_fresh_code(chromium, artifacts):
    bank = FakeBank()
    bank.add("user", "查一下余额", NOW - timedelta(minutes=30))
    bank.add("bot", "储蓄卡 **** 1234：可用余额 52,380.50 元", NOW - timedelta(minutes=30))
    bank.answer("你好", text(BINDING_LAPSED), text("您好！请问有什么可以帮您？"))
    bank.answer("余额", text(BINDING_LAPSED), text("查询余额需要先绑定您的银行账户。请告诉我您的姓名。"),
                active_flow="account.bind")
    bank.answer("验证身份", text("好的，请告诉我您的姓名。"), active_flow="account.bind")
    page = open_page(chromium, bank, identity=ME)

    say(page, "你好")
    lapsed = page.locator(".msg--lapsed")
    expect(lapsed).to_have_count(1, timeout=WAIT_MS)
    assert lapsed.locator(".lapsed__title").inner_text() == "身份验证已过期"
    again = page.locator(".lapsed__again .choice")
    expect(again).to_have_text("重新验证身份（获取新验证码）")
    page.screenshot(path=str(artifacts / "chat_page_lapsed.png"))
    again.click()
    expect(page.locator(".msg--bot .msg__bubble").last).to_contain_text("请告诉我您的姓名", timeout=WAIT_MS)
    assert bank.said[-1] == "验证身份"

    say(page, "余额")  # the answer asks for the name itself: no second way in
    expect(page.locator(".msg--lapsed")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator(".msg--bot .msg__bubble").last).to_contain_text("请告诉我您的姓名")
    assert page.locator(".lapsed__again").count() == 0


def test_logout_clears_the_transcript_and_the_identity(chromium, artifacts):
    bank = FakeBank()
    bank.add("user", "查一下余额")
    bank.add("bot", "储蓄卡 **** 1234：可用余额 52,380.50 元")
    page = open_page(chromium, bank, identity=ME)
    expect(page.locator(".msg--bot .msg__bubble")).to_contain_text(["52,380.50"], timeout=WAIT_MS)
    page.click("#logout")
    expect(page.locator("#logout-sheet")).to_be_visible()
    page.screenshot(path=str(artifacts / "chat_page_logout_confirm.png"))
    page.click("#logout-cancel")
    expect(page.locator("#logout-sheet")).to_be_hidden()
    assert "52,380.50" in visible_text(page)

    page.click("#logout")
    page.click("#logout-confirm")
    expect(page.locator(".msg--notice")).to_contain_text("您已安全退出", timeout=WAIT_MS)
    assert bank.logouts == ["Bearer " + TOKEN]
    assert "52,380.50" not in visible_text(page) and "查一下余额" not in visible_text(page)
    saved = json.loads(page.evaluate("localStorage.getItem('chatbot.identity')"))
    assert saved["userId"] != ME["userId"] and saved["token"] is None
    assert page.locator("#logout").is_hidden()
    page.screenshot(path=str(artifacts / "chat_page_logged_out.png"))
    page.reload()  # nothing of the earlier customer comes back
    page.locator(".msg--bot").first.wait_for(timeout=WAIT_MS)
    poll(page)
    assert "52,380.50" not in visible_text(page)
    assert not URL.search(visible_text(page))
    assert bank.errors == []
