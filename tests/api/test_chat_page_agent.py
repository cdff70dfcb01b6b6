"""The customer's page while a person serves them, in Chromium against the real server: the
agent's typing sign (客服小王 正在输入…) and their lines under their name.
Screenshot: test-artifacts/chat_page_agent_typing.png."""
from __future__ import annotations

from datetime import timedelta

import httpx
from playwright.sync_api import expect

from tests.api.test_chat_page_live import WAIT_MS, open_page, say
from tests.api.test_chat_page_rich import chromium  # noqa: F401 (the shared browser)


def _agent_headers(services, username: str) -> dict:
    from chatbot.security import tokens
    from chatbot.storage import staff as staff_store

    with services.database.read() as db:
        row = staff_store.by_username(db, username)
    token, _ = tokens.issue(services.settings.secret_key, row.id, row.role, services.clock.now(), timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def test_the_agent_typing_and_their_name_show_on_the_page(chromium, live_server, services, artifacts):
    page = open_page(chromium, live_server)
    say(page, "转人工")
    agent = _agent_headers(services, "agent1")
    with httpx.Client(base_url=live_server, headers=agent, timeout=20) as desk:
        [waiting] = desk.get("/v1/agent/queue").json()["queue"]  # a fresh bank: this customer only
        session_id = waiting["session_id"]
        assert desk.post(f"/v1/agent/sessions/{session_id}/accept").status_code == 200
        assert desk.post(f"/v1/agent/sessions/{session_id}/typing").status_code == 204
        typing = page.locator(".msg.typing")
        expect(typing).to_contain_text("正在输入", timeout=WAIT_MS)
        expect(typing).to_contain_text("客服小王", timeout=WAIT_MS)
        page.screenshot(path=str(artifacts / "chat_page_agent_typing.png"))
        assert desk.post(f"/v1/agent/sessions/{session_id}/messages", json={"text": "您好，我是客服小王"}).status_code == 200
    expect(page.locator(".msg.typing")).to_have_count(0, timeout=WAIT_MS)
    line = page.locator(".msg--agent").last
    expect(line).to_contain_text("您好，我是客服小王", timeout=WAIT_MS)
    expect(line).to_contain_text("客服小王", timeout=WAIT_MS)
    assert page.errors == []
    page.context.close()
