"""SMS gateways: the sandbox inbox keeps codes sealed and briefly; the webhook posts after commit."""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from chatbot.security.keys import phone_digest
from chatbot.security.otp import OtpService
from chatbot.settings import SANDBOX_DATA_KEY, Settings
from chatbot.storage import outbox, sms
from chatbot.storage.models import SmsMessage, SmsOutbox
from chatbot.tools.sms_webhook import MAX_AGE, WebhookGateways

PHONE = "13800138000"
ZHANG = ("张伟", "110105199003071239")
SECRET = "q7Vd-2mXo9LpZt4rWc8yNb1KfHs6JgEa"
CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


# --- the sandbox inbox ---------------------------------------------------------------------------

def _bind_until_code(client, user_id: str) -> None:
    for text in ("绑定账户", ZHANG[0], ZHANG[1]):
        response = client.post("/v1/chat", json={"user_id": user_id, "text": text, "channel": "web"})
        assert response.status_code == 200, response.text
    assert "验证码已发送" in response.json()["replies"][0]["text"]


def test_inbox_rows_hold_no_code_but_the_inbox_shows_it(backend, client, services):
    _bind_until_code(client, "sealed-inbox")
    (shown,) = client.get("/v1/sandbox/sms", params={"phone": PHONE}).json()["messages"]
    assert CODE.search(shown["text"]) and shown["text"].startswith("【示例银行】验证码")
    with services.database.read() as db:
        rows = db.scalars(select(SmsMessage)).all()
    assert len(rows) == 1 and rows[0].phone_hash == phone_digest(services.settings.secret_key, PHONE)
    assert not CODE.search(rows[0].text) and "验证码" not in rows[0].text


def test_inbox_messages_are_deleted_once_no_code_in_them_can_serve(database, clock):
    with database.write() as db:
        sms.record(db, PHONE, "【示例银行】验证码 111111", clock.now(), SECRET)
    clock.advance(minutes=10)
    with database.read() as db:
        assert [m.text for m in sms.read_inbox(db, PHONE, SECRET, clock.now())] == ["【示例银行】验证码 111111"]
    clock.advance(minutes=6)  # 16 minutes after the first: past the code's 5 minutes + margin
    with database.read() as db:
        assert sms.read_inbox(db, PHONE, SECRET, clock.now()) == []
    with database.write() as db:
        sms.record(db, "13900139000", "【示例银行】验证码 222222", clock.now(), SECRET)
    with database.read() as db:
        assert [row.phone_hash for row in db.scalars(select(SmsMessage))] == [phone_digest(SECRET, "13900139000")]
        assert sms.read_inbox(db, "13900139000", "another secret") == []  # unreadable, not a 500


# --- the webhook gateway -------------------------------------------------------------------------

class FakeSmsService:
    """A local HTTP server standing in for the bank's SMS service."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append({"body": json.loads(body), "authorization": self.headers["Authorization"],
                                       "key": self.headers["Idempotency-Key"], "path": self.path})
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, seconds: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sms_service():
    service = FakeSmsService()
    yield service
    service.close()


@pytest.fixture
def webhook(database, clock, sms_service):
    gateways = WebhookGateways(database, SECRET, sms_service.url, "gateway-token", clock=clock, timeout=5)
    yield gateways
    gateways.close()


def _outbox_rows(database) -> list[SmsOutbox]:
    with database.read() as db:
        return list(db.scalars(select(SmsOutbox)))


def test_webhook_posts_the_code_only_after_the_turn_commits(backend, database, clock, webhook, sms_service):
    with database.write() as db:
        OtpService(SECRET, webhook.gateway(db)).issue(db, "customer:1", "bind", PHONE, clock.now(), "绑定账户")
        db.flush()
        (queued,) = db.scalars(select(SmsOutbox)).all()
        assert PHONE not in queued.payload and not CODE.search(queued.payload)  # sealed at rest
        time.sleep(0.2)
        assert sms_service.received == []  # nothing leaves inside the transaction
    (posted,) = sms_service.wait_for(1)
    assert posted["authorization"] == "Bearer gateway-token" and posted["path"] == "/sms/send"
    assert posted["body"]["phone"] == PHONE and CODE.search(posted["body"]["text"])
    assert posted["key"] == posted["body"]["key"]
    deadline = time.monotonic() + 5
    while _outbox_rows(database) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _outbox_rows(database) == []  # delivered: nothing kept


def test_a_rolled_back_turn_sends_nothing(database, clock, webhook, sms_service):
    with pytest.raises(RuntimeError):
        with database.write() as db:
            webhook.gateway(db).send(PHONE, "【示例银行】验证码 123456", clock.now())
            raise RuntimeError("the turn failed")
    assert webhook.deliver_pending() == 0
    assert sms_service.received == [] and _outbox_rows(database) == []


def test_a_failed_delivery_is_retried_with_backoff_and_given_up_when_stale(database, clock, sms_service):
    gateways = WebhookGateways(database, SECRET, sms_service.url, "gateway-token", clock=clock)
    try:
        with database.write() as db:  # queued directly: no delivery thread, every step by hand
            outbox.enqueue(db, SECRET, "k1", PHONE, "【示例银行】验证码 123456", clock.now())
        sms_service.status = 503
        assert gateways.deliver_pending() == 0 and len(sms_service.received) == 1
        assert gateways.deliver_pending() == 0 and len(sms_service.received) == 1  # not due yet
        clock.advance(seconds=3)
        sms_service.status = 200
        assert gateways.deliver_pending() == 1 and len(sms_service.received) == 2
        assert {r["key"] for r in sms_service.received} == {"k1"}  # the gateway can drop a repeat
        assert _outbox_rows(database) == []

        with database.write() as db:
            outbox.enqueue(db, SECRET, "k2", PHONE, "【示例银行】验证码 654321", clock.now())
        clock.advance(seconds=MAX_AGE.total_seconds() + 1)  # the code inside is dead by now
        assert gateways.deliver_pending() == 0 and len(sms_service.received) == 2
        assert _outbox_rows(database) == []
    finally:
        gateways.close()


def test_production_service_sends_codes_through_the_webhook_not_the_inbox(
        database_url, model_dir, clock, intent_model, knowledge_desk, sms_service):
    from chatbot.service import build_services

    # The demo bank was seeded under the sandbox's data key: here it is the key being rotated away.
    settings = Settings(env="production", database_url=database_url, model_dir=model_dir, secret_key=SECRET,
                        data_key="Prod-data-key-9876543210-zyxwvutsrQPON", data_key_old=SANDBOX_DATA_KEY,
                        sms_gateway="webhook", sms_webhook_url=sms_service.url, sms_webhook_token="gateway-token")
    services = build_services(settings, clock=clock, classifier=intent_model, knowledge=knowledge_desk)
    try:
        for text in ("绑定账户", ZHANG[0], ZHANG[1]):
            reply = services.engine.handle("web", "prod-user", text)
        assert "验证码已发送" in reply.replies[0].text
        (posted,) = sms_service.wait_for(1)
        assert posted["body"]["phone"] == PHONE
        code = CODE.search(posted["body"]["text"]).group(0)
        with services.database.read() as db:
            assert db.scalars(select(SmsMessage)).all() == []  # the sandbox inbox is not used
        assert "绑定成功" in services.engine.handle("web", "prod-user", code).replies[0].text
    finally:
        services.close()
