"""Load benchmark of POST /v1/chat, driven by wrk, against a bare FastAPI echo in the same run.

    .venv/bin/python bench/load.py [--workers 1 2] [--seconds 10] [--connections 16]
        [--users 400] [--scenarios faq mixed flows] [--rate-fraction 0.75] [--json FILE]
        [--database-url postgresql://...] [--redis-url redis://...]
        [--start-postgres] [--start-redis] [--rounds N]

What it measures. For each worker count, on a scratch sandbox (fresh seeded SQLite database,
a copy of the promoted model, FAQ index, all under a temp dir; PostgreSQL/Redis when given):

  bare echo   FastAPI + uvicorn alone (bench/wrk/bare_echo.py: POST /echo returns its JSON
              body), same worker count, loop, http parser and proxy settings as `chatbot serve`.
              The denominator of every ratio.
  app echo    the app's own POST /bench/echo (CHATBOT_BENCH_ECHO): the framework plus our
              middleware, no engine.
  faq         POST /v1/chat, ~40 real FAQ questions (data/faq.yaml `question`/`similar`) from
              --users web users, closed loop.
  faq @75%    the same at --rate-fraction of faq's measured req/s, paced (see below).
  mixed       FAQ 40%, greetings 15%, balance of a bound customer 20%, transactions of a bound
              customer 15%, 转人工 10%. Handoff requests come from fresh users made up by the
              wrk script: their first message claims the id (no token), so each asks once.
  flows       Python, alongside the mixed run (so under load): bound 张伟 users transfer a few
              yuan to 李娜 (转账 -> 确认 -> code from GET /v1/sandbox/sms -> code). The demo bank
              sends one transfer code per phone per minute (and 10 a day), so expect one success
              per worker count and the rest refused as "too frequent": refusals are counted
              apart from errors. Afterwards 张伟's savings balance must have gone down, and
              李娜's up, by exactly the sum of the successful transfers.

How. The load comes from wrk (2 threads, --connections, bench/wrk/chat.lua), because a Python
client saturates this 2-core machine long before the server does. Setup, not measured, is
Python: every user id is claimed first (its first message returns `user_token`), bound users are
bound directly in the database (as tests/api/test_agent_api.py does), then a plan file per wrk
thread lists `user_id, token, text`; the script rotates through it (a user never has two
requests in flight) with a unique message_id per request. Each run sends for --seconds, then
waits 3 s more for the answers in flight (wrk has no drain of its own). Before the runs it
checks that a bound user's 余额多少 gets a balance, and asks each FAQ phrasing once: the 40 used
are ones answered as an FAQ (the others are skipped and named; too many such is an error).

The paced run is paced closed loop, not open loop (wrk2 is not available): each wrk thread
spaces its request starts evenly at its share of the target rate (+-50% jitter) through the
Lua delay() hook, but a request still waits for a free connection and a late schedule is not
caught up, so latency under overload is understated. The achieved rate is printed next to the
target.

Each run reports requests/s (2xx answers / time from first request to last answer), p50 and
p99 latency (wrk's histogram; wrk 4 adds coordinated-omission correction samples for answers
slower than twice the mean per-connection interval), non-2xx answers by status, "errors"
(socket errors plus requests sent but never answered), the ratios to the bare echo, the
turn_log rows whose message_id is one of this run's next to its 2xx answers (they must be
equal), the intents logged (faq runs should be all `faq`) with the engine's time per turn
(turn_log.latency_ms p50/p99: from the engine taking the message to its commit, so waits for
the database writer and the GIL are in it, waits for a thread-pool thread and HTTP are not),
the CPU time the workers used per 2xx answer ("cpu ms", user + system from /proc: the figure
other load on the machine disturbs least), and the RSS of each uvicorn worker process after the run (VmRSS from /proc; no psutil here).

Rounds. With --rounds N (N > 1) the bare echo server stays up beside the chatbot, and the
bare echo, faq and paced faq runs are made N times in turn, each round's paced run at its own
round's faq rate. The machine's speed drifts by tens of percent within minutes (other tenants
of the host), so a ratio of runs a minute apart can be off by as much; runs side by side share
the drift. The table shows the round with the median faq/echo ratio, with the median p99 of
the paced runs; every round's ratio and paced p99 are printed under it.

How to read it. The machine is shared and wrk runs on the same 2 cores as the server, so the
absolute numbers move from run to run; compare the ratios to the bare echo (req/s ratio: what
share of the framework's capacity a chat turn leaves; p50 ratio: how many echo round trips one
turn costs) and compare runs made the same day. With 2 workers on 2 cores the server competes
with wrk for CPU: more workers need not mean more req/s here.

--start-postgres / --start-redis run this script again under scripts/with-test-services.sh
(the throwaway PostgreSQL 15 and Redis of `make test`, stopped and deleted at the end; that
script also installs redis-server/chromium/a CJK font when missing and running as root).
Exit status: 0 when every check passed (a paced run short of its target is only a NOTE), 1 when
one failed (non-2xx, unanswered requests, socket errors, turn-log rows != 2xx, transfer errors
or a wrong ledger; printed at the end as CHECK FAILED), 2 without wrk.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import yaml
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[1]
WRK_DIR = Path(__file__).resolve().parent / "wrk"
CHATBOT = [sys.executable, "-m", "chatbot.cli"]
WRK = "/usr/bin/wrk"
WRK_THREADS = 2
DRAIN_SECONDS = 3  # under uvicorn's 5 s keep-alive, so idle connections are not closed meanwhile
SERVICES_MARKER = "BENCH_LOAD_UNDER_TEST_SERVICES"

FAQ_QUESTIONS = 40
GREETINGS = ["你好", "谢谢"]
BALANCE = ["余额多少", "查一下余额"]
TRANSACTIONS = ["最近的交易明细", "上个月花了多少"]
HANDOFF = "转人工"
# Mixed plan, in twentieths: faq 40%, greeting 15%, balance 20%, transactions 15%, handoff 10%.
MIX = {"faq": 8, "greeting": 3, "balance": 4, "transactions": 3, "handoff": 2}
CUSTOMERS = ["张伟", "王芳", "李娜"]
PAYER, PAYEE, PAYER_PHONE = "张伟", "李娜", "13800138000"
REFUSAL = re.compile(r"频繁|上限|限额|超过|超出|锁定|稍后|暂停|冻结")
AMOUNT = re.compile(r"\d[\d,]*\.\d{2}")


# --- command line and scratch environment ---------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    add_run_arguments(parser, scenarios=["faq", "mixed", "flows"])
    parser.add_argument("--rate-fraction", type=float, default=0.75, help="pace of the paced faq run (0: skip it)")
    parser.add_argument("--transfers", type=int, default=3, help="transfer attempts of the flows scenario")
    parser.add_argument("--rounds", type=int, default=1,
                        help="bare echo, faq and paced faq this many times in turn, both servers up; "
                             "the figures are the median round's (see 'Rounds' above)")
    return parser.parse_args()


def add_run_arguments(parser: argparse.ArgumentParser, scenarios: list[str]) -> None:
    """The options bench/load.py and bench/instances.py share: the load, the services, the output."""
    parser.add_argument("--seconds", type=float, default=10.0, help="sending time of each run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--users", type=int, default=400, help="web users asking FAQ questions / greeting")
    parser.add_argument("--scenarios", nargs="+", default=scenarios, choices=scenarios)
    parser.add_argument("--database-url", help="an empty, migratable database (load.py: instead of SQLite; instances.py: PostgreSQL)")
    parser.add_argument("--redis-url")
    parser.add_argument("--start-postgres", action="store_true", help="throwaway PostgreSQL 15 for this run")
    parser.add_argument("--start-redis", action="store_true", help="throwaway Redis for this run")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, logs, plans)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting of the chatbot servers, e.g. --set turn_threads=4 (CHATBOT_TURN_THREADS)")


def rerun_under_test_services(program: str = __file__) -> None:
    """Start `program` (this script, or bench/instances.py) again inside
    scripts/with-test-services.sh (throwaway PostgreSQL and Redis)."""
    script = ROOT / "scripts" / "with-test-services.sh"
    env = {**os.environ, SERVICES_MARKER: "1"}
    os.execve(str(script), [str(script), sys.executable, str(Path(program).resolve()), *sys.argv[1:]], env)


def service_urls(args: argparse.Namespace) -> tuple[str | None, str | None]:
    database_url, redis_url = args.database_url, args.redis_url
    if args.start_postgres:
        database_url = os.environ.get("CHATBOT_TEST_POSTGRES_URL") or sys.exit(
            "throwaway PostgreSQL did not start (see the [test-services] lines above)")
    if args.start_redis:
        redis_url = os.environ.get("CHATBOT_TEST_REDIS_URL") or sys.exit(
            "throwaway Redis did not start (see the [test-services] lines above)")
    return database_url, redis_url


def scratch_env(tmp: Path, database_url: str, redis_url: str | None, settings: list[str]) -> dict:
    """The servers' environment: the caller's minus every CHATBOT_* variable, plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update({"CHATBOT_ENV": "sandbox", "CHATBOT_DATABASE_URL": database_url,
                "CHATBOT_MODEL_DIR": str(tmp / "models"), "CHATBOT_FAQ_INDEX_DIR": str(tmp / "faq_index"),
                "CHATBOT_BENCH_ECHO": "true", "CHATBOT_LOG_LEVEL": "warning"})
    if redis_url:
        env["CHATBOT_REDIS_URL"] = redis_url
    for name, _, value in (item.partition("=") for item in settings):
        env[f"CHATBOT_{name.upper()}"] = value
    return env


def run_cli(env: dict, *args: str) -> None:
    done = subprocess.run(CHATBOT + list(args), env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"chatbot {' '.join(args)} failed: {(done.stderr or done.stdout).strip()[-2000:]}")


def copy_promoted_model(env: dict, tmp: Path) -> None:
    """A copy of var/models (trained there first when missing), so nothing trains during the run."""
    models = ROOT / "var" / "models"
    if not (models / "promoted.json").exists():
        print("var/models has no promoted model: chatbot train ...", flush=True)
        run_cli({**env, "CHATBOT_MODEL_DIR": str(models)}, "train")
    shutil.copytree(models, tmp / "models")


def prepare(env: dict, tmp: Path) -> None:
    copy_promoted_model(env, tmp)
    run_cli(env, "db", "upgrade")
    run_cli(env, "seed")
    run_cli(env, "faq", "build-index")


# --- servers --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    base: str
    log: Path


def start_server(name: str, command: list[str], port: int, env: dict, tmp: Path) -> Server:
    log = tmp / f"{name}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(server.base + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_server(server)
    sys.exit(f"{name} did not start; its log:\n{log.read_text()[-3000:]}")


def start_chatbot(env: dict, tmp: Path, workers: int) -> Server:
    port = free_port()
    command = CHATBOT + ["serve", "--port", str(port), "--workers", str(workers)]
    return start_server(f"chatbot-w{workers}", command, port, env, tmp)


def start_bare_echo(env: dict, tmp: Path, workers: int) -> Server:
    """bare_echo.py under the uvicorn settings chatbot/cli.py `serve` uses (no trusted proxies)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bare_echo:app", "--app-dir", str(WRK_DIR),
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
               "--timeout-graceful-shutdown", "5", "--no-proxy-headers"]
    return start_server(f"bare-echo-w{workers}", command, port, env, tmp)


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def worker_pids(server: Server) -> list[int]:
    """The spawned uvicorn workers, or the process itself with 1 worker."""
    workers = [pid for pid in _children(server.proc.pid)
               if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    return workers or [server.proc.pid]


def worker_cpu_seconds(server: Server) -> float:
    """CPU time (user + system) the server's workers have used so far. Per request, it is the
    figure a busy, shared machine disturbs least: it counts work done, not waiting."""
    ticks = 0
    for pid in worker_pids(server):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def worker_memory(server: Server) -> list[dict]:
    """RSS (and peak) of each uvicorn worker: the spawned children, or the process itself with 1 worker."""
    return [{"pid": pid, "rss_mb": round(_status_kb(pid, "VmRSS") / 1024, 1),
             "peak_mb": round(_status_kb(pid, "VmHWM") / 1024, 1)} for pid in worker_pids(server)]


# --- users -----------------------------------------------------------------------------------

def faq_candidates() -> list[str]:
    """Phrasings spread over data/faq.yaml, FAQ_QUESTIONS of them then as many spares: of every
    other entry its question, of the others one of its `similar`."""
    entries = yaml.safe_load((ROOT / "data" / "faq.yaml").read_text(encoding="utf-8"))
    step = max(1, len(entries) // FAQ_QUESTIONS)
    spread = entries[::step][:FAQ_QUESTIONS] + entries[step // 2::step][:FAQ_QUESTIONS]
    picked = []
    for n, entry in enumerate(spread):
        similar = entry.get("similar") or []
        picked.append(similar[n % len(similar)] if n % 2 and similar else entry["question"])
    return picked


class ChatClient:
    """Setup-time web users over HTTP: claims ids, keeps their tokens, says things."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        self.tokens: dict[str, str] = {}
        self.sent = 0

    def say(self, user_id: str, words: str) -> dict:
        self.sent += 1
        headers = {"Authorization": f"Bearer {self.tokens[user_id]}"} if user_id in self.tokens else {}
        body = {"user_id": user_id, "text": words, "message_id": f"setup-{user_id}-{self.sent}"}
        response = self.http.post("/v1/chat", json=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{user_id} {words!r}: HTTP {response.status_code} {response.text[:300]}")
        answer = response.json()
        if "user_token" in answer:
            self.tokens[user_id] = answer["user_token"]
        return answer

    def claim(self, user_ids: list[str], words: str = "你好") -> None:
        for user_id in user_ids:
            self.say(user_id, words)

    def close(self) -> None:
        self.http.close()


def reply_text(answer: dict) -> str:
    return "\n".join(r["text"] for r in answer.get("replies", []))


def bind_users(database_url: str, bindings: dict[str, str]) -> None:
    """Bind web users to demo customers directly (the SMS-code binding is rate limited per phone)."""
    from datetime import datetime, timezone

    from chatbot.storage.db import Database
    from chatbot.storage.models import ChannelBinding, Customer

    database = Database(database_url)
    now = datetime.now(timezone.utc)
    with database.write() as db:
        ids = dict(db.execute(select(Customer.name, Customer.id)).all())
        for user_id, name in bindings.items():
            db.add(ChannelBinding(channel="web", user_id=user_id, customer_id=ids[name],
                                  bound_at=now, last_used_at=now))
    database.dispose()


def checked_faq_questions(client: ChatClient, prefix: str, candidates: list[str]) -> tuple[list[str], list[str]]:
    """FAQ_QUESTIONS phrasings answered as an FAQ, each asked as a new user's first message."""
    kept, dropped = [], []
    for n, question in enumerate(candidates):
        if len(kept) == FAQ_QUESTIONS:
            break
        answer = client.say(f"{prefix}-check-faq-{n}", question)
        (kept if answer["state"]["intent"] == "faq" else dropped).append(question)
    if len(kept) < FAQ_QUESTIONS * 3 // 4 or len(dropped) > len(kept) // 2:
        sys.exit(f"only {len(kept)} of {len(kept) + len(dropped)} FAQ phrasings are answered as FAQs; not: {dropped}")
    return kept, dropped


def check_balance_replies(client: ChatClient, bound: dict[str, str]) -> None:
    """One 余额多少 per demo customer: the reply must state a balance."""
    for name in CUSTOMERS:
        user_id = next(u for u, n in bound.items() if n == name)
        answer = client.say(user_id, "余额多少")
        said = reply_text(answer)
        if "余额" not in said or not AMOUNT.search(said):
            sys.exit(f"a user bound to {name} asked 余额多少 and got no balance: {said!r} ({answer['state']})")


# --- plans: what each wrk thread sends ----------------------------------------------------------

def json_text(words: str) -> str:
    return json.dumps(words, ensure_ascii=False)[1:-1]


def write_plan(prefix: Path, per_thread: list[list[tuple[str, str, str]]]) -> Path:
    """PREFIX-<thread>.tsv: `user_id \\t token \\t text` lines (text JSON-escaped) for each wrk thread."""
    for thread_no, lines in enumerate(per_thread):
        with open(f"{prefix}-{thread_no}.tsv", "w", encoding="utf-8") as out:
            out.writelines(f"{user}\t{token}\t{json_text(words)}\n" for user, token, words in lines)
    return prefix


def split_users(users: list[str]) -> list[list[str]]:
    """Disjoint users per wrk thread, so two threads never speak for the same user."""
    return [users[n::WRK_THREADS] for n in range(WRK_THREADS)]


def faq_plan(tokens: dict[str, str], users: list[str], questions: list[str]) -> list[list[tuple]]:
    """Users in turn; each user's next question is a different one."""
    plans = []
    for mine in split_users(users):
        users_then_questions = ((mine[k % len(mine)], questions[(k + k // len(mine)) % len(questions)])
                                for k in range(len(mine) * len(questions)))
        plans.append([(user, tokens[user], question) for user, question in users_then_questions])
    return plans


def mixed_plan(tokens: dict[str, str], users: list[str], bound: list[str], questions: list[str]) -> list[list[tuple]]:
    """Twenty-line blocks with the MIX shares, shuffled; anonymous and bound users taken in turn."""
    plans = []
    for thread_no, (anonymous, customers) in enumerate(zip(split_users(users), split_users(bound))):
        shuffle = random.Random(thread_no)
        counters = dict.fromkeys(MIX, 0)
        lines = []
        for _ in range(max(200, len(anonymous) // 4)):
            block = [kind for kind, share in MIX.items() for _ in range(share)]
            shuffle.shuffle(block)
            for kind in block:
                n = counters[kind]
                counters[kind] += 1
                lines.append(_mixed_line(kind, n, len(lines), tokens, anonymous, customers, questions))
        plans.append(lines)
    return plans


def _mixed_line(kind: str, n: int, k: int, tokens: dict, anonymous: list, customers: list, questions: list) -> tuple:
    if kind == "handoff":
        return ("-", "", HANDOFF)  # a fresh user, made up by the wrk script
    if kind in ("balance", "transactions"):
        user = customers[k % len(customers)]
        words = (BALANCE if kind == "balance" else TRANSACTIONS)[n % 2]
    else:
        user = anonymous[k % len(anonymous)]
        words = questions[n % len(questions)] if kind == "faq" else GREETINGS[n % 2]
    return (user, tokens[user], words)


# --- wrk --------------------------------------------------------------------------------------

def run_wrk(base: str, path: str, plan: Path, tag: str, seconds: float, connections: int,
            rate: float = 0.0, tmp: Path | None = None) -> dict:
    """One wrk run with bench/wrk/chat.lua; `rate` > 0 paces it (requests/s over all threads)."""
    command = [WRK, "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{int(seconds + DRAIN_SECONDS + 0.999)}s",
               "--timeout", "10s", "-s", str(WRK_DIR / "chat.lua"), base, "--",
               path, str(plan), tag, str(seconds), str(rate / WRK_THREADS)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        time.sleep(min(2.0, seconds / 2))
        owners = connection_owners(int(base.rsplit(":", 1)[1]))
        stdout, stderr = proc.communicate()
    done = subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)
    if tmp is not None:
        (tmp / f"wrk-{tag}.out").write_text(done.stdout + done.stderr)
    marker = [line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if done.returncode != 0 or not marker:
        sys.exit(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}")
    result = json.loads(marker[-1].removeprefix("BENCH_JSON "))
    result["rps"] = result["ok"] / result["seconds"] if result["ok"] else 0.0
    result["unanswered"] = result["sent"] - result["ok"] - result["non_2xx"]
    result["connections_by_pid"] = owners
    return result


def connection_owners(port: int) -> dict[int, int]:
    """How many established connections to `port` each server process holds (from `ss`):
    uvicorn's workers share one listening socket and wrk's keep-alive connections are not
    spread evenly between them, which is worth seeing next to a multi-worker figure."""
    done = subprocess.run(["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
                          capture_output=True, text=True)
    owners: dict[int, int] = {}
    for pid in re.findall(r"pid=(\d+)", done.stdout):
        owners[int(pid)] = owners.get(int(pid), 0) + 1
    return owners


# --- checks -------------------------------------------------------------------------------------

@contextmanager
def reading(database_url: str):
    """A read session of the app's own Database (it knows `postgresql://` means psycopg 3)."""
    from chatbot.storage.db import Database

    database = Database(database_url)
    try:
        with database.read() as db:
            yield db
    finally:
        database.dispose()


def turn_log_of(database_url: str, tag: str) -> tuple[int, dict[str, dict]]:
    """Rows of turn_log whose message_id is one of this run's, by intent, with the engine's
    time per turn (turn_log.latency_ms: from taking the message to the commit)."""
    with reading(database_url) as db:
        rows = db.execute(text("SELECT intent, latency_ms FROM turn_log WHERE message_id LIKE :p"),
                          {"p": f"{tag}-%"}).all()
    by_intent: dict[str, list[float]] = {}
    for intent, latency in rows:
        by_intent.setdefault(intent or "-", []).append(latency)
    intents = {intent: {"turns": len(times), "engine_p50_ms": percentile(times, 50),
                        "engine_p99_ms": percentile(times, 99)}
               for intent, times in sorted(by_intent.items(), key=lambda kv: -len(kv[1]))}
    return len(rows), intents


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))], 1)


def savings_balance(database_url: str, name: str) -> Decimal:
    from chatbot.storage.models import Account, Customer

    with reading(database_url) as db:
        return db.execute(select(Account.balance).join(Customer, Account.customer_id == Customer.id)
                          .where(Customer.name == name, Account.kind == "savings")).scalar_one()


# --- flows: transfers with their SMS code -------------------------------------------------------

@dataclass
class FlowReport:
    attempts: int = 0
    succeeded: list[str] = field(default_factory=list)  # amounts
    refused: list[str] = field(default_factory=list)  # the bot's words
    errors: list[str] = field(default_factory=list)


def newest_code(client: ChatClient, amount: str) -> str | None:
    inbox = client.http.get("/v1/sandbox/sms", params={"phone": PAYER_PHONE}).json()["messages"]
    for message in inbox:  # newest first
        if f"{amount} 元" in message["text"] and (found := re.search(r"(?<!\d)\d{6}(?!\d)", message["text"])):
            return found.group()
    return None


def transfer_once(client: ChatClient, user_id: str, amount: str, report: FlowReport) -> None:
    """转账 -> 确认 -> the code from the sandbox inbox; counts success, refusal or error."""
    report.attempts += 1
    asked = reply_text(client.say(user_id, f"给{PAYEE}转{amount}元"))
    if "确认" not in asked:
        report.errors.append(f"no confirmation asked: {asked[:80]}")
        return
    confirmed = reply_text(client.say(user_id, "确认"))
    if "验证码" not in confirmed or REFUSAL.search(confirmed):
        (report.refused if REFUSAL.search(confirmed) else report.errors).append(confirmed[:80])
        return
    code = newest_code(client, amount)
    if code is None:
        report.errors.append(f"no SMS code for {amount} 元")
        return
    done = reply_text(client.say(user_id, code))
    if "转账成功" in done:
        report.succeeded.append(amount)
    else:
        (report.refused if REFUSAL.search(done) else report.errors).append(done[:80])


def run_transfers(client: ChatClient, users: list[str], report: FlowReport, spread: float) -> None:
    """One transfer per user, spread over `spread` seconds (the first after a second of load)."""
    for n, user_id in enumerate(users):
        time.sleep(1.0 if n == 0 else spread / max(1, len(users)))
        try:
            transfer_once(client, user_id, f"{n + 1}.00", report)
        except (httpx.HTTPError, RuntimeError, KeyError) as exc:
            report.errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")


def flows_result(report: FlowReport, before: dict[str, Decimal], after: dict[str, Decimal]) -> dict:
    moved = sum((Decimal(a) for a in report.succeeded), Decimal("0.00"))
    ledger_ok = before[PAYER] - after[PAYER] == moved and after[PAYEE] - before[PAYEE] == moved
    return {"attempts": report.attempts, "succeeded": len(report.succeeded), "moved": str(moved),
            "refused": report.refused, "errors": report.errors, "ledger_ok": ledger_ok,
            "payer_change": f"{after[PAYER] - before[PAYER]:+.2f}",
            "payee_change": f"{after[PAYEE] - before[PAYEE]:+.2f}"}


# --- one worker count -------------------------------------------------------------------------

@dataclass
class Bench:
    args: argparse.Namespace
    env: dict
    tmp: Path
    database_url: str
    run_id: str
    tokens: dict[str, str] = field(default_factory=dict)
    users: list[str] = field(default_factory=list)
    bound: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    dropped_questions: list[str] = field(default_factory=list)

    def wrk(self, server: Server, path: str, plan: str, tag: str, rate: float = 0.0,
            seconds: float | None = None) -> dict:
        cpu_before = worker_cpu_seconds(server)
        result = run_wrk(server.base, path, self.tmp / plan, f"{self.run_id}{tag}",
                         seconds or self.args.seconds, self.args.connections, rate, self.tmp)
        cpu = worker_cpu_seconds(server) - cpu_before
        result["cpu_ms_per_request"] = cpu * 1000 / result["ok"] if result["ok"] else None
        result["memory"] = worker_memory(server)
        owners = result.pop("connections_by_pid")
        result["connections"] = [owners.get(w["pid"], 0) for w in result["memory"]]
        return result

    def chat_run(self, server: Server, plan: str, tag: str, rate: float = 0.0) -> dict:
        result = self.wrk(server, "/v1/chat", plan, tag, rate)
        time.sleep(0.2)
        result["turn_rows"], result["intents"] = turn_log_of(self.database_url, f"{self.run_id}{tag}")
        return result


def setup_users(bench: Bench, server: Server) -> None:
    """Claim the users (and check the FAQ questions and a balance reply) once, on the first server."""
    client = ChatClient(server.base)
    try:
        bench.questions, bench.dropped_questions = checked_faq_questions(client, bench.run_id, faq_candidates())
        bench.users = [f"{bench.run_id}-u{n}" for n in range(bench.args.users)]
        # at least two per connection, so no bound user has two requests in flight
        bench.bound = [f"{bench.run_id}-b{n}" for n in range(max(2 * bench.args.connections, bench.args.users // 8))]
        client.claim(bench.users + bench.bound)
        bound = {user: CUSTOMERS[n % len(CUSTOMERS)] for n, user in enumerate(bench.bound)}
        bind_users(bench.database_url, bound)
        check_balance_replies(client, bound)
        bench.tokens = dict(client.tokens)
    finally:
        client.close()
    write_plan(bench.tmp / "faq", faq_plan(bench.tokens, bench.users, bench.questions))
    write_plan(bench.tmp / "mixed", mixed_plan(bench.tokens, bench.users, bench.bound, bench.questions))


def write_echo_plan(bench: Bench) -> None:
    """Echo bodies shaped like chat requests (the echo routes check no token)."""
    users = [f"{bench.run_id}-echo{n}" for n in range(100)]
    tokens = dict.fromkeys(users, "x" * 60)  # a real token's length
    write_plan(bench.tmp / "echo", faq_plan(tokens, users, faq_candidates()[:4]))


def measure_bare_echo(bench: Bench, workers: int) -> dict:
    server = start_bare_echo(bench.env, bench.tmp, workers)
    try:
        bench.wrk(server, "/echo", "echo", f"w{workers}warm", seconds=1)
        return bench.wrk(server, "/echo", "echo", f"w{workers}bare")
    finally:
        stop_server(server)


def flows_users(bench: Bench, server: Server, workers: int) -> tuple[ChatClient, list[str]]:
    client = ChatClient(server.base)
    users = [f"{bench.run_id}-w{workers}-t{n}" for n in range(bench.args.transfers)]
    client.claim(users)
    bind_users(bench.database_url, dict.fromkeys(users, PAYER))
    return client, users


def measure_flows(bench: Bench, server: Server, workers: int, alongside=None) -> dict:
    """Transfers from Python, while `alongside()` (the mixed wrk run) runs, if given."""
    client, users = flows_users(bench, server, workers)
    before = {name: savings_balance(bench.database_url, name) for name in (PAYER, PAYEE)}
    report = FlowReport()
    spread = bench.args.seconds * 0.8 if alongside else 0.0
    worker = threading.Thread(target=run_transfers, args=(client, users, report, spread))
    worker.start()
    other = alongside() if alongside else None
    worker.join()
    client.close()
    after = {name: savings_balance(bench.database_url, name) for name in (PAYER, PAYEE)}
    result = flows_result(report, before, after)
    result["alongside"] = "mixed" if alongside else None
    return {"mixed": other, "flows": result} if other else {"flows": result}


def measure_chatbot(bench: Bench, workers: int, echo: Server | None = None) -> dict:
    """The chatbot's runs; with `echo` (the bare echo server, up) and --rounds > 1, the bare
    echo and the faq runs in rounds (`measure_rounds`)."""
    scenarios, runs = bench.args.scenarios, {}
    server = start_chatbot(bench.env, bench.tmp, workers)
    try:
        if not bench.tokens:
            setup_users(bench, server)
        bench.wrk(server, "/v1/chat", "faq", f"w{workers}warm", seconds=2)
        runs["app echo"] = bench.wrk(server, "/bench/echo", "echo", f"w{workers}appecho")
        if echo is not None:
            runs.update(measure_rounds(bench, workers, echo, server))
        elif "faq" in scenarios:
            runs["faq"] = bench.chat_run(server, "faq", f"w{workers}faq")
            if bench.args.rate_fraction > 0 and runs["faq"]["rps"] > 0:
                target = runs["faq"]["rps"] * bench.args.rate_fraction
                runs["faq paced"] = bench.chat_run(server, "faq", f"w{workers}paced", rate=target)
                runs["faq paced"]["target_rps"] = target
        mixed = (lambda: bench.chat_run(server, "mixed", f"w{workers}mixed")) if "mixed" in scenarios else None
        if "flows" in scenarios:
            runs.update(measure_flows(bench, server, workers, alongside=mixed))
        elif mixed:
            runs["mixed"] = mixed()
    finally:
        stop_server(server)
    return runs


def measure_rounds(bench: Bench, workers: int, echo: Server, server: Server) -> dict:
    """Bare echo, faq and paced faq (at its own round's faq rate) --rounds times in turn.

    The machine's speed drifts by tens of percent within minutes (other tenants of the
    host): a ratio of two runs a minute apart can be off by that much. Runs side by side
    share the drift, so each round gives its own ratio, and the figures reported are the
    median round's (by faq/echo ratio); the p99 of the paced runs is their median too."""
    rounds = []
    for n in range(bench.args.rounds):
        tag = f"w{workers}r{n}"
        bare = bench.wrk(echo, "/echo", "echo", f"{tag}bare")
        faq = bench.chat_run(server, "faq", f"{tag}faq")
        paced = None
        if bench.args.rate_fraction > 0 and faq["rps"] > 0:
            target = faq["rps"] * bench.args.rate_fraction
            paced = bench.chat_run(server, "faq", f"{tag}paced", rate=target)
            paced["target_rps"] = target
        rounds.append({"bare echo": bare, "faq": faq, **({"faq paced": paced} if paced else {})})
        print(f"    round {n + 1}: bare echo {bare['rps']:.0f} req/s, faq {faq['rps']:.0f} "
              f"({faq['rps'] / bare['rps']:.3f})" + (f", paced {paced['rps']:.0f}/{paced['target_rps']:.0f} "
                                                      f"p99 {paced['p99_ms']:.1f} ms" if paced else ""), flush=True)
    by_ratio = sorted(rounds, key=lambda r: r["faq"]["rps"] / r["bare echo"]["rps"] if r["bare echo"]["rps"] else 0)
    median = dict(by_ratio[len(by_ratio) // 2])
    paced_p99 = sorted(r["faq paced"]["p99_ms"] for r in rounds if "faq paced" in r)
    if paced_p99 and "faq paced" in median:
        median["faq paced"] = {**median["faq paced"], "p99_ms": paced_p99[len(paced_p99) // 2],
                               "p99_ms_of_rounds": paced_p99}
    median["faq"] = {**median["faq"], "rps_ratio_of_rounds": [
        r["faq"]["rps"] / r["bare echo"]["rps"] for r in rounds if r["bare echo"]["rps"]]}
    return median


# --- report -----------------------------------------------------------------------------------

def add_ratios(runs: dict) -> None:
    echo = runs["bare echo"]
    for name, run in runs.items():
        if isinstance(run, dict) and "rps" in run and echo["rps"]:
            run["rps_ratio"] = run["rps"] / echo["rps"]
            run["p50_ratio"] = run["p50_ms"] / echo["p50_ms"] if echo["p50_ms"] else None


def problems_of(workers: int, runs: dict) -> list[str]:
    found = []
    for name, run in runs.items():
        if not isinstance(run, dict) or "ok" not in run:
            continue
        if run["non_2xx"] or run["unanswered"] or any(run["socket_errors"].values()):
            found.append(f"{workers} worker(s) {name}: non-2xx {run['statuses'] or 0}, "
                         f"unanswered {run['unanswered']}, socket errors {run['socket_errors']}")
        if "turn_rows" in run and run["turn_rows"] != run["ok"]:
            found.append(f"{workers} worker(s) {name}: {run['turn_rows']} turn-log rows for {run['ok']} 2xx answers")
    flows = runs.get("flows")
    if flows and (flows["errors"] or not flows["ledger_ok"]):
        found.append(f"{workers} worker(s) flows: errors {flows['errors']}, ledger ok: {flows['ledger_ok']}")
    return found


def notes_of(workers: int, runs: dict) -> list[str]:
    """What makes a figure less telling without being a failure: a pace that was not kept."""
    paced = runs.get("faq paced")
    if paced and paced["rps"] < 0.95 * paced["target_rps"]:
        return [f"{workers} worker(s) faq paced: reached {paced['rps']:.0f} of the {paced['target_rps']:.0f} "
                "req/s asked (its latency is that of a lower load)"]
    return []


def _mb(memory: list[dict]) -> str:
    return " ".join(f"{m['rss_mb']:.0f}" for m in memory)


def _cpu(run: dict) -> str:
    return f"{run['cpu_ms_per_request']:.2f}" if run.get("cpu_ms_per_request") else "-"


def _turns(run: dict) -> str:
    if "turn_rows" not in run:
        return "-"
    return f"{run['turn_rows']}/{run['ok']} " + ("ok" if run["turn_rows"] == run["ok"] else "MISMATCH")


def _intents(intents: dict[str, dict]) -> str:
    total = sum(i["turns"] for i in intents.values()) or 1
    return ", ".join(f"{name} {i['turns'] / total:.0%} {i['engine_p50_ms']:.0f}/{i['engine_p99_ms']:.0f}"
                     for name, i in list(intents.items())[:7])


def print_runs(workers: int, runs: dict) -> None:
    for name, run in runs.items():
        if not isinstance(run, dict) or "rps" not in run:
            continue
        rate = f"{run['rps']:.0f}" + (f"/{run['target_rps']:.0f}" if "target_rps" in run else "")
        errors = sum(run["socket_errors"].values()) + run["unanswered"]
        label = f"faq @{run['target_rps'] / runs['faq']['rps']:.0%}" if name == "faq paced" else name
        print(f"{workers:>3} {label:<10} {rate:>9} {run['p50_ms']:>8.1f} {run['p99_ms']:>8.1f} "
              f"{run.get('rps_ratio', 0):>8.3f} {run.get('p50_ratio') or 0:>8.1f} {_cpu(run):>7} {run['non_2xx']:>7} "
              f"{errors:>6}  {_turns(run):<20} {_mb(run['memory'])}")
    if workers > 1:
        split = [f"{name} {'/'.join(map(str, run['connections']))}" for name, run in runs.items()
                 if isinstance(run, dict) and run.get("connections")]
        print(f"    connections per worker (sampled during each run): {', '.join(split)}")
    if "rps_ratio_of_rounds" in runs.get("faq", {}):
        ratios = ", ".join(f"{r:.3f}" for r in runs["faq"]["rps_ratio_of_rounds"])
        p99s = ", ".join(f"{p:.1f}" for p in runs.get("faq paced", {}).get("p99_ms_of_rounds", []))
        print(f"    rounds (median shown above): faq/echo {ratios}" + (f"; paced p99 ms {p99s}" if p99s else ""))
    for name in ("faq", "mixed"):
        if name in runs:
            print(f"    {name} intents (share, engine p50/p99 ms): {_intents(runs[name]['intents'])}")
    if "flows" in runs:
        f = runs["flows"]
        print(f"    flows ({'during mixed' if f['alongside'] else 'alone'}): {f['attempts']} transfers, "
              f"{f['succeeded']} succeeded ({f['moved']} 元), {len(f['refused'])} refused, {len(f['errors'])} errors; "
              f"ledger {'ok' if f['ledger_ok'] else 'WRONG'} "
              f"({PAYER} {f['payer_change']}, {PAYEE} {f['payee_change']})")
        for said in sorted(set(f["refused"])):
            print(f"      refused: {said}")
        for said in f["errors"]:
            print(f"      error: {said}")


def print_header(bench: Bench, database_url: str, redis_url: str | None) -> None:
    backend = database_url.split("://")[0].split("+")[0]
    print(f"database {backend}{', redis' if redis_url else ''}; wrk {WRK_THREADS} threads, {bench.args.connections} "
          f"connections, {bench.args.seconds:g} s per run (+{DRAIN_SECONDS} s drain); {len(bench.users)} users, "
          f"{len(bench.bound)} bound, {len(bench.questions)} FAQ questions"
          + (f" (skipped, not answered as FAQ: {'、'.join(bench.dropped_questions)})"
             if bench.dropped_questions else ""))
    print(f"{'wk':>3} {'run':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'rps/echo':>8} {'p50/echo':>8} "
          f"{'cpu ms':>7} {'non-2xx':>7} {'errors':>6}  {'turn rows/2xx':<20} RSS MB per worker")


def write_json(path: Path, bench: Bench, redis_url: str | None, results: dict, problems: list[str],
               notes: list[str]) -> None:
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(bench.args).items()}
    figures = {"settings": settings, "database": bench.database_url.split("://")[0], "redis": bool(redis_url),
               "questions": bench.questions, "dropped_questions": bench.dropped_questions,
               "workers": results, "problems": problems, "notes": notes}
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=2))


def main() -> None:
    args = parse_args()
    if args.users < 2 * args.connections:
        sys.exit("--users must be at least twice --connections (no user may have two requests in flight)")
    if not Path(WRK).exists():
        print("wrk not found: apt-get install wrk")
        sys.exit(2)
    if (args.start_postgres or args.start_redis) and not os.environ.get(SERVICES_MARKER):
        rerun_under_test_services()
    database_url, redis_url = service_urls(args)
    tmp = Path(tempfile.mkdtemp(prefix="chatbot-load-"))
    database_url = database_url or f"sqlite:///{tmp / 'bench.db'}"
    bench = Bench(args, scratch_env(tmp, database_url, redis_url, args.set), tmp, database_url, f"lb{int(time.time()) % 100000}")
    print(f"preparing {tmp} ...", flush=True)
    prepare(bench.env, tmp)
    write_echo_plan(bench)
    results, problems, notes = {}, [], []
    for workers in args.workers:
        if args.rounds > 1 and "faq" in args.scenarios:
            echo = start_bare_echo(bench.env, bench.tmp, workers)
            try:
                bench.wrk(echo, "/echo", "echo", f"w{workers}warm", seconds=1)
                runs = measure_chatbot(bench, workers, echo)
            finally:
                stop_server(echo)
            runs = {"bare echo": runs.pop("bare echo"), **runs}
        else:
            runs = {"bare echo": measure_bare_echo(bench, workers)}
            runs.update(measure_chatbot(bench, workers))
        add_ratios(runs)
        if not results:
            print_header(bench, database_url, redis_url)
        print_runs(workers, runs)
        results[workers] = runs
        problems += problems_of(workers, runs)
        notes += notes_of(workers, runs)
    if args.json:
        write_json(args.json, bench, redis_url, results, problems, notes)
    for note in notes:
        print("NOTE:", note)
    for problem in problems:
        print("CHECK FAILED:", problem)
    if args.keep or problems:
        print(f"kept {tmp} (database, server logs, wrk output, plans)")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
