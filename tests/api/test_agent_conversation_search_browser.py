"""历史会话 in real Chromium (issue 22): an agent searches past conversations at a desk and on a
phone (390x844): words marked in the results, filters as chips, Chinese labels only, a result
opens its transcript, and nothing is wider than the phone. Screenshots:
test-artifacts/agent_console_search_desktop.png and _phone.png.
"""
from datetime import timedelta

import httpx
from playwright.sync_api import expect

from chatbot.storage.models import Handoff
from tests.api.test_agent_api import _bind_zhang
from tests.api.test_agent_console_features_browser import DESK, RAW_CODE, WAIT_MS, Customer

PHONE = {"width": 390, "height": 844}


def _token(services, username: str) -> dict:
    from chatbot.security import tokens
    from chatbot.storage import staff as staff_store

    with services.database.read() as db:
        row = staff_store.by_username(db, username)
    token, _ = tokens.issue(services.settings.secret_key, row.id, row.role, services.clock.now(), timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def _served(base, agent, user_id, lines, reply, end="close") -> int:
    customer = Customer(base, user_id)
    session_id = customer.says("转人工")["session_id"]
    url = f"{base}/v1/agent/sessions/{session_id}"
    assert httpx.post(url + "/accept", headers=agent, timeout=20).status_code == 200
    for line in lines:
        customer.says(line)
    httpx.post(url + "/messages", headers=agent, json={"text": reply}, timeout=20)
    assert httpx.post(f"{url}/{end}", headers=agent, timeout=20).status_code == 200
    return session_id


def _console(browser, base, viewport):
    page = browser.new_page(viewport=viewport, locale="zh-CN", timezone_id="America/New_York", bypass_csp=False)
    page.goto(base + "/agent")
    page.fill("#login-username", "agent1")
    page.fill("#login-password", "agent1-sandbox")
    page.click("#login-submit")
    page.wait_for_selector("#live[data-state='live']", timeout=WAIT_MS)
    return page


def _search(page, words):
    page.click("#open-history")
    page.fill("#history-q", words)
    page.click("#history-search")
    expect(page.locator("#history-chips .chip").first).to_contain_text("内容：" + words, timeout=WAIT_MS)


def _no_overflow(page):
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width


def test_an_agent_searches_past_conversations(live_server, browser, services, database, artifacts):
    wang, li = _token(services, "agent1"), _token(services, "agent2")
    _bind_zhang(database, "bs-zhang")
    zhang = _served(live_server, wang, "bs-zhang", ["信用卡年费怎么收", "卡号6222021000191234"], "年费满六次消费可免")
    with database.write() as db:
        db.query(Handoff).filter(Handoff.session_id == zhang).one().rating = 5
    _served(live_server, wang, "bs-visitor", ["银行卡丢了要挂失"], "已为您办理挂失", end="release")
    _served(live_server, li, "bs-other", ["年费是多少"], "您好")  # 小李's: not 小王's to find

    desk = _console(browser, live_server, DESK)
    desk.click("#open-history")
    expect(desk.locator("#history-results .hit")).to_have_count(2, timeout=WAIT_MS)
    _search(desk, "年费")
    hits = desk.locator("#history-results .hit")
    expect(hits).to_have_count(1)
    expect(hits.first.locator("mark").first).to_have_text("年费")
    expect(hits.first).to_contain_text("张*")
    expect(hits.first).to_contain_text("评分 5 分")
    desk.select_option("#history-status", "closed")
    expect(desk.locator("#history-chips")).to_contain_text("结束方式：已结束")
    expect(hits).to_have_count(1)
    text = desk.locator("#history").inner_text()
    assert not RAW_CODE.findall(text) and "6222021000191234" not in text and "张伟" not in text
    desk.screenshot(path=str(artifacts / "agent_console_search_desktop.png"))
    desk.fill("#history-from", "2026-13-40")
    desk.press("#history-from", "Enter")
    expect(desk.locator("#history-summary.warn")).to_be_visible()  # the server's 422, said in Chinese
    assert not RAW_CODE.findall(desk.locator("#history-summary").inner_text())
    desk.fill("#history-from", "")

    hits.first.click()
    expect(desk.locator("#session-title")).to_contain_text(f"会话 #{zhang}")
    expect(desk.locator("#transcript")).to_contain_text("年费满六次消费可免")
    desk.click("#history-back")
    expect(desk.locator("#history")).to_be_visible()
    desk.locator("#history-chips .chip", has_text="结束方式").click()  # × removes the filter
    expect(desk.locator("#history-chips")).not_to_contain_text("结束方式")

    phone = _console(browser, live_server, PHONE)
    _no_overflow(phone)
    _search(phone, "挂失")
    expect(phone.locator("#history-results .hit")).to_have_count(1)
    expect(phone.locator("#history-results mark").first).to_have_text("挂失")
    _no_overflow(phone)
    phone.screenshot(path=str(artifacts / "agent_console_search_phone.png"), full_page=True)
    phone.locator("#history-results .hit").first.click()
    expect(phone.locator("#transcript")).to_contain_text("已为您办理挂失")
    _no_overflow(phone)
