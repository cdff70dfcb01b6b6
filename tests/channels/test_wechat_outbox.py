"""The WeChat outbox against the fake WeChat API: a delivery that fails for a passing reason
is queued, a later run sends it once, waits grow (to a cap), and after N attempts it is given
up where operators see it; two senders never send one message twice."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from chatbot.channels.wechat.api_client import Retry, WeChatApi
from chatbot.channels.wechat.errors import WeChatApiError
from chatbot.channels.wechat.outbound import WeChatOutbound
from chatbot.channels.wechat.outbox import OutboxPolicy, WeChatOutbox
from chatbot.channels.wechat.setup import database_recorder, failure_recorder
from chatbot.channels.wechat.templates import TemplateNotifier
from chatbot.channels.wechat.token_store import MemoryTokenStore
from chatbot.handoff import prometheus
from chatbot.handoff.metrics import HandoffMetrics
from chatbot.storage.db import Database
from chatbot.storage.models import AuditLog, WeChatOutbox as Row
from tests.channels.conftest import APPID, SECRET

pytestmark = pytest.mark.usefixtures("backend")

DOWN = [503] * 50  # the API answers 5xx to every request until cleared


@pytest.fixture
def db(empty_database_url):
    database = Database(empty_database_url)
    yield database
    database.dispose()


@pytest.fixture
def make_api(fake_wechat):
    apis, tokens = [], MemoryTokenStore()

    def make() -> WeChatApi:
        apis.append(WeChatApi(fake_wechat.base_url, APPID, SECRET, tokens, retry=Retry(2, 0.001)))
        return apis[-1]

    yield make
    for api in apis:
        api.close()


def outbox_of(db, clock, **policy) -> WeChatOutbox:
    return WeChatOutbox(db, clock, OutboxPolicy(**policy),
                        on_give_up=failure_recorder(database_recorder(db, clock)))


def rows(db) -> list[Row]:
    with db.read() as session:
        return list(session.scalars(select(Row).order_by(Row.id)))


def test_a_failing_api_queues_the_message_and_a_later_run_delivers_it_once(db, clock, fake_wechat, make_api):
    api = make_api()
    outbox = outbox_of(db, clock, backoff_seconds=30)
    outbound = WeChatOutbound(api, outbox=outbox)
    fake_wechat.http_errors_next = list(DOWN)
    assert outbound.deliver("o-1", "人工客服回复：卡号 6222021234567890123 已核实") == "queued"
    [row] = rows(db)
    assert (row.status, row.attempts, row.kind, row.openid) == ("pending", 1, "text", "o-1")
    assert "6222021234567890123" not in row.payload["text"]  # masked before it is kept
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30)

    fake_wechat.http_errors_next = []
    assert outbox.run(api).delivered == 0  # not due yet
    clock.advance(seconds=30)
    assert outbox.run(api).delivered == 1
    assert outbox.run(api).delivered == 0 and rows(db) == []
    clock.advance(hours=1)
    assert outbox.run(api).delivered == 0
    [message] = fake_wechat.custom_messages
    assert message["touser"] == "o-1" and "**** 0123" in message["text"]["content"]


def test_a_template_message_is_queued_and_sent_again(db, clock, fake_wechat, make_api):
    api = make_api()
    outbox = outbox_of(db, clock, backoff_seconds=5)
    notifier = TemplateNotifier(api, {"news": "TPL-NEWS"}, outbox=outbox)
    fake_wechat.http_errors_next = list(DOWN)
    assert notifier.news("o-2", title="央行降准", at=clock.now(), summary="释放长期资金") is None
    fake_wechat.http_errors_next = []
    clock.advance(seconds=5)
    assert outbox.run(api).delivered == 1
    [message] = fake_wechat.template_messages
    assert message["touser"] == "o-2" and message["data"]["thing1"]["value"] == "央行降准"


def test_a_refusal_is_not_queued_but_raised_as_before(db, clock, fake_wechat, make_api):
    outbound = WeChatOutbound(make_api(), outbox=outbox_of(db, clock))
    fake_wechat.closed_windows.add("o-away")  # 45015 would be refused again
    with pytest.raises(WeChatApiError):
        outbound.deliver("o-away", "人工客服回复")
    assert rows(db) == []


def test_waits_double_to_the_cap_and_the_message_is_given_up_after_n_attempts(db, clock, fake_wechat, make_api):
    api = make_api()
    outbox = outbox_of(db, clock, backoff_seconds=10, max_backoff_seconds=30, max_attempts=5)
    fake_wechat.http_errors_next = list(DOWN)
    WeChatOutbound(api, outbox=outbox).deliver("o-3", "您的问题已处理")
    waits = []
    for _ in range(3):
        [row] = rows(db)
        waits.append((row.next_attempt_at - clock.now()).total_seconds())
        clock.advance(seconds=waits[-1])
        fake_wechat.http_errors_next = list(DOWN)
        assert outbox.run(api).retrying == 1
    [row] = rows(db)
    waits.append((row.next_attempt_at - clock.now()).total_seconds())
    assert waits == [10, 20, 30, 30] and row.attempts == 4

    clock.advance(seconds=30)
    fake_wechat.http_errors_next = list(DOWN)
    report = outbox.run(api)
    assert report.gave_up == 1 and "放弃 1 条" in report.line()
    [row] = rows(db)
    assert (row.status, row.attempts) == ("failed", 5) and "暂时不可用" in row.last_error
    clock.advance(hours=2)
    fake_wechat.http_errors_next = []
    assert outbox.run(api).delivered == 0 and fake_wechat.custom_messages == []  # given up stays given up
    with db.read() as session:
        [audit] = session.scalars(select(AuditLog).where(AuditLog.action == "wechat.delivery_failed")).all()
    assert audit.target == "o-3" and "重试 5 次后放弃" in audit.detail["reason"]
    snapshot = HandoffMetrics(db, clock).snapshot()
    assert (snapshot["wechat_outbox"]["pending"], snapshot["wechat_outbox"]["failed"]) == (0, 1)
    assert 'chatbot_wechat_outbox_messages{status="failed"} 1' in prometheus.render(snapshot)  # GET /metrics


def test_two_senders_never_send_one_message_twice(db, clock, fake_wechat, make_api, empty_database_url):
    api = make_api()
    outbox = outbox_of(db, clock, backoff_seconds=1)
    fake_wechat.http_errors_next = list(DOWN)
    for n in range(12):
        WeChatOutbound(api, outbox=outbox).deliver(f"o-{n}", f"第 {n} 条")
        fake_wechat.http_errors_next = list(DOWN)
    fake_wechat.http_errors_next = []
    clock.advance(seconds=1)
    other = Database(empty_database_url)  # a second worker: its own connections
    senders = [(outbox, api), (outbox_of(other, clock, backoff_seconds=1), make_api())]
    reports = [None, None]

    def run(i):
        box, sender_api = senders[i]
        reports[i] = box.run(sender_api)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    other.dispose()
    texts = sorted(m["text"]["content"] for m in fake_wechat.custom_messages)
    assert texts == sorted(f"第 {n} 条" for n in range(12))
    assert sum(r.delivered for r in reports) == 12 and rows(db) == []


def test_notify_run_and_the_serve_scheduler_send_the_outbox(db, clock, fake_wechat, make_api, empty_database_url,
                                                            tmp_path):
    from types import SimpleNamespace

    from chatbot.notify import wiring
    from chatbot.notify.job import job_for_cli
    from chatbot.settings import Settings

    outbox = outbox_of(db, clock, backoff_seconds=30)
    fake_wechat.http_errors_next = list(DOWN)
    WeChatOutbound(make_api(), outbox=outbox).deliver("o-cli", "稍后送达的回复")
    fake_wechat.http_errors_next = []
    clock.advance(seconds=30)
    settings = Settings(database_url=empty_database_url, home=tmp_path, wechat_appid=APPID,
                        wechat_secret=SECRET, wechat_api_base=fake_wechat.base_url, wechat_api_backoff_seconds=0.001)
    job, close = job_for_cli(settings, db, clock)  # what `chatbot notify run` runs
    try:
        assert "微信重发成功 1 条" in job.run().line()
    finally:
        close()
    assert [m["touser"] for m in fake_wechat.custom_messages] == ["o-cli"]
    # serve's scheduler runs the same job with the worker's WeChat wiring as its upkeep
    wechat = SimpleNamespace(outbox=outbox, retry_outbox=lambda: "ran")
    assert [job() for job in wiring.upkeep(None, wechat)] == ["ran"]
    assert wiring.upkeep(None, None) == []
