"""A `chatbot serve` process killed with SIGKILL in the middle of a stream of transfers (real
HTTP, two bound customers paying each other) and started again: the ledger keeps every
transfer whole or absent, the bank's total money is unchanged, and every transfer the
customers were told succeeded is there."""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml

from chatbot.settings import DATA_DIR
from tests.servers import wait_healthy

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = {  # web user -> (name, ID number, phone, first words of a transfer, payee's card if asked)
    "k-zhang": ("张伟", "110105199003071239", "13800138000", "给李娜转1.23元", None),
    "k-li": ("李娜", "440305199511203311", "13700137000", "给张伟转2.34元", "6222021000191234"),
}
REFERENCE = re.compile(r"流水号 (\S+?)[，,。]")
CODE = re.compile(r"\d{6}")


@pytest.fixture
def small_faq(tmp_path):
    entries = yaml.safe_load((DATA_DIR / "faq.yaml").read_text(encoding="utf-8"))[:5]
    (tmp_path / "faq.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return tmp_path / "faq.yaml"


class Server:
    def __init__(self, env: dict, port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "chatbot.cli", "serve", "--port", str(self.port)], cwd=ROOT, env=self.env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_healthy(self.base, self.process, self.log)

    def kill(self) -> None:
        """SIGKILL to the server's own process group (this test started it): no shutdown at all."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


class Customer:
    def __init__(self, base: str, user: str, db_path: str) -> None:
        self.user, self.db_path = user, db_path
        self.name, self.id_number, self.phone, self.ask, self.card = CUSTOMERS[user]
        self.http = httpx.Client(base_url=base, timeout=30)
        self.token: str | None = None

    def say(self, text: str) -> str:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.http.post("/v1/chat", json={"user_id": self.user, "text": text}, headers=headers)
        response.raise_for_status()
        body = response.json()
        self.token = body.get("user_token") or self.token
        return " ".join(r["text"] if isinstance(r, dict) else r for r in body["replies"])

    def code(self) -> str:
        messages = self.http.get("/v1/sandbox/sms", params={"phone": self.phone}).json()["messages"]
        return CODE.search(messages[0]["text"]).group(0)  # newest first

    def bind(self) -> None:
        self.say("查一下余额")
        self.say(self.name)
        self.say(self.id_number)
        assert "绑定成功" in self.say(self.code())

    def transfer(self) -> str | None:
        """One transfer, step by step; its reference once the bot says it succeeded."""
        clear_code_limits(self.db_path)  # one code a minute per phone: not what is tested here
        reply = self.say(self.ask)
        for _ in range(6):
            if "转账成功" in reply:
                return REFERENCE.search(reply).group(1)
            if "验证码" in reply and "已发送" in reply:
                reply = self.say(self.code())
            elif ("账号" in reply or "卡号" in reply) and self.card and "请核对" not in reply:
                reply = self.say(self.card)
            elif "确认" in reply:
                reply = self.say("确认")
            else:
                raise AssertionError(f"{self.user}: unexpected reply {reply!r}")
        raise AssertionError(f"{self.user}: no end to the transfer: {reply!r}")


def clear_code_limits(db_path: str) -> None:
    with sqlite3.connect(db_path, timeout=30) as connection:
        connection.execute("DELETE FROM rate_events")


def ledger(db_path: str) -> dict:
    with sqlite3.connect(db_path, timeout=30) as connection:
        total = sum(Decimal(str(b)) for (b,) in connection.execute("SELECT balance FROM accounts"))
        unbalanced = connection.execute(
            "SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING ROUND(SUM(amount), 2) != 0").fetchall()
        drifted = connection.execute(
            "SELECT a.id FROM accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id GROUP BY a.id "
            "HAVING ROUND(a.balance - COALESCE(SUM(e.amount), 0), 2) != 0").fetchall()
        empty = connection.execute(
            "SELECT t.id FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id "
            "WHERE e.id IS NULL").fetchall()
        references = {r for (r,) in connection.execute("SELECT reference FROM ledger_transactions WHERE kind = 'transfer'")}
    return {"total": total, "unbalanced": unbalanced, "drifted": drifted, "empty": empty, "references": references}


def test_sigkill_in_a_stream_of_transfers_keeps_the_ledger_whole(database_url, model_dir, small_faq, tmp_path,
                                                                  free_port):
    db_path = database_url.removeprefix("sqlite:///")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env |= {"CHATBOT_ENV": "sandbox", "CHATBOT_DATABASE_URL": database_url, "CHATBOT_MODEL_DIR": str(model_dir),
            "CHATBOT_FAQ_PATH": str(small_faq), "CHATBOT_FAQ_INDEX_DIR": str(tmp_path / "index"),
            "CHATBOT_LOG_LEVEL": "WARNING", "CHATBOT_NOTIFY_INTERVAL_SECONDS": "0",
            "CHATBOT_NEWS_PUSH_INTERVAL_SECONDS": "0"}
    server = Server(env, free_port(), tmp_path / "serve.log")
    before = ledger(db_path)
    server.start()
    customers: list[Customer] = []
    try:
        customers += [Customer(server.base, user, db_path) for user in CUSTOMERS]
        for customer in customers:
            clear_code_limits(db_path)
            customer.bind()
        acknowledged: list[str] = []
        stop = threading.Event()
        enough = threading.Event()

        def stream(customer: Customer) -> None:
            while not stop.is_set():
                try:
                    reference = customer.transfer()
                except (httpx.HTTPError, AssertionError, AttributeError):
                    return  # the server went away mid-transfer (or answered half a flow)
                acknowledged.append(reference)
                if len(acknowledged) >= 3:
                    enough.set()

        threads = [threading.Thread(target=stream, args=(c,), daemon=True) for c in customers]
        for t in threads:
            t.start()
        assert enough.wait(timeout=120), (tmp_path / "serve.log").read_text(errors="replace")[-2000:]
        server.kill()  # whatever the two customers are in the middle of
        stop.set()
        for t in threads:
            t.join(timeout=60)
        told = list(acknowledged)

        server.start()  # the same database, after a crash
        after = ledger(db_path)
        assert after["total"] == before["total"]  # transfers inside the bank move money, never make it
        assert after["unbalanced"] == [] and after["drifted"] == [] and after["empty"] == []
        assert set(told) <= after["references"]  # every acknowledged transfer is there
        assert len(after["references"] - before["references"]) in (len(told), len(told) + 1, len(told) + 2)
        zhang = customers[0]  # still bound after the restart; whatever was half done is dropped
        zhang.say("取消")
        assert zhang.transfer() in ledger(db_path)["references"]
    finally:
        server.kill()
        for customer in customers:
            customer.http.close()
