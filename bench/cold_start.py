"""Cold start: time from process start to the first FAQ answer, without and with the saved index.

Two measurements, each in fresh processes (nothing shared but the page cache):

* ``desk``: a Python process that imports the knowledge desk, calls ``KnowledgeDesk.load``
  and answers one FAQ question; wall time from spawning it to the answer. Three ways: the
  index built in memory (``index_dir=None``, how every worker started before), cold (empty
  artifact directory: build and save) and warm (the artifact exists: load it).
* ``serve``: ``chatbot serve`` on a scratch SQLite database and a scratch model directory (a
  copy of the promoted intent model of ``var/models``, so nothing is trained), polled with
  ``POST /v1/chat`` until a FAQ question is answered; cold (no saved index: the parent builds
  it) and warm (saved index: the workers load it), for each ``--workers`` count, after one
  untimed start (a first start after installing also builds the NLU cache and compiles the
  intent model's arrays, once: see ``docs/knowledge_index.md``). Runs of the
  different worker counts are interleaved, so a busy moment of a shared machine spreads
  over all of them instead of spoiling one.

    .venv/bin/python bench/cold_start.py                          # both, 1 and 2 workers
    .venv/bin/python bench/cold_start.py --only desk
    .venv/bin/python bench/cold_start.py --only serve --warm-only --workers 1,2 --repeat 5

Not a test: figures depend on the machine. Everything is written under a temporary directory.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "ATM吞卡了怎么办"

DESK_CHILD = """
import sys, time
from pathlib import Path
from knowledge.desk import KnowledgeDesk
directory = None if sys.argv[1] == "-" else Path(sys.argv[1])
loaded = time.perf_counter()
desk = KnowledgeDesk.load(Path(sys.argv[2]) / "faq.yaml", Path(sys.argv[2]) / "kg.yaml", index_dir=directory)
loaded = time.perf_counter() - loaded
hit = desk.retriever.search({question!r}, 1)[0]
print(hit.entry.id, round(loaded, 3))
""".format(question=QUESTION)


def desk_run(index_dir: Path | None) -> tuple[float, float, str]:
    # With an index directory, also the NLU cache `chatbot serve` gives its workers beside it.
    extra = {"CHATBOT_NLU_CACHE_DIR": str(index_dir.parent / "nlu_cache")} if index_dir else {}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", DESK_CHILD, str(index_dir) if index_dir else "-", str(ROOT / "data")],
                         cwd=ROOT, capture_output=True, text=True, check=True, env=_env(extra))
    elapsed = time.perf_counter() - started
    entry, load_seconds = out.stdout.split()
    return elapsed, float(load_seconds), entry


def bench_desk(scratch: Path, repeat: int) -> dict:
    rows = {}
    rows["in memory (before)"] = [desk_run(None) for _ in range(repeat)]
    cold = []
    for n in range(repeat):
        directory = scratch / f"desk-cold-{n}"
        cold.append(desk_run(directory))
    rows["cold (build + save)"] = cold
    rows["warm (load)"] = [desk_run(scratch / "desk-cold-0") for _ in range(repeat)]
    return rows


def bench_serve(scratch: Path, repeat: int, workers: list[int], warm_only: bool = False) -> dict:
    models = scratch / "models"
    source = ROOT / "var" / "models"
    if not (source / "promoted.json").exists():
        raise SystemExit("bench serve needs a promoted intent model in var/models (run `chatbot train`)")
    promoted = json.loads((source / "promoted.json").read_text(encoding="utf-8"))["version"]
    models.mkdir()
    shutil.copytree(source / promoted, models / promoted)
    shutil.copy(source / "promoted.json", models / "promoted.json")
    env = {"CHATBOT_DATABASE_URL": f"sqlite:///{scratch / 'bench.db'}", "CHATBOT_MODEL_DIR": str(models),
           "CHATBOT_ENV": "sandbox", "CHATBOT_NOTIFY_INTERVAL_SECONDS": "0",
           "CHATBOT_NEWS_PUSH_INTERVAL_SECONDS": "0", "CHATBOT_LOG_LEVEL": "warning"}
    subprocess.run([sys.executable, "-m", "chatbot.cli", "db", "upgrade"], cwd=ROOT, env=_env(env),
                   check=True, capture_output=True)
    rows: dict[str, list] = {}
    for count in workers:
        if not warm_only:
            rows[f"{count} worker(s), cold (parent builds)"] = []
        rows[f"{count} worker(s), warm (load)"] = []
    # One start, not timed, saves what does not depend on the FAQ (the NLU cache, the intent
    # model's compiled arrays) and the index: "cold" below is a changed FAQ, not a new install.
    serve_once(env, workers[0], "prepare")
    for n in range(repeat):
        for count in workers:
            if not warm_only:
                shutil.rmtree(models / "faq_index", ignore_errors=True)
                rows[f"{count} worker(s), cold (parent builds)"].append(
                    (serve_once(env, count, f"cold{count}-{n}"), 0.0, "-"))
            rows[f"{count} worker(s), warm (load)"].append((serve_once(env, count, f"warm{count}-{n}"), 0.0, "-"))
    return rows


def serve_once(env: dict, workers: int, user: str, timeout: float = 180.0) -> float:
    port = _free_port()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "chatbot.cli", "serve", "--port", str(port),
                                "--workers", str(workers)], cwd=ROOT, env=_env(env),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    body = json.dumps({"user_id": f"bench-{user}", "text": QUESTION}).encode()
    try:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                raise SystemExit(f"chatbot serve exited with {process.returncode}")
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat", body,
                                                 {"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as response:
                    replies = json.loads(response.read())["replies"]
                if any("吞卡" in reply["text"] for reply in replies):
                    return time.perf_counter() - started
                raise SystemExit(f"unexpected answer: {replies}")
            except urllib.error.HTTPError as error:  # an answer, but not the one asked for: say so
                raise SystemExit(f"HTTP {error.code} from port {port}: {error.read()[:200]!r}") from None
            except (ConnectionError, urllib.error.URLError, socket.timeout):
                time.sleep(0.05)
        raise SystemExit("no answer within the timeout")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return {**env, **extra}


def report(title: str, rows: dict) -> None:
    print(f"\n{title}")
    for name, runs in rows.items():
        walls = [wall for wall, _, _ in runs]
        loads = [load for _, load, _ in runs if load]
        line = f"  {name:<36} first answer {statistics.median(walls):6.2f} s (median of {len(walls)}: " \
               + ", ".join(f"{w:.2f}" for w in walls) + ")"
        if loads:
            line += f"; KnowledgeDesk.load {statistics.median(loads):.2f} s"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["desk", "serve"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", default="1,2", help="worker counts of `serve`, comma-separated")
    parser.add_argument("--warm-only", action="store_true", help="serve: only warm starts (index saved)")
    args = parser.parse_args()
    workers = [int(count) for count in args.workers.split(",")]
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("PYTHONDONTWRITEBYTECODE is set: the project's own modules are compiled at every start "
              "(~0.2 s of each process on this machine); site-packages use their .pyc files")
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        scratch = Path(scratch)
        if args.only in (None, "desk"):
            report("KnowledgeDesk.load in a fresh process, to the first FAQ answer", bench_desk(scratch, args.repeat))
        if args.only in (None, "serve"):
            report("chatbot serve, from spawn to the first FAQ answer over HTTP",
                   bench_serve(scratch, args.repeat, workers, args.warm_only))


if __name__ == "__main__":
    main()
