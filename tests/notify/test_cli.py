"""`chatbot notify run`: two processes started together tell each event once (SQLite and
PostgreSQL), print how many they sent, and a broken setup is one line and exit 1."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from chatbot.clock import BANK_TZ
from tests.channels.conftest import APPID, SECRET, fake_wechat  # noqa: F401 (fake_wechat: a fixture)
from tests.notify.conftest import Books, command_env

CHATBOT = [sys.executable, "-m", "chatbot.cli"]


def test_two_processes_at_once_send_each_notice_once(backend, notify_database, empty_database_url, fake_wechat):
    now = datetime.now(timezone.utc)  # the command runs on the system clock
    books = Books(notify_database, now)
    for i in range(4):
        who = books.customer(name=f"客户{i}", phone=f"1350013500{i}")
        books.bind(who, "web", f"web-{i}")
        books.application(who, "card", "金卡", [("submitted", now - timedelta(hours=2))])
        books.application(who, "loan", "消费贷", [("submitted", now - timedelta(hours=1))], amount="10000.00")
    follower = books.customer(name="微信客户", phone="13500135009")
    books.bind(follower, "wechat", "openid-cli")
    credit = books.card_account(follower, "credit", "6258800000335678")
    due = (now.astimezone(BANK_TZ) + timedelta(days=2)).date().isoformat()
    books.statement(credit, due, "1500.00", "150.00")
    env = command_env({"CHATBOT_DATABASE_URL": empty_database_url, "CHATBOT_ENV": "sandbox",
                "CHATBOT_WECHAT_APPID": APPID, "CHATBOT_WECHAT_SECRET": SECRET,
                "CHATBOT_WECHAT_API_BASE": fake_wechat.base_url})

    processes = [subprocess.Popen(CHATBOT + ["notify", "run"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    sent = [int(re.search(r"已发送通知 (\d+) 条", out).group(1)) for out, _ in outputs]
    assert sum(sent) == 9, outputs
    for i in range(4):
        lines = books.lines("web", f"web-{i}")
        assert len(lines) == 2 and "金卡申请已提交" in lines[0] and "消费贷申请" in lines[1]
    [message] = fake_wechat.custom_messages
    assert message["touser"] == "openid-cli" and "**** 5678 本期账单 1,500.00 元" in message["text"]["content"]

    again = subprocess.run(CHATBOT + ["notify", "run"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "已发送通知 0 条" in again.stdout
    assert len(fake_wechat.custom_messages) == 1


def test_unreachable_database_is_one_line_and_exit_1():
    result = subprocess.run(CHATBOT + ["notify", "run"], capture_output=True, text=True, timeout=120,
                            env=command_env({"CHATBOT_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误：数据库不可用"), result.stderr


def test_unmigrated_database_is_refused(tmp_path):
    result = subprocess.run(CHATBOT + ["notify", "run"], capture_output=True, text=True, timeout=120,
                            env=command_env({"CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}))
    assert result.returncode == 1 and "chatbot db upgrade" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
