"""Notifications to WeChat followers through the channel layer, against a fake WeChat API:
template messages where a template is configured, customer-service messages otherwise;
failures recorded, never retried into a duplicate; a dead worker's push taken over once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from chatbot.channels.wechat.api_client import Retry, WeChatApi
from chatbot.channels.wechat.outbound import WeChatOutbound
from chatbot.channels.wechat.setup import database_recorder, failure_recorder
from chatbot.channels.wechat.templates import TemplateNotifier
from chatbot.channels.wechat.token_store import MemoryTokenStore
from chatbot.clock import FixedClock
from chatbot.notify import deliver, events
from chatbot.notify.deliver import WeChatPusher
from chatbot.notify.job import NotifyJob
from chatbot.storage.db import Database
from chatbot.storage.models import AuditLog
from tests.channels.conftest import APPID, SECRET, fake_wechat  # noqa: F401 (fake_wechat: a fixture)
from tests.notify.conftest import bank_time

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def make_pusher(fake_wechat):
    apis = []
    tokens = MemoryTokenStore()  # one access token for all workers, as Redis shares it in production

    def make(database: Database, clock, templates: dict | None = None) -> WeChatPusher:
        api = WeChatApi(fake_wechat.base_url, APPID, SECRET, tokens, retry=Retry(2, 0.01))
        apis.append(api)
        on_failure = failure_recorder(database_recorder(database, clock))
        return WeChatPusher(WeChatOutbound(api, on_failure=on_failure),
                            TemplateNotifier(api, templates or {}, on_failure=on_failure))

    yield make
    for api in apis:
        api.close()


def test_stage_by_template_and_due_reminder_by_customer_service_message_once(
        notify_database, books, clock, fake_wechat, make_pusher):
    zhao = books.customer()
    books.bind(zhao, "wechat", "openid-zhao")
    books.application(zhao, "card", "金卡", [("submitted", bank_time("2026-11-24", 9))])
    credit = books.card_account(zhao, "credit", "6258800000335678")
    books.statement(credit, "2026-11-26", "2345.67", "234.57")
    pusher = make_pusher(notify_database, clock, {"card_progress": "TPL-CARD"})

    report = NotifyJob(notify_database, clock, pusher=pusher).run()
    assert (report.sent, report.pushed, report.push_failed) == (2, 2, 0)
    [template] = fake_wechat.template_messages
    assert template["touser"] == "openid-zhao" and template["template_id"] == "TPL-CARD"
    assert template["data"] == {"thing1": {"value": "金卡"}, "phrase2": {"value": "已提交"},
                                "time3": {"value": "2026-11-24 09:00"}, "thing4": {"value": "审核结果会通知您"}}
    [message] = fake_wechat.custom_messages
    assert message["touser"] == "openid-zhao"
    assert message["text"]["content"].startswith("【示例银行】您的信用卡 **** 5678 本期账单 2,345.67 元将于 11月26日到期")

    again = NotifyJob(notify_database, clock, pusher=pusher).run()
    assert (again.sent, again.pushed) == (0, 0)
    assert len(fake_wechat.template_messages) == 1 and len(fake_wechat.custom_messages) == 1
    assert {n.push_status for n in books.notices()} == {"sent"}


def test_without_a_template_id_the_stage_goes_as_a_customer_service_message(
        notify_database, books, clock, fake_wechat, make_pusher):
    zhao = books.customer()
    books.bind(zhao, "wechat", "openid-zhao")
    books.application(zhao, "loan", "消费贷", [("submitted", clock.now())], amount="20000.00", term_months=6)
    NotifyJob(notify_database, clock, pusher=make_pusher(notify_database, clock)).run()
    assert fake_wechat.template_messages == []
    [message] = fake_wechat.custom_messages
    assert "消费贷申请（20,000.00 元，6 期）已提交" in message["text"]["content"]


def test_a_refused_push_is_recorded_and_not_repeated(notify_database, books, clock, fake_wechat, make_pusher):
    zhao = books.customer()
    books.bind(zhao, "wechat", "openid-away")
    books.application(zhao, "card", "金卡", [("submitted", clock.now())])
    fake_wechat.closed_windows.add("openid-away")  # 45015: outside the 48-hour window
    pusher = make_pusher(notify_database, clock)

    report = NotifyJob(notify_database, clock, pusher=pusher).run()
    assert (report.sent, report.pushed, report.push_failed) == (1, 0, 1)
    [notice] = books.notices()
    assert notice.push_status == "failed" and "45015" in notice.push_error
    with notify_database.read() as db:
        audit = db.scalars(select(AuditLog).where(AuditLog.action == "wechat.delivery_failed")).all()
    assert len(audit) == 1 and "48 小时" in audit[0].detail["reason"]

    fake_wechat.closed_windows.clear()
    clock.advance(hours=1)
    assert NotifyJob(notify_database, clock, pusher=pusher).run().pushed == 0
    assert fake_wechat.custom_messages == []
    assert len(books.lines("wechat", "openid-away")) == 1  # the transcript line stays, once


def test_a_push_left_by_a_dead_worker_is_taken_over_once_its_lease_is_stale(
        notify_database, books, clock, fake_wechat, make_pusher):
    zhao = books.customer()
    books.bind(zhao, "wechat", "openid-zhao")
    books.application(zhao, "card", "金卡", [("submitted", clock.now())])
    with notify_database.read() as db:
        [event] = events.pending(db, clock.now())
    with notify_database.write() as db:  # worker A records and claims the push, then dies
        notice_id = deliver.record(db, event, clock.now(), can_push=True).notice.id
    with notify_database.write() as db:
        assert deliver.claim_push(db, notice_id, clock.now()) is not None
    pusher = make_pusher(notify_database, clock)

    later = FixedClock(clock.now() + deliver.PUSH_LEASE - timedelta(seconds=1))
    assert NotifyJob(notify_database, later, pusher=pusher).run().pushed == 0  # A's lease still holds
    assert fake_wechat.custom_messages == []
    stale = FixedClock(clock.now() + deliver.PUSH_LEASE + timedelta(seconds=1))
    assert NotifyJob(notify_database, stale, pusher=pusher).run().pushed == 1
    assert NotifyJob(notify_database, stale, pusher=pusher).run().pushed == 0
    assert len(fake_wechat.custom_messages) == 1
    [notice] = books.notices()
    assert (notice.push_status, notice.push_attempts) == ("sent", 2)
    assert len(books.lines("wechat", "openid-zhao")) == 1


def test_a_push_whose_workers_keep_dying_is_given_up(notify_database, books, clock):
    zhao = books.customer()
    books.bind(zhao, "wechat", "openid-zhao")
    books.application(zhao, "card", "金卡", [("submitted", clock.now())])
    with notify_database.read() as db:
        [event] = events.pending(db, clock.now())
    with notify_database.write() as db:
        notice_id = deliver.record(db, event, clock.now(), can_push=True).notice.id
    at = clock.now()
    for _ in range(deliver.MAX_PUSH_ATTEMPTS):
        with notify_database.write() as db:
            assert deliver.claim_push(db, notice_id, at) is not None
        at += deliver.PUSH_LEASE + timedelta(seconds=1)
    with notify_database.write() as db:
        assert deliver.claim_push(db, notice_id, at) is None
    [notice] = books.notices()
    assert notice.push_status == "failed" and "3 次" in notice.push_error


def test_concurrent_runs_push_each_event_once(notify_database, empty_database_url, books, clock, fake_wechat,
                                              make_pusher):
    for i in range(5):
        who = books.customer(name=f"客户{i}", phone=f"1350013500{i}")
        books.bind(who, "wechat", f"openid-{i}")
        books.application(who, "card", "金卡", [("submitted", clock.now())])
        books.application(who, "loan", "消费贷", [("submitted", clock.now())], amount="10000.00")
    workers = [Database(empty_database_url) for _ in range(3)]
    try:
        jobs = [NotifyJob(db, clock, pusher=make_pusher(db, clock, {"card_progress": "TPL-CARD"})) for db in workers]
        barrier = threading.Barrier(len(jobs))
        reports, errors = [], []

        def work(job):
            try:
                barrier.wait(timeout=10)
                reports.append(job.run())
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(job,)) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert sum(r.sent for r in reports) == 10 and sum(r.pushed for r in reports) == 10
        assert sorted(m["touser"] for m in fake_wechat.template_messages) == [f"openid-{i}" for i in range(5)]
        assert sorted(m["touser"] for m in fake_wechat.custom_messages) == [f"openid-{i}" for i in range(5)]
    finally:
        for database in workers:
            database.dispose()

