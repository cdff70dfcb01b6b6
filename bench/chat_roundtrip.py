"""Round-trip benchmark of POST /v1/chat against a bare FastAPI echo route, same app, same run.

    .venv/bin/python bench/chat_roundtrip.py [--seconds 4] [--concurrency 1 8 32] [--workers 1 2]

For each worker count it starts `chatbot serve` on a fresh, seeded SQLite database under a
temp dir (PostgreSQL when --database-url is given), then for each concurrency drives
`/bench/echo` and `/v1/chat` for a fixed time with distinct users and message ids. It prints
requests/s and p50/p99 latency, the ratio chat/echo, and checks that every 2xx chat
response left exactly one turn-log row. Absolute numbers depend on the (shared) machine;
the ratios are what to compare.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
CHATBOT = [sys.executable, "-m", "chatbot.cli"]
TEXTS = ["你好", "谢谢", "再见", "今天天气怎么样", "您好，在吗"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict) -> None:
    for args in (["db", "upgrade"], ["seed"]):
        subprocess.run(CHATBOT + args, env=env, check=True, capture_output=True, cwd=ROOT)


def start_server(env: dict, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(CHATBOT + ["serve", "--port", str(port), "--workers", str(workers)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


async def drive(base: str, path: str, concurrency: int, seconds: float, tag: str) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    ok_ids: list[str] = []
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def user(n: int, client: httpx.AsyncClient) -> None:
        i = 0
        while time.perf_counter() < stop_at:
            message_id = f"{tag}-{n}-{i}"
            body = {"user_id": f"{tag}-user-{n}", "text": TEXTS[i % len(TEXTS)], "message_id": message_id}
            started = time.perf_counter()
            response = await client.post(path, json=body)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.is_success:
                ok_ids.append(message_id)
            i += 1

    began = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await asyncio.gather(*(user(n, client) for n in range(concurrency)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "statuses": statuses,
        "ok_ids": ok_ids,
    }


def turn_rows(database_url: str, tag: str) -> dict[str, int]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT message_id, count(*) FROM turn_log WHERE message_id LIKE :p "
                                 "GROUP BY message_id"), {"p": f"{tag}-%"}).all()
    engine.dispose()
    return dict(rows)


def check_turn_log(database_url: str, tag: str, ok_ids: list[str]) -> str:
    rows = turn_rows(database_url, tag)
    missing = [m for m in ok_ids if rows.get(m) != 1]
    extra = set(rows) - set(ok_ids)
    if missing or extra:
        return f"FAIL ({len(missing)} without exactly one row, {len(extra)} rows without a 2xx)"
    return f"ok ({len(ok_ids)} turns)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--database-url", help="benchmark on this (empty, migratable) database instead of SQLite")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="chatbot-bench-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    env = {**os.environ, "CHATBOT_ENV": "sandbox", "CHATBOT_DATABASE_URL": database_url,
           "CHATBOT_BENCH_ECHO": "true", "CHATBOT_LOG_LEVEL": "warning", "CHATBOT_MODEL_DIR": str(tmp / "models")}
    prepare(env)
    print(f"database: {database_url.split('://')[0]}, {args.seconds:.0f} s per measurement")
    print(f"{'workers':>7} {'conc':>4} | {'echo rps':>9} {'p50':>6} {'p99':>6} | {'chat rps':>9} {'p50':>6} "
          f"{'p99':>6} | {'rps ratio':>9} {'p50 ratio':>9} | turn log")
    failures = 0
    for workers in args.workers:
        proc, base = start_server(env, workers)
        try:
            for conc in args.concurrency:
                tag = f"b{workers}x{conc}-{int(time.time())}"
                echo = asyncio.run(drive(base, "/bench/echo", conc, args.seconds, tag + "e"))
                chat = asyncio.run(drive(base, "/v1/chat", conc, args.seconds, tag))
                verdict = check_turn_log(database_url, tag, chat["ok_ids"])
                failures += verdict.startswith("FAIL") or set(chat["statuses"]) != {200}
                print(f"{workers:>7} {conc:>4} | {echo['rps']:>9.0f} {echo['p50']:>6.1f} {echo['p99']:>6.1f} | "
                      f"{chat['rps']:>9.0f} {chat['p50']:>6.1f} {chat['p99']:>6.1f} | "
                      f"{chat['rps'] / echo['rps']:>9.2f} {chat['p50'] / echo['p50']:>9.2f} | {verdict}"
                      + ("" if set(chat["statuses"]) == {200} else f" statuses={chat['statuses']}"))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
