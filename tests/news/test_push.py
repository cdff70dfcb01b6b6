"""The news push on SQLite and PostgreSQL, with an injectable clock: digests at each
subscriber's frequency over two simulated weeks, important items at once, product items by
risk level, interests first, nothing twice (also four workers racing), paused, cancelled and
WeChat-unfollowed users get nothing."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from chatbot.channels.wechat.setup import database_recorder
from chatbot.clock import BANK_TZ
from chatbot.news.push import NewsPushJob
from chatbot.storage.db import Database
from tests.notify.conftest import bank_time

pytestmark = pytest.mark.usefixtures("backend")


def run(database, clock, **kwargs):
    return NewsPushJob(database, clock, **kwargs).run()


def test_frequency_is_honoured_over_two_weeks(notify_database, books, news, clock):
    people = {}
    for frequency in ("daily", "thrice_weekly", "weekly"):
        who = books.customer(name=frequency)
        books.bind(who, "web", f"web-{frequency}")
        news.subscribe(who, ["宏观经济"], frequency)
        people[frequency] = who
    days = {frequency: [] for frequency in people}
    start = date(2026, 11, 24)  # a Tuesday
    for offset in range(14):
        day = start + timedelta(days=offset)
        news.item(bank_time(day, 7), "宏观经济")
        clock._at = bank_time(day, 7).replace(minute=30)
        assert run(notify_database, clock).items == 0  # not before 08:00
        for hour in (10, 15, 21):  # three runs a day: one digest at most
            clock._at = bank_time(day, hour)
            run(notify_database, clock)
        for frequency, who in people.items():
            days[frequency] = [n.created_at.astimezone(BANK_TZ).date() for n in news.messages(who, "d")]
    assert len(days["daily"]) == 14 and len(set(days["daily"])) == 14
    assert [d.isoformat() for d in days["thrice_weekly"]] == [
        "2026-11-25", "2026-11-27", "2026-11-30", "2026-12-02", "2026-12-04", "2026-12-07"]
    assert [d.isoformat() for d in days["weekly"]] == ["2026-11-24", "2026-11-30", "2026-12-07"]
    # every item once to the daily reader; the weekly one had at most DIGEST_SIZE per digest
    assert len(news.deliveries(people["daily"])) == 14
    weekly = news.deliveries(people["weekly"])
    assert len(weekly) == len({item for _, item, _ in weekly}) <= 15
    lines = books.lines("web", "web-daily")
    assert len(lines) == 14 and all(line.startswith("【示例银行】今日财经资讯（1条）") for line in lines)


def test_a_digest_picks_categories_risk_level_and_interests(notify_database, books, news, clock):
    c3, none, expired = (books.customer(name=n) for n in ("中等", "未评", "过期"))
    for who in (c3, none, expired):
        books.bind(who, "web", f"web-{who}")
        news.subscribe(who, ["理财产品", "行业分析"], "daily")
    news.assess(c3, "C3", date(2027, 6, 1))
    news.assess(expired, "C5", date(2026, 11, 1))
    earlier = clock.now() - timedelta(hours=5)
    r2 = news.item(earlier, "理财产品", title="示例：R2 稳健理财开售", body="风险等级 R2。")
    r4 = news.item(earlier, "理财产品", title="示例：权益类理财净值回升", body="风险等级为R4（中高风险）。")
    plain = news.item(earlier, "理财产品", title="示例：年末理财配置指南")
    other = news.item(earlier, "宏观经济")  # not subscribed
    industry = news.item(clock.now() - timedelta(hours=9), "行业分析")
    news.read_in_chat(c3, f"web-{c3}", "行业分析", clock.now() - timedelta(days=2))
    run(notify_database, clock)
    assert {item for _, item, _ in news.deliveries(c3)} == {r2, plain, industry}
    assert {item for _, item, _ in news.deliveries(none)} == {plain, industry}
    assert {item for _, item, _ in news.deliveries(expired)} == {plain, industry}
    assert other not in {item for _, item, _ in news.deliveries()}
    first_line = books.lines("web", f"web-{c3}")[0].splitlines()[1]
    assert "【行业分析】" in first_line  # what they read in chat comes first, though older


def test_an_important_item_goes_out_at_once_to_its_category_only(notify_database, books, news, clock):
    policy, market = books.customer(name="政策"), books.customer(name="市场")
    for who in (policy, market):
        books.bind(who, "web", f"web-{who}")
    news.subscribe(policy, ["金融政策"], "weekly")
    news.subscribe(market, ["市场动态"], "weekly")
    news.item(clock.now() - timedelta(hours=1), "金融政策")
    run(notify_database, clock)  # this week's digest
    assert len(news.messages(policy, "d")) == 1
    clock.advance(hours=2)
    urgent = news.item(clock.now(), "金融政策", title="示例：央行宣布降准", important=True)
    report = run(notify_database, clock)
    assert report.items == 1 and report.customers == {policy}
    [message] = news.messages(policy, "i")
    assert message.text.startswith("【示例银行】重要资讯：示例：央行宣布降准")
    assert books.lines("web", f"web-{policy}")[-1] == message.text
    assert news.messages(market) == []
    assert run(notify_database, clock).items == 0
    clock.advance(days=6)  # next week's digest does not carry it again
    news.item(clock.now() - timedelta(hours=1), "金融政策")
    run(notify_database, clock)
    assert [item for _, item, _ in news.deliveries(policy)].count(urgent) == 1
    assert len(news.messages(policy, "d")) == 2


def test_paused_cancelled_unpublished_and_unfollowed_get_nothing(notify_database, books, news, clock):
    paused, cancelled, gone, both = (books.customer(name=n) for n in ("暂停", "退订", "取关", "双渠道"))
    books.bind(paused, "web", "web-paused")
    books.bind(cancelled, "web", "web-cancelled")
    books.bind(gone, "wechat", "openid-gone")
    books.bind(both, "wechat", "openid-both")
    books.bind(both, "web", "web-both")
    news.subscribe(paused, ["宏观经济"], "daily", status="paused")
    news.subscribe(cancelled, ["宏观经济"], "daily", status="cancelled")
    news.subscribe(gone, ["宏观经济"], "daily")
    news.subscribe(both, ["宏观经济"], "daily")
    record = database_recorder(notify_database, clock)  # what the WeChat channel does on the event
    record("openid-gone", "wechat.unsubscribe", {})
    record("openid-both", "wechat.unsubscribe", {})
    item = news.item(clock.now() - timedelta(hours=1), "宏观经济", important=True)
    withdrawn = news.item(clock.now() - timedelta(hours=1), "宏观经济")
    with notify_database.write() as db:
        from chatbot.storage.models import NewsItem
        db.get(NewsItem, withdrawn).unpublished_at = clock.now()
    report = run(notify_database, clock)
    assert report.customers == {both}
    assert {(c, i) for c, i, _ in news.deliveries()} == {(both, item)}
    assert books.lines("wechat", "openid-both") == [] and len(books.lines("web", "web-both")) == 1
    assert books.lines("wechat", "openid-gone") == []
    [notice] = news.messages(both)
    assert notice.push_status is None and notice.delivered_to == ["web:web-both"]
    # following again: pushes resume (the item was never told to them, so it is told now)
    record("openid-gone", "wechat.subscribe", {})
    news.set_status(paused, "active")
    run(notify_database, clock)
    assert {(c, i) for c, i, _ in news.deliveries() if c in (gone, paused)} == {(gone, item), (paused, item)}
    assert len(books.lines("wechat", "openid-gone")) == 1
    assert all(c != cancelled for c, _, _ in news.deliveries())


def test_four_runs_at_once_tell_each_item_once(notify_database, empty_database_url, books, news, clock):
    customers = []
    for i in range(6):
        who = books.customer(name=f"客户{i}", phone=f"1350013500{i}")
        books.bind(who, "web", f"web-{i}")
        news.subscribe(who, ["宏观经济", "金融政策"], "daily")
        customers.append(who)
    workers = [Database(empty_database_url) for _ in range(4)]
    try:
        for round_no in range(3):
            news.item(clock.now() - timedelta(minutes=30), "宏观经济")
            news.item(clock.now() - timedelta(minutes=20), "金融政策", important=True)
            barrier = threading.Barrier(len(workers))
            reports, errors = [], []

            def work(database):
                try:
                    barrier.wait(timeout=10)
                    reports.append(NewsPushJob(database, clock).run())
                except Exception as exc:  # reported below
                    errors.append(exc)

            threads = [threading.Thread(target=work, args=(db,)) for db in workers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert errors == [] and sum(r.errors for r in reports) == 0
            assert sum(r.items for r in reports) == 6 * (2 if round_no == 0 else 1)
            clock.advance(hours=1)
        pairs = [(c, i) for c, i, _ in news.deliveries()]
        assert len(pairs) == len(set(pairs)) == 6 * 4  # 1 digest item of day one + 3 important each
        for who in customers:
            assert len(news.messages(who, "d")) == 1  # one digest that day, however many runs
            assert len(news.messages(who, "i")) == 3
            assert len(books.lines("web", f"web-{who - customers[0]}")) == 4
    finally:
        for database in workers:
            database.dispose()
