"""The agent console in real Chromium at a desk (issue 22): what agents saw wrong, fixed, and
what Chatwoot users expect. Customers talk over HTTP (their page has its own tests); the
consoles are real pages under the real Content-Security-Policy, in a time zone other than
Beijing's. Screenshots: test-artifacts/agent_console_*.png.
"""
import re
from datetime import datetime

import httpx
from playwright.sync_api import expect

from chatbot.storage.models import ChatSession
from tests.api.test_agent_api import _bind_zhang

WAIT_MS = 20000
DESK = {"width": 1366, "height": 820}
# What an internal code looks like on a page: transfer.create, in_flow, handoff_cancelled.
RAW_CODE = re.compile(r"\b[a-z]+(?:[._][a-z]+)+\b")


class Customer:
    """A web customer over HTTP, carrying their user token like the chat page."""

    def __init__(self, base: str, user_id: str) -> None:
        self.base, self.user_id, self.token = base, user_id, None

    def says(self, text: str) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = httpx.post(f"{self.base}/v1/chat", json={"user_id": self.user_id, "text": text},
                              headers=headers, timeout=20)
        assert response.status_code == 200, response.text
        self.token = response.json().get("user_token") or self.token
        return response.json()

    def history(self) -> list[dict]:
        response = httpx.get(f"{self.base}/v1/chat/history", params={"user_id": self.user_id},
                             headers={"Authorization": f"Bearer {self.token}"}, timeout=20)
        return response.json()["messages"]


def console(browser, base: str, username: str):
    page = browser.new_page(viewport=DESK, locale="zh-CN", timezone_id="America/New_York", bypass_csp=False)
    page.goto(base + "/agent")
    page.fill("#login-username", username)
    page.fill("#login-password", f"{username}-sandbox")
    page.click("#login-submit")
    page.wait_for_selector("#live[data-state='live']", timeout=WAIT_MS)
    return page


def open_card(page, list_id: str, text: str):
    card = page.locator(f"#{list_id} .card", has_text=text)
    card.wait_for(timeout=WAIT_MS)
    card.click()


def no_raw_codes(page):
    text = page.locator("#desk-view").inner_text()
    assert not RAW_CODE.findall(text), RAW_CODE.findall(text)
    assert "[object Object]" not in text and "http" not in text


def _earlier_session(database, user_id: str, at: str) -> None:
    with database.write() as db:
        when = datetime.fromisoformat(at)
        db.add(ChatSession(channel="web", user_id=user_id, status="closed", mode="bot", state={},
                           created_at=when, last_active_at=when))


def test_the_console_at_a_desk(live_server, browser, database, artifacts):
    """One server, two agents' consoles (小王 and 小李), for everything: starting a browser and
    logging in cost seconds each, and the suite's budget is tight."""
    wang, li = console(browser, live_server, "agent1"), console(browser, live_server, "agent2")
    what_agents_saw_is_fixed(live_server, database, artifacts, wang, li)
    what_chatwoot_users_expect(live_server, database, artifacts, wang, li)


def what_agents_saw_is_fixed(live_server, database, artifacts, wang, li):
    _bind_zhang(database, "fix-1")
    _earlier_session(database, "fix-1", "2026-11-23T17:30:00+00:00")  # 01:30 on the 24th in Beijing
    customer = Customer(live_server, "fix-1")
    customer.says("你好")
    customer.says("给李娜转100")
    customer.says("转人工")

    open_card(wang, "queue-list", "转人工")
    wang.click("#accept")
    wang.wait_for_selector("#composer:not([hidden])", timeout=WAIT_MS)
    flow = wang.locator("#ctx-flow")
    expect(flow).to_contain_text("李娜（账号 **** 8888）", timeout=WAIT_MS)
    expect(flow).to_contain_text("100.00 元")
    expect(flow).to_contain_text("等待客户确认")
    expect(wang.locator("#ctx-flows")).to_contain_text("转账 · 办理中")
    expect(wang.locator("#ctx-understanding")).to_contain_text("收款人：李娜")
    wang.fill("#reply", "您好，我来帮您核对这笔转账。")
    wang.press("#reply", "Enter")
    expect(wang.locator("#transcript .line--agent .line__who").last).to_contain_text("客服小王", timeout=WAIT_MS)
    # Bank time whatever the agent's computer says (this browser runs in New York).
    expect(wang.locator("#transcript .line__who").first).to_contain_text("11-24 10:00:00")
    expect(wang.locator("#ctx-sessions")).to_contain_text("2026-11-24 01:30")
    no_raw_codes(wang)
    wang.screenshot(path=str(artifacts / "agent_console_fixed.png"))

    wang.click("#transfer")
    wang.select_option("#transfer-to", "agent2")
    wang.fill("#transfer-note", "客户要核对给李娜的 100 元转账，身份已核实")
    wang.screenshot(path=str(artifacts / "agent_console_transfer_note.png"))
    wang.click("#transfer-confirm")
    expect(wang.locator("#notice")).to_contain_text("已转接给客服小李", timeout=WAIT_MS)
    expect(wang.locator("#session-empty")).to_be_visible()
    expect(wang.locator("#composer")).to_be_hidden()
    expect(wang.locator("#notice.notice--error")).to_have_count(0)
    expect(wang.locator("#mine-list .card")).to_have_count(0, timeout=WAIT_MS)
    wang.wait_for_timeout(500)  # the live mode event arrives too: still no red error
    expect(wang.locator("#notice.notice--error")).to_have_count(0)
    wang.screenshot(path=str(artifacts / "agent_console_after_transfer.png"))

    expect(li.locator("#notice")).to_contain_text("客服小王转给您一个会话", timeout=WAIT_MS)
    open_card(li, "mine-list", "转人工")
    expect(li.locator("#composer")).to_be_visible(timeout=WAIT_MS)
    expect(li.locator("#transcript .line--agent .line__who").last).to_contain_text("客服小王")
    note = li.locator("#transcript .line--note")
    expect(note).to_contain_text("转接备注 · 客服小王 → 客服小李")
    expect(note).to_contain_text("身份已核实")

    # A private note: on both agents' screens, never the customer's.
    li.click("#mode-note")
    li.fill("#reply", "客户情绪平稳，转账前再核对一次收款账号")
    li.press("#reply", "Enter")
    expect(li.locator("#transcript .line--note").last).to_contain_text("内部备注 · 客服小李")
    li.screenshot(path=str(artifacts / "agent_console_private_note.png"))
    said = " ".join(m["text"] for m in customer.history())
    assert "身份已核实" not in said and "核对一次收款账号" not in said
    no_raw_codes(li)


def what_chatwoot_users_expect(live_server, database, artifacts, wang, li):
    _bind_zhang(database, "cw-2")
    customer, zhang = Customer(live_server, "cw-1"), Customer(live_server, "cw-2")
    customer.says("转人工")
    zhang.says("人工客服")
    zhang.says("在吗？信用卡账单有问题")

    # New customers: named (masked) cards with unread counts, the title, an alert; waits tick.
    zhang_card = wang.locator("#queue-list .card", has_text="张*")
    expect(zhang_card.locator(".unread")).to_have_text("2", timeout=WAIT_MS)
    expect(wang.locator("#queue-list .card", has_text="网页访客").locator(".unread")).to_have_text("1")
    expect(wang).to_have_title("(3) 示例银行 · 人工客服工作台")
    assert int(wang.locator("body").get_attribute("data-alerts")) >= 1
    before = zhang_card.locator(".card__wait").inner_text()
    expect(zhang_card.locator(".card__wait")).not_to_have_text(before, timeout=3000)
    assert re.fullmatch(r"第 2 位 · 已等 \d+ 秒", zhang_card.locator(".card__wait").inner_text())
    no_raw_codes(wang)
    wang.screenshot(path=str(artifacts / "agent_console_queue_cards.png"))

    open_card(wang, "queue-list", "网页访客")
    wang.click("#accept")
    wang.wait_for_selector("#composer:not([hidden])", timeout=WAIT_MS)
    expect(wang).to_have_title("(2) 示例银行 · 人工客服工作台")
    expect(wang.locator("#mine-list .card .unread")).to_have_count(0)

    # Quick replies: "/" searches them, Enter inserts; one added on one console is live on the other.
    wang.fill("#reply", "/防诈")
    expect(wang.locator("#canned-popup .canned-popup__item")).to_have_count(1, timeout=WAIT_MS)
    expect(wang.locator("#canned-popup")).to_contain_text("防诈提醒")
    wang.screenshot(path=str(artifacts / "agent_console_quick_reply_search.png"))
    wang.press("#reply", "Enter")
    expect(wang.locator("#reply")).to_have_value(re.compile("^温馨提示：银行工作人员不会索要"))
    wang.press("#reply", "Enter")
    expect(wang.locator("#transcript .line--agent")).to_contain_text("谨防诈骗", timeout=WAIT_MS)
    assert any("谨防诈骗" in m["text"] for m in customer.history())

    li.click("#manage-canned")
    li.fill("#canned-title", "营业时间")
    li.fill("#canned-text", "网点营业时间一般为工作日 9:00–17:00，具体以网点公告为准。")
    li.click("#canned-save")
    expect(li.locator("#canned-admin-list")).to_contain_text("营业时间", timeout=WAIT_MS)
    li.screenshot(path=str(artifacts / "agent_console_quick_reply_manage.png"))
    wang.fill("#reply", "/营业")
    expect(wang.locator("#canned-popup")).to_contain_text("网点营业时间一般为工作日", timeout=WAIT_MS)
    wang.press("#reply", "Escape")
    expect(wang.locator("#canned-popup")).to_be_hidden()
    wang.fill("#reply", "")
    no_raw_codes(wang)

    # Presence: 忙碌 / 离开 agents take nobody new and leave the customers' wait estimate.
    li.select_option("#presence", "busy")
    expect(li.locator("#notice")).to_contain_text("不接待新客户", timeout=WAIT_MS)
    expect(wang.locator("#team-list li", has_text="小李")).to_contain_text("忙碌", timeout=WAIT_MS)
    wang.select_option("#presence", "away")
    expect(wang.locator("#presence-box")).to_have_attribute("data-status", "away", timeout=WAIT_MS)
    late = Customer(live_server, "cw-3")
    assert "暂无人工客服在线" in late.says("转人工")["replies"][0]["text"]
    expect(wang.locator("#team-list li", has_text="小王")).to_contain_text("离开", timeout=WAIT_MS)
    expect(wang.locator("#queue-count")).to_have_text("2", timeout=WAIT_MS)
    wang.screenshot(path=str(artifacts / "agent_console_presence.png"))
    wang.select_option("#presence", "online")
    expect(li.locator("#team-list li", has_text="小王")).to_contain_text("在线", timeout=WAIT_MS)
    status = httpx.get(f"{live_server}/v1/chat/status", headers={"Authorization": f"Bearer {late.token}"},
                       timeout=20).json()
    assert status["estimated_wait_minutes"] == 1 and status["agents_online"] == 1
    no_raw_codes(wang)
