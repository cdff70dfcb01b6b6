"""Scale across instances: 1, 2, 4 `chatbot serve` processes (one worker each) behind nginx.

    .venv/bin/python bench/instances.py --start-postgres --start-redis
        [--instances 1 2 4] [--seconds 10] [--connections 16] [--users 400]
        [--scenarios faq mixed] [--nginx-workers 1] [--json FILE] [--keep]
        [--database-url postgresql://... --redis-url redis://...] [--set NAME=VALUE]

The topology of docs/deploy.md on loopback: one PostgreSQL and one Redis shared by every
instance, each instance a separate `chatbot serve --workers 1` on its own port, and Debian's
nginx in front with deploy/nginx/chatbot.conf itself (TLS, round robin per request, no
stickiness, kept-alive upstream connections), its upstream block given one `server` line per
instance. wrk (2 threads, --connections, HTTPS) talks only to nginx.

For each instance count, in the same run and through the same nginx file:

  bare echo   as many bare FastAPI echo processes (bench/wrk/bare_echo.py, one worker each,
              bench/load.py's uvicorn settings) behind nginx: the denominator of the ratios.
  app echo    the app's own POST /bench/echo through nginx (framework + middleware, no engine).
  faq         POST /v1/chat, the ~40 FAQ phrasings of bench/load.py from --users web users.
  mixed       bench/load.py's mixed plan (FAQ, greetings, balance and transactions of bound
              customers, 转人工 from fresh users).

Everything else is bench/load.py's, imported, not copied: the scratch sandbox (seeded database,
a copy of the promoted model, the FAQ index), the users and their tokens (claimed once, on the
first instance, and used for every count: tokens are signed with the sandbox secret every
instance shares), the plans, the wrk script and its figures, the turn-log count of each run's
message ids. Each run reports req/s, p50/p99, non-2xx, errors (socket errors + requests sent
and never answered), turn-log rows against 2xx answers (must be equal), the ratios to the bare
echo of the same count, the instances' CPU time per answer and nginx's, and how nginx spread
the requests over the instances (its JSON access log's `upstream`).

How to read it: wrk, nginx, PostgreSQL, Redis and every instance share this machine's 2
cores, so more instances add processes, not cores; what the figures show is what a second
or fourth process costs or gains on the same cores, and that nothing is lost or duplicated
when any instance serves any request. The load average is printed at the start and the end
(other people's work on the machine moves the figures). Exit status: 0 when every check
passed, 1 when one failed (CHECK FAILED at the end), 2 without wrk or nginx.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import load  # bench/load.py: this file's directory is on sys.path when it runs as a script

ROOT = load.ROOT
TEMPLATE = ROOT / "deploy" / "nginx" / "chatbot.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PLACEHOLDER = re.compile(r"\$\{(NGINX_[A-Z0-9_]+)\}")
UPSTREAM_LINE = re.compile(r"^(?P<indent>[ \t]*)server \$\{NGINX_UPSTREAM_(?P<n>\d+)\}(?P<rest>[^\n]*)\n", re.M)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 4])
    load.add_run_arguments(parser, scenarios=["faq", "mixed"])
    parser.add_argument("--nginx-workers", type=int, default=1, help="nginx worker_processes")
    return parser.parse_args()


# --- nginx ----------------------------------------------------------------------------------

def site_config(template: str, upstreams: list[str], values: dict[str, str]) -> str:
    """deploy/nginx/chatbot.conf with one upstream `server` line per instance (the template's
    own lines name NGINX_UPSTREAM_1 and _2; their parameters are kept), placeholders filled
    as envsubst does. Every placeholder left must have a value."""
    lines = list(UPSTREAM_LINE.finditer(template))
    if not lines:
        sys.exit(f"{TEMPLATE}: no `server ${{NGINX_UPSTREAM_n}} ...;` line in its upstream block")
    first = lines[0]
    servers = "".join(f"{first['indent']}server {address}{first['rest']}\n" for address in upstreams)
    body = template[:first.start()] + servers + UPSTREAM_LINE.sub("", template[first.start():])
    missing = sorted(set(PLACEHOLDER.findall(body)) - values.keys())
    if missing:
        sys.exit(f"{TEMPLATE}: placeholders this script does not fill: {missing}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], body)


def certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return cert, key


@dataclass
class Nginx:
    proc: subprocess.Popen
    base: str
    access_log: Path
    directory: Path

    def log_offset(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def upstreams_since(self, offset: int, path: str) -> dict[str, int]:
        """Requests to `path` logged since `offset`, by the upstream that answered."""
        with self.access_log.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode().splitlines()
        spread: dict[str, int] = {}
        for line in lines:
            entry = json.loads(line)
            if entry["path"] == path:
                spread[entry["upstream"]] = spread.get(entry["upstream"], 0) + 1
        return spread

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of nginx's worker processes so far."""
        ticks = 0
        for pid in load._children(self.proc.pid):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


def start_nginx(directory: Path, name: str, upstreams: list[str], workers: int) -> Nginx:
    """nginx with the site file in front of `upstreams`, in a scratch prefix of its own."""
    prefix = directory / name
    prefix.mkdir()
    prefix.chmod(0o755)  # nginx's workers run unprivileged
    cert, key = directory / "tls.crt", directory / "tls.key"
    https_port, http_port = load.free_port(), load.free_port()
    base = f"https://127.0.0.1:{https_port}"
    access_log = prefix / "access.log"
    site = site_config(TEMPLATE.read_text(), upstreams, {
        "NGINX_SERVER_NAME": "localhost", "NGINX_HTTP_PORT": str(http_port), "NGINX_HTTPS_PORT": str(https_port),
        "NGINX_TLS_CERT": str(cert), "NGINX_TLS_KEY": str(key), "NGINX_PUBLIC_BASE_URL": base,
        "NGINX_ACCESS_LOG": str(access_log)})
    (prefix / "chatbot.conf").write_text(site)
    temp = "\n".join(f"    {kind}_temp_path {prefix}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (prefix / "nginx.conf").write_text(
        f"worker_processes {workers};\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
        f"events {{ worker_connections 1024; }}\nhttp {{\n{temp}\n    include {prefix}/chatbot.conf;\n}}\n")
    out = (prefix / "nginx.out").open("wb")
    proc = subprocess.Popen([NGINX, "-e", str(prefix / "error.log"), "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                             "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT)
    out.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", https_port)) == 0:
                return Nginx(proc, base, access_log, prefix)
        time.sleep(0.05)
    stop(proc)
    sys.exit(f"nginx did not start: {(prefix / 'error.log').read_text(errors='replace')[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- one instance count ---------------------------------------------------------------------

def start_all(start, count: int) -> list[load.Server]:
    """`count` servers started at once (start(k) -> Server); all stopped if one fails."""
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(start, k) for k in range(count)]
    servers, failure = [], None
    for future in futures:
        try:
            servers.append(future.result())
        except BaseException as exc:  # load.start_server exits (SystemExit) naming the log
            failure = failure or exc
    if failure:
        for server in servers:
            load.stop_server(server)
        raise failure
    return servers


def subdir(tmp: Path, name: str) -> Path:
    path = tmp / name
    path.mkdir(exist_ok=True)
    return path


@dataclass
class Scale:
    bench: load.Bench
    nginx_dir: Path

    def wrk(self, nginx: Nginx, servers: list[load.Server], path: str, plan: str, tag: str,
            seconds: float | None = None) -> dict:
        args = self.bench.args
        cpu_before = sum(load.worker_cpu_seconds(s) for s in servers)
        nginx_before, offset = nginx.cpu_seconds(), nginx.log_offset()
        result = load.run_wrk(nginx.base, path, self.bench.tmp / plan, f"{self.bench.run_id}{tag}",
                              seconds or args.seconds, args.connections, 0.0, self.bench.tmp)
        result.pop("connections_by_pid", None)
        cpu = sum(load.worker_cpu_seconds(s) for s in servers) - cpu_before
        nginx_cpu = nginx.cpu_seconds() - nginx_before
        result["cpu_ms_per_request"] = cpu * 1000 / result["ok"] if result["ok"] else None
        result["nginx_cpu_ms_per_request"] = nginx_cpu * 1000 / result["ok"] if result["ok"] else None
        by_upstream = nginx.upstreams_since(offset, path)
        result["per_instance"] = [by_upstream.get(s.base.removeprefix("http://"), 0) for s in servers]
        result["other_upstreams"] = {k: v for k, v in by_upstream.items()
                                     if k not in {s.base.removeprefix("http://") for s in servers}}
        result["memory"] = [m for s in servers for m in load.worker_memory(s)]
        return result

    def chat_run(self, nginx: Nginx, servers: list[load.Server], plan: str, tag: str) -> dict:
        result = self.wrk(nginx, servers, "/v1/chat", plan, tag)
        time.sleep(0.2)
        result["turn_rows"], result["intents"] = load.turn_log_of(self.bench.database_url, f"{self.bench.run_id}{tag}")
        return result


def measure_bare_echo(scale: Scale, count: int) -> dict:
    bench = scale.bench
    servers = start_all(lambda k: load.start_bare_echo(bench.env, subdir(bench.tmp, f"echo-n{count}-{k}"), 1), count)
    nginx = None
    try:
        nginx = start_nginx(scale.nginx_dir, f"echo-n{count}", [s.base.removeprefix("http://") for s in servers],
                            bench.args.nginx_workers)
        scale.wrk(nginx, servers, "/echo", "echo", f"n{count}warm", seconds=1)
        return scale.wrk(nginx, servers, "/echo", "echo", f"n{count}bare")
    finally:
        if nginx:
            stop(nginx.proc)
        for server in servers:
            load.stop_server(server)


def measure_chatbot(scale: Scale, count: int) -> dict:
    bench, runs = scale.bench, {}
    servers = start_all(lambda k: load.start_chatbot(bench.env, subdir(bench.tmp, f"chatbot-n{count}-{k}"), 1), count)
    nginx = None
    try:
        if not bench.tokens:  # once, straight to the first instance (setup is not measured)
            load.setup_users(bench, servers[0])
        nginx = start_nginx(scale.nginx_dir, f"chatbot-n{count}", [s.base.removeprefix("http://") for s in servers],
                            bench.args.nginx_workers)
        scale.wrk(nginx, servers, "/v1/chat", "faq", f"n{count}warm", seconds=2)  # every instance's memo
        runs["app echo"] = scale.wrk(nginx, servers, "/bench/echo", "echo", f"n{count}appecho")
        for scenario in bench.args.scenarios:
            runs[scenario] = scale.chat_run(nginx, servers, scenario, f"n{count}{scenario}")
    finally:
        if nginx:
            stop(nginx.proc)
        for server in servers:
            load.stop_server(server)
    return runs


# --- report ---------------------------------------------------------------------------------

def problems_of(count: int, runs: dict) -> list[str]:
    found = []
    for name, run in runs.items():
        if run["non_2xx"] or run["unanswered"] or any(run["socket_errors"].values()):
            found.append(f"{count} instance(s) {name}: non-2xx {run['statuses'] or 0}, "
                         f"unanswered {run['unanswered']}, socket errors {run['socket_errors']}")
        if "turn_rows" in run and run["turn_rows"] != run["ok"]:
            found.append(f"{count} instance(s) {name}: {run['turn_rows']} turn-log rows for {run['ok']} 2xx answers")
        if run["other_upstreams"] or (count > 1 and 0 in run["per_instance"]):
            found.append(f"{count} instance(s) {name}: nginx's spread {run['per_instance']}, "
                         f"other upstreams {run['other_upstreams']}")
    return found


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_header(bench: load.Bench, redis_url: str | None) -> None:
    args = bench.args
    print(f"database {bench.database_url.split('://')[0].split('+')[0]}{', redis' if redis_url else ''}; "
          f"nginx {args.nginx_workers} worker(s), HTTPS; wrk {load.WRK_THREADS} threads, {args.connections} "
          f"connections, {args.seconds:g} s per run (+{load.DRAIN_SECONDS} s drain); {len(bench.users)} users, "
          f"{len(bench.bound)} bound, {len(bench.questions)} FAQ questions")
    print(f"{'inst':>4} {'run':<10} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'rps/echo':>8} {'p50/echo':>8} "
          f"{'cpu ms':>6} {'nginx':>6} {'non-2xx':>7} {'errors':>6}  {'turn rows/2xx':<18} requests per instance")


def print_runs(count: int, runs: dict) -> None:
    for name, run in runs.items():
        errors = sum(run["socket_errors"].values()) + run["unanswered"]
        turns = (f"{run['turn_rows']}/{run['ok']} " + ("ok" if run["turn_rows"] == run["ok"] else "MISMATCH")
                 if "turn_rows" in run else "-")
        cpu = f"{run['cpu_ms_per_request']:.2f}" if run["cpu_ms_per_request"] else "-"
        nginx_cpu = f"{run['nginx_cpu_ms_per_request']:.2f}" if run["nginx_cpu_ms_per_request"] else "-"
        print(f"{count:>4} {name:<10} {run['rps']:>7.0f} {run['p50_ms']:>7.1f} {run['p99_ms']:>7.1f} "
              f"{run.get('rps_ratio', 0):>8.3f} {run.get('p50_ratio') or 0:>8.1f} {cpu:>6} {nginx_cpu:>6} "
              f"{run['non_2xx']:>7} {errors:>6}  {turns:<18} {'/'.join(map(str, run['per_instance']))}", flush=True)


def main() -> None:
    args = parse_args()
    if args.users < 2 * args.connections:
        sys.exit("--users must be at least twice --connections (no user may have two requests in flight)")
    for tool, hint in ((load.WRK, "apt-get install wrk"), (NGINX, "apt-get install nginx")):
        if not Path(tool).exists():
            print(f"{tool} not found: {hint}")
            sys.exit(2)
    if (args.start_postgres or args.start_redis) and not os.environ.get(load.SERVICES_MARKER):
        load.rerun_under_test_services(__file__)
    database_url, redis_url = load.service_urls(args)
    if not database_url or not redis_url:
        sys.exit("several instances need a shared PostgreSQL and Redis: --start-postgres --start-redis, "
                 "or --database-url and --redis-url")
    tmp = Path(tempfile.mkdtemp(prefix="chatbot-instances-"))
    nginx_dir = Path(tempfile.mkdtemp(prefix="chatbot-instances-nginx-", dir="/tmp"))
    nginx_dir.chmod(0o755)
    certificate(nginx_dir)
    env = load.scratch_env(tmp, database_url, redis_url, args.set)
    # As docs/deploy.md has it behind nginx: its X-Forwarded-For and X-Request-ID are believed.
    env.setdefault("CHATBOT_TRUSTED_PROXIES", "127.0.0.1")
    bench = load.Bench(args, env, tmp, database_url, f"in{int(time.time()) % 100000}")
    print(f"load average {loadavg()}; preparing {tmp} ...", flush=True)
    load.prepare(bench.env, tmp)
    load.write_echo_plan(bench)
    scale = Scale(bench, nginx_dir)
    results, problems = {}, []
    for count in args.instances:
        runs = {"bare echo": measure_bare_echo(scale, count)}
        runs.update(measure_chatbot(scale, count))
        load.add_ratios(runs)
        if not results:
            print_header(bench, redis_url)
        print_runs(count, runs)
        results[count] = runs
        problems += problems_of(count, runs)
    print(f"load average at the end {loadavg()}")
    if args.json:
        settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        args.json.write_text(json.dumps({"settings": settings, "load_average_end": os.getloadavg(),
                                         "questions": bench.questions, "instances": results,
                                         "problems": problems}, ensure_ascii=False, indent=2))
    for problem in problems:
        print("CHECK FAILED:", problem)
    if args.keep or problems:
        print(f"kept {tmp} and {nginx_dir} (database, server logs, wrk output, plans, nginx logs)")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(nginx_dir, ignore_errors=True)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
