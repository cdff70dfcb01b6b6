"""The notification job on SQLite and PostgreSQL: each event told once, to the right people,
also when it runs again and when several runs race (threads with their own connections)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from chatbot.clock import FixedClock
from chatbot.notify.job import NotifyJob
from chatbot.storage.db import Database
from tests.notify.conftest import bank_time

pytestmark = pytest.mark.usefixtures("backend")


def run(database, clock, **kwargs):
    return NotifyJob(database, clock, **kwargs).run()


def test_each_stage_is_told_once_in_order_and_only_the_telling_ones(notify_database, books, clock):
    zhao = books.customer()
    books.bind(zhao, "web", "zhao-web")
    card = books.application(zhao, "card", "金卡", [("submitted", bank_time("2026-11-22")),
                                                   ("reviewing", bank_time("2026-11-23"))])
    loan = books.application(zhao, "loan", "消费贷", [("submitted", bank_time("2026-11-23", 11))],
                             amount="50000.00", term_months=12)

    first = run(notify_database, clock)
    assert first.sent == 2 and first.undeliverable == 0
    lines = books.lines("web", "zhao-web")
    assert len(lines) == 2
    assert lines[0].startswith("【示例银行】您的金卡申请已提交（编号 CA") and "审核结果会通知您" in lines[0]
    assert "消费贷申请（50,000.00 元，12 期）已提交" in lines[1]

    assert run(notify_database, clock).sent == 0  # the same events: nothing again
    assert len(books.lines("web", "zhao-web")) == 2

    clock.advance(days=1)
    books.move(card, "approved", clock.now())
    books.move(card, "producing", clock.now() + timedelta(minutes=1))
    books.move(loan, "reviewing", clock.now())
    books.move(loan, "rejected", clock.now() + timedelta(minutes=2), reason="当前负债收入比超过 50%")
    clock.advance(minutes=5)
    assert run(notify_database, clock).sent == 2  # approved and rejected; reviewing/producing say nothing
    lines = books.lines("web", "zhao-web")[2:]
    assert "金卡申请已审核通过" in lines[0] and "寄出后会通知您" in lines[0]
    assert "很抱歉，您的消费贷申请（50,000.00 元，12 期）未通过审核" in lines[1]
    assert "原因：当前负债收入比超过 50%" in lines[1]

    books.card_account(zhao, "credit", "6258800000991234", status="inactive")
    books.move(card, "mailed", clock.now(), card_id=books.card_id("6258800000991234"))
    assert run(notify_database, clock).sent == 1
    mailed = books.lines("web", "zhao-web")[-1]
    assert "金卡（卡号 **** 1234）已寄出" in mailed and "激活信用卡" in mailed
    assert "6258800000991234" not in mailed

    assert run(notify_database, clock).sent == 0
    assert [(n.source, n.event) for n in books.notices()] == [
        ("application", "submitted"), ("application", "submitted"), ("application", "approved"),
        ("application", "rejected"), ("application", "mailed")]
    assert all(n.status == "sent" and n.delivered_to == ["web:zhao-web"] for n in books.notices())


def test_a_card_activated_before_the_job_ran_is_not_asked_to_be_activated(notify_database, books, clock):
    zhao = books.customer()
    books.bind(zhao, "web", "zhao-web")
    card = books.application(zhao, "card", "金卡", [("submitted", bank_time("2026-11-22"))])
    assert run(notify_database, clock).sent == 1
    books.card_account(zhao, "credit", "6258800000991234", status="inactive")
    for minute, stage in enumerate(("reviewing", "approved", "producing", "mailed", "activated")):
        books.move(card, stage, clock.now() + timedelta(minutes=minute),
                   **({"card_id": books.card_id("6258800000991234")} if stage == "mailed" else {}))
    clock.advance(minutes=10)
    assert run(notify_database, clock).sent == 1  # approved; not "已寄出…回复激活信用卡"
    assert not any("激活信用卡" in line for line in books.lines("web", "zhao-web"))


def test_a_disbursed_loan_names_the_amount_card_and_first_payment(notify_database, books, clock):
    zhao = books.customer()
    books.bind(zhao, "web", "zhao-web")
    savings = books.card_account(zhao, "debit", "6222021000995555")
    loan = books.application(zhao, "loan", "消费贷", [("submitted", bank_time("2026-11-20")),
                                                     ("reviewing", bank_time("2026-11-21")),
                                                     ("approved", bank_time("2026-11-22"))], amount="60000.00",
                             term_months=12)
    run(notify_database, clock)
    books.loan(zhao, loan, savings, "60000.00", "2026-12-24", "5116.51", clock.now())
    books.move(loan, "disbursed", clock.now())

    assert run(notify_database, clock).sent == 1
    text = books.lines("web", "zhao-web")[-1]
    assert text == ("【示例银行】您的消费贷 60,000.00 元已发放至储蓄卡 **** 5555（贷款编号 LN-%06d）。"
                    "首期 5,116.51 元将于 12月24日自动扣款，回复“还款计划”可查看每期还款。" % loan)


def test_news_older_than_the_lookback_is_never_sent(notify_database, books, clock):
    zhao = books.customer()
    books.bind(zhao, "web", "zhao-web")
    books.application(zhao, "loan", "消费贷", [("submitted", clock.now() - timedelta(days=150)),
                                              ("approved", clock.now() - timedelta(days=8)),
                                              ("disbursed", clock.now() - timedelta(days=6))], amount="1000.00")
    assert run(notify_database, clock).sent == 1  # only the disbursement, 6 days ago
    assert "已发放" in books.lines("web", "zhao-web")[0]


def test_statement_due_within_three_days_is_reminded_once(notify_database, books, clock):
    zhao = books.customer()
    books.bind(zhao, "web", "zhao-web")
    credit = books.card_account(zhao, "credit", "6258800000335678")
    books.statement(credit, "2026-12-09", "2345.67", "234.57")
    clock = FixedClock(bank_time("2026-12-05", 23))
    assert run(notify_database, clock).sent == 0  # 4 days ahead: not yet

    clock = FixedClock(bank_time("2026-12-06", 9))
    assert run(notify_database, clock).sent == 1
    assert books.lines("web", "zhao-web") == [
        "【示例银行】您的信用卡 **** 5678 本期账单 2,345.67 元将于 12月9日到期（还有 3 天），最低还款 234.57 元。"
        "回复“还信用卡”即可还款。"]
    for day in ("2026-12-07", "2026-12-08", "2026-12-09"):
        assert run(notify_database, FixedClock(bank_time(day))).sent == 0
    assert len(books.lines("web", "zhao-web")) == 1


def test_paid_statements_get_no_reminder_and_part_paid_ones_say_what_is_left(notify_database, books, clock):
    zhao = books.customer()
    books.bind(zhao, "web", "zhao-web")
    credit = books.card_account(zhao, "credit", "6258800000335678")
    paid = books.statement(credit, "2026-12-09", "1000.00", "100.00")
    books.pay(paid, "1000.00")
    books.statement(credit, "2026-11-09", "800.00", "80.00")  # past due: no reminder now
    other = books.customer(name="钱多多", phone="13500135000")
    books.bind(other, "web", "qian-web")
    part = books.card_account(other, "credit", "6258800000334321")
    books.statement(part, "2026-12-08", "3000.00", "300.00", paid="500.00", installed="1000.00")

    report = run(notify_database, FixedClock(bank_time("2026-12-07")))
    assert report.sent == 1
    assert books.lines("web", "zhao-web") == []
    assert books.lines("web", "qian-web") == [
        "【示例银行】您的信用卡 **** 4321 本期账单尚需还款 1,500.00 元明天（12月8日）到期，已还满最低还款额。"
        "回复“还信用卡”即可还款。"]


def test_a_customer_without_binding_is_recorded_undeliverable_then_told_once_bound(notify_database, books, clock):
    zhao = books.customer()
    books.application(zhao, "card", "金卡", [("submitted", clock.now() - timedelta(hours=1))])
    report = run(notify_database, clock)
    assert (report.sent, report.undeliverable) == (0, 1)
    assert books.all_bot_lines() == 0
    [notice] = books.notices()
    assert notice.status == "undeliverable" and notice.delivered_to == []
    assert run(notify_database, clock).undeliverable == 0  # not counted (nor written) again

    books.bind(zhao, "web", "zhao-web")
    assert run(notify_database, clock).sent == 1
    assert run(notify_database, clock).sent == 0
    assert len(books.lines("web", "zhao-web")) == 1
    [notice] = books.notices()
    assert notice.status == "sent" and notice.delivered_to == ["web:zhao-web"]


def test_one_notice_per_customer_reaches_the_latest_web_identity_and_every_wechat_follower(
        notify_database, books, clock):
    zhao = books.customer()
    books.bind(zhao, "web", "old-browser", used_at=clock.now() - timedelta(days=3))
    books.bind(zhao, "web", "new-browser", used_at=clock.now() - timedelta(hours=2))
    books.bind(zhao, "wechat", "openid-zhao")
    books.application(zhao, "card", "金卡", [("submitted", clock.now() - timedelta(hours=1))])

    assert run(notify_database, clock).sent == 1  # no WeChat API configured here
    assert books.lines("web", "old-browser") == []
    assert len(books.lines("web", "new-browser")) == 1
    assert len(books.lines("wechat", "openid-zhao")) == 1  # the follower's transcript, for agents
    [notice] = books.notices()
    assert notice.delivered_to == ["web:new-browser", "wechat:openid-zhao"]
    assert notice.push_status == "failed" and "CHATBOT_WECHAT_APPID" in notice.push_error


def test_two_runs_at_once_tell_each_event_exactly_once(notify_database, empty_database_url, books, clock):
    """Four workers (each its own engine and connections) start together, three rounds."""
    customers = []
    for i in range(6):
        who = books.customer(name=f"客户{i}", phone=f"1350013500{i}")
        books.bind(who, "web", f"web-{i}")
        if i % 2 == 0:
            books.bind(who, "wechat", f"openid-{i}")
        customers.append(who)
    workers = [Database(empty_database_url) for _ in range(4)]
    try:
        expected = 0
        for round_no in range(3):
            at = clock.now() + timedelta(minutes=round_no)
            for who in customers:
                books.application(who, "card", "金卡", [("submitted", at)])
                expected += 1
            credit = books.card_account(customers[round_no], "credit", f"62588000009{round_no:05d}")
            books.statement(credit, "2026-11-26", "1200.00", "120.00")
            expected += 1
            barrier = threading.Barrier(len(workers))
            reports, errors = [], []

            def work(database):
                try:
                    barrier.wait(timeout=10)
                    reports.append(NotifyJob(database, clock).run())
                except Exception as exc:  # reported below; a thread must not swallow it
                    errors.append(exc)

            threads = [threading.Thread(target=work, args=(db,)) for db in workers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert errors == []
            assert sum(r.sent for r in reports) == 6 + 1
            assert sum(r.errors for r in reports) == 0
            assert len(books.notices()) == expected

        for i, who in enumerate(customers):
            lines = books.lines("web", f"web-{i}")
            assert len(lines) == 3 + (1 if i < 3 else 0), lines
            if i % 2 == 0:
                assert books.lines("wechat", f"openid-{i}") == lines
        keys = [(n.source, n.subject_id, n.event) for n in books.notices()]
        assert len(keys) == len(set(keys)) == expected
    finally:
        for database in workers:
            database.dispose()


def test_an_open_chat_page_hears_the_notice_at_once(notify_database, books, clock):
    from chatbot.handoff.events import LocalBus, customer_key

    zhao = books.customer()
    books.bind(zhao, "web", "zhao-web")
    books.application(zhao, "card", "金卡", [("submitted", clock.now())])
    bus, heard = LocalBus(), []
    bus.subscribe([customer_key("web", "zhao-web")], heard.append)
    run(notify_database, clock, bus=bus)
    run(notify_database, clock, bus=bus)
    [event] = heard
    assert event.type == "message" and event.data["sender"] == "bot"
    assert event.data["text"] == books.lines("web", "zhao-web")[0]


def test_a_wealth_holding_about_to_mature_is_reminded_once_with_its_name(notify_database, books, clock):
    from decimal import Decimal

    from chatbot.storage.models import WealthHolding, WealthProduct

    zhao = books.customer()
    books.bind(zhao, "web", "zhao-web")
    savings = books.card_account(zhao, "debit", "6222020000991111")
    today = clock.now().date()
    with notify_database.write() as db:
        db.add(WealthProduct(code="wm_x", term_days=182, step_amount=Decimal("1.00"), status="on_sale",
                             updated_at=clock.now()))
        db.flush()
        for n, (maturity, status) in enumerate(((today + timedelta(days=3), "holding"),
                                                (today + timedelta(days=30), "holding"),  # not yet
                                                (today + timedelta(days=1), "redeemed"))):  # nothing to remind
            db.add(WealthHolding(reference=f"WM2026-{n}", customer_id=zhao, product_code="wm_x", account_id=savings,
                                 principal=Decimal("20000.00"), units=Decimal("20000"), value=Decimal("20105.21"),
                                 valued_on=today, maturity_date=maturity, status=status, bought_at=clock.now()))
    job = NotifyJob(notify_database, clock, names={"wm_x": "示例稳盈半年定开"})
    assert job.run().sent == 1 and job.run().sent == 0
    line, = books.lines("web", "zhao-web")
    assert "示例稳盈半年定开（WM2026-0，本金 20,000.00 元" in line and "还有 3 天" in line, line


def test_a_due_reminder_does_not_wait_for_the_customer_to_read_the_card(database):
    """Statements close when a card is read; 张伟 never chats, yet the statement of 12-19 closes
    and its reminder (due 2027-01-08) is recorded by the job itself."""
    from datetime import datetime

    from sqlalchemy import select

    from chatbot.clock import BANK_TZ
    from chatbot.storage.models import CardStatement, Notice

    later = FixedClock(datetime(2027, 1, 6, 10, 0, tzinfo=BANK_TZ))
    NotifyJob(database, later).run()
    with database.read() as db:
        told = db.execute(select(CardStatement.statement_date, CardStatement.due_date).join(
            Notice, Notice.subject_id == CardStatement.id).where(Notice.source == "statement")).all()
    assert [(s.isoformat(), d.isoformat()) for s, d in told] == [("2026-12-19", "2027-01-08")]
