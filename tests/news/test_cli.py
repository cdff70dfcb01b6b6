"""`chatbot push run`: two processes started together tell each item once (SQLite and
PostgreSQL), WeChat followers get one push, the count is printed; a broken setup is one
line and exit 1."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from tests.channels.conftest import APPID, SECRET, fake_wechat  # noqa: F401 (fake_wechat: a fixture)
from tests.news.conftest import NewsBooks
from tests.notify.conftest import Books, command_env

CHATBOT = [sys.executable, "-m", "chatbot.cli"]


def test_two_processes_at_once_push_each_item_once(backend, notify_database, empty_database_url, fake_wechat):
    now = datetime.now(timezone.utc)  # the command runs on the system clock
    news = NewsBooks(Books(notify_database, now))
    for i in range(3):
        who = news.books.customer(name=f"客户{i}", phone=f"1350013500{i}")
        news.books.bind(who, "web", f"web-{i}")
        news.subscribe(who, ["金融政策"], "weekly")
    follower = news.books.customer(name="微信客户", phone="13500135009")
    news.books.bind(follower, "wechat", "openid-news")
    news.subscribe(follower, ["金融政策", "市场动态"], "daily")
    news.item(now - timedelta(hours=1), "金融政策", title="示例：央行宣布降准", important=True)
    news.item(now - timedelta(minutes=30), "市场动态", title="示例：汇率快讯", important=True)
    env = command_env({"CHATBOT_DATABASE_URL": empty_database_url, "CHATBOT_ENV": "sandbox",
                "CHATBOT_WECHAT_APPID": APPID, "CHATBOT_WECHAT_SECRET": SECRET,
                "CHATBOT_WECHAT_API_BASE": fake_wechat.base_url})
    processes = [subprocess.Popen(CHATBOT + ["push", "run"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    counts = [re.search(r"已推送资讯 (\d+) 条，共 (\d+) 位客户", out).groups() for out, _ in outputs]
    assert sum(int(items) for items, _ in counts) == 3 + 2, outputs  # digests may add none: nothing else published
    pairs = [(c, i) for c, i, _ in news.deliveries()]
    assert len(pairs) == len(set(pairs)) == 5
    [message] = fake_wechat.custom_messages
    assert message["touser"] == "openid-news" and "重要资讯" in message["text"]["content"]
    again = subprocess.run(CHATBOT + ["push", "run"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "已推送资讯 0 条，共 0 位客户" in again.stdout
    assert len(fake_wechat.custom_messages) == 1


def test_unmigrated_database_is_one_line_and_exit_1(tmp_path):
    result = subprocess.run(CHATBOT + ["push", "run"], capture_output=True, text=True, timeout=120,
                            env=command_env({"CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}))
    assert result.returncode == 1 and "chatbot db upgrade" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
