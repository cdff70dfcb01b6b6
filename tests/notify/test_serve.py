"""The scheduler inside the app's lifespan (what `chatbot serve` runs), on the demo bank:
张伟 binds on the web page and his statement reminder appears in GET /v1/chat/history as a
bot message, once. Apps built around given services (the tests' apps) run no scheduler."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from chatbot.notify.wiring import start_notifications
from chatbot.settings import Settings
from chatbot.storage.models import Notice
from tests.conftest import web_client_class
from tests.dialogue.conftest import Chat

INTERVAL = 0.2


@pytest.fixture
def settings(database_url, model_dir) -> Settings:
    return Settings(env="sandbox", database_url=database_url, model_dir=model_dir,
                    notify_interval_seconds=INTERVAL)


def _bot_lines(client, user_id: str, containing: str) -> list[dict]:
    response = client.get("/v1/chat/history", params={"user_id": user_id})
    assert response.status_code == 200, response.text
    return [m for m in response.json()["messages"] if m["sender"] == "bot" and containing in m["text"]]


def test_the_scheduler_tells_a_web_customer_in_the_chat_history_once(services, clock):
    from api.app import create_app

    clock.advance(days=12)  # 2026-12-06 10:00: 张伟's statement is due on 12-09
    with web_client_class()(create_app(services=services, notify=True)) as client:
        Chat(client, "zw-web").bind()
        deadline = time.monotonic() + 15
        while not _bot_lines(client, "zw-web", "本期账单") and time.monotonic() < deadline:
            time.sleep(0.1)
        [reminder] = _bot_lines(client, "zw-web", "本期账单")
        assert reminder["text"].startswith("【示例银行】您的信用卡 **** 5678 本期账单 ")
        assert "将于 12月9日到期（还有 3 天），最低还款 " in reminder["text"]
        time.sleep(INTERVAL * 5)  # several more runs
        assert len(_bot_lines(client, "zw-web", "本期账单")) == 1


def test_an_app_around_given_services_runs_no_scheduler(services, clock):
    from api.app import create_app

    clock.advance(days=12)
    with web_client_class()(create_app(services=services)) as client:
        Chat(client, "zw-web").bind()
        time.sleep(INTERVAL * 5)
        assert _bot_lines(client, "zw-web", "本期账单") == []
    with services.database.read() as db:
        assert db.scalar(select(func.count()).select_from(Notice)) == 0


def test_interval_zero_turns_the_scheduler_off(services):
    services.settings.notify_interval_seconds = 0
    assert start_notifications(services, None) is None
    services.settings.notify_interval_seconds = INTERVAL
    scheduler = start_notifications(services, None)
    try:
        deadline = time.monotonic() + 10
        while scheduler.runs < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scheduler.runs >= 2
    finally:
        scheduler.stop()
    assert not scheduler._thread.is_alive()


def test_a_back_office_stage_move_reaches_the_customers_web_history(client, services, clock):
    """王芳 binds on the web page; an admin approves her card application, then mails the card;
    each run of the job puts exactly the new stage into her history (plus the submission of
    3 days ago, still within the lookback)."""
    from chatbot.notify.job import NotifyJob
    from tests.dialogue.conftest import WANG

    Chat(client, "wf-web").bind(WANG)
    token = client.post("/v1/auth/login", json={"username": "admin", "password": "admin-sandbox"}).json()["token"]
    admin = {"Authorization": f"Bearer {token}"}
    [application] = client.get("/v1/admin/applications", params={"kind": "card"}, headers=admin).json()["applications"]
    assert application["stage"] == "reviewing"

    job = NotifyJob(services.database, clock, bus=services.handoff.events)
    assert job.run().sent == 1  # 李娜 has no binding: recorded undeliverable
    [submitted] = _bot_lines(client, "wf-web", "【示例银行】")
    assert "金卡申请已提交" in submitted["text"]

    for stage in ("approved", "producing", "mailed"):
        clock.advance(hours=1)
        moved = client.post(f"/v1/admin/applications/{application['id']}/stage", json={"stage": stage}, headers=admin)
        assert moved.status_code == 200, moved.text
        job.run()
        job.run()
    texts = [m["text"] for m in _bot_lines(client, "wf-web", "【示例银行】")]
    assert len(texts) == 3, texts
    assert "金卡申请已审核通过" in texts[1]
    assert "您申请的金卡（卡号 **** " in texts[2] and "已寄出" in texts[2]
