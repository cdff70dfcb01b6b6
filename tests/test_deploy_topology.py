"""docs/deploy.md's topology, as processes on loopback: PostgreSQL, Redis, two `chatbot serve`
instances (one worker each) and Debian's nginx in front with deploy/nginx/chatbot.conf and a
certificate made here with openssl. Everything below goes through nginx over HTTPS.

- One customer's turns alternate between the instances and stay one conversation: a
  binding and a transfer started on one instance are carried on and confirmed on the other.
- An agent console's event stream, opened through nginx on one instance, hears the
  customer's message taken by the other (events cross instances through Redis).
- The WeChat callback reaches the app (URL verification and a message answered).
- Every log line of both instances is one JSON object; the request id nginx made is the
  one the app logged and echoed; plain HTTP is sent to HTTPS.

Which instance served a request is read from its JSON access line, found by the request
id the response names. Deselect with `-m 'not deploy'`. Skips, saying why, without nginx,
openssl, PostgreSQL or Redis (`make test` provides the last two).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import _pg_copy, free_port, make_url_database
from tests.servers import wait_healthy

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx" / "chatbot.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WECHAT_TOKEN = "deploytoken2026"
ZHANG = {"name": "张伟", "id": "110105199003071239", "phone": "13800138000"}
PLACEHOLDER = re.compile(r"\$\{(NGINX_[A-Z0-9_]+)\}")

pytestmark = pytest.mark.deploy


def render(template: str, values: dict[str, str]) -> str:
    """Fill the ${NGINX_...} placeholders the way `envsubst` does; every one must be given."""
    missing = sorted(set(PLACEHOLDER.findall(template)) - values.keys())
    assert not missing, f"placeholders without a value: {missing}"
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


@dataclass
class Instance:
    name: str
    base: str
    log: Path
    process: subprocess.Popen

    def lines(self) -> list[dict]:
        """Every whole line of its log, parsed (one being written as this reads waits)."""
        text = self.log.read_text()
        return [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines() if line.strip()]


@dataclass
class Topology:
    https: str
    http: str
    tls: ssl.SSLContext
    instances: list[Instance]
    nginx_dir: Path

    def client(self, **options) -> httpx.Client:
        return httpx.Client(base_url=self.https, verify=self.tls, timeout=30, **options)

    def instance_of(self, request_id: str, timeout: float = 10.0) -> str:
        """The instance whose access line carries `request_id` (written as the response ends)."""
        deadline = time.monotonic() + timeout
        while True:
            for instance in self.instances:
                for line in instance.lines():
                    if line.get("request_id") == request_id and line["logger"] == "chatbot.access":
                        return instance.name
            if time.monotonic() > deadline:
                pytest.fail(f"no instance logged request {request_id}")
            time.sleep(0.1)


@pytest.fixture(scope="session")  # session: resolved before the other session fixtures, so a
def redis_and_tools() -> str:       # skip comes before a model is trained
    """The Redis URL, after checking nginx and openssl."""
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (Debian's: apt-get install nginx; make test installs it)")
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: the test makes its certificate with it")
    url = os.environ.get("CHATBOT_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis is not running: run the tests through `make test` "
                    "(scripts/with-test-services.sh starts a throwaway server)")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # as conftest's redis_url
    return make_url_database(url, 1 + int(worker[2:])) if worker.startswith("gw") else url


def _certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def _start_instance(name: str, env: dict, directory: Path) -> Instance:
    port, log = free_port(), directory / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "chatbot.cli", "serve", "--port", str(port),
                                    "--workers", "1"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Instance(name, f"http://127.0.0.1:{port}", log, process)


def _nginx_main_config(directory: Path) -> str:
    """The `nginx.conf` around the site file: a scratch prefix instead of /etc and /var."""
    temp = "\n".join(f"    {kind}_temp_path {directory}/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"worker_processes 1;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log warn;\n"
            f"events {{ worker_connections 256; }}\n"
            f"http {{\n{temp}\n    include {directory}/chatbot.conf;\n}}\n")


def _wait_listening(port: int, process: subprocess.Popen, log: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"nginx did not listen on {port}: {log.read_text(errors='replace')[-2000:]}")


def _stop(*processes: subprocess.Popen) -> None:
    """SIGTERM to all at once, then wait (nginx: fast shutdown; uvicorn: its graceful one)."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def topology(redis_and_tools, postgres_templates, model_dir, faq_index_dir):
    redis_url = redis_and_tools
    # Readable by nginx's unprivileged workers (pytest's own temp directories are not).
    directory = Path(tempfile.mkdtemp(prefix="chatbot-deploy-", dir="/tmp"))
    directory.chmod(0o755)
    https_port, http_port = free_port(), free_port()
    https = f"https://127.0.0.1:{https_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env |= {"CHATBOT_ENV": "sandbox", "CHATBOT_DATABASE_URL": _pg_copy(postgres_templates, True),
            "CHATBOT_REDIS_URL": redis_url, "CHATBOT_MODEL_DIR": str(model_dir),
            "CHATBOT_FAQ_INDEX_DIR": str(faq_index_dir), "CHATBOT_LOG_FORMAT": "json",
            "CHATBOT_TRUSTED_PROXIES": "127.0.0.1", "CHATBOT_PUBLIC_BASE_URL": https,
            "CHATBOT_WECHAT_TOKEN": WECHAT_TOKEN,
            "CHATBOT_NOTIFY_INTERVAL_SECONDS": "0", "CHATBOT_NEWS_PUSH_INTERVAL_SECONDS": "0"}
    instances = [_start_instance(name, env, directory) for name in ("app1", "app2")]
    nginx = None
    try:
        cert, key = _certificate(directory)
        site = render(TEMPLATE.read_text(), {
            "NGINX_SERVER_NAME": "localhost", "NGINX_HTTP_PORT": str(http_port),
            "NGINX_HTTPS_PORT": str(https_port), "NGINX_TLS_CERT": str(cert), "NGINX_TLS_KEY": str(key),
            "NGINX_PUBLIC_BASE_URL": https, "NGINX_ACCESS_LOG": str(directory / "access.log"),
            "NGINX_UPSTREAM_1": instances[0].base.removeprefix("http://"),
            "NGINX_UPSTREAM_2": instances[1].base.removeprefix("http://")})
        (directory / "chatbot.conf").write_text(site)
        (directory / "nginx.conf").write_text(_nginx_main_config(directory))
        for instance in instances:
            wait_healthy(instance.base, instance.process, instance.log)
        nginx_log = directory / "nginx.out"
        with open(nginx_log, "wb") as out:
            nginx = subprocess.Popen([NGINX, "-e", str(directory / "error.log"), "-p", str(directory),
                                      "-c", str(directory / "nginx.conf"), "-g", "daemon off;"],
                                     stdout=out, stderr=subprocess.STDOUT)
        _wait_listening(https_port, nginx, nginx_log)
        tls = ssl.create_default_context(cafile=str(cert))
        yield Topology(https, f"http://127.0.0.1:{http_port}", tls, instances, directory)
    finally:
        if nginx is not None:
            _stop(nginx)
        _stop(*(instance.process for instance in instances))
        shutil.rmtree(directory, ignore_errors=True)


class Customer:
    """A web customer talking through nginx; notes which instance answered each turn."""

    def __init__(self, topology: Topology, client: httpx.Client, user_id: str) -> None:
        self.topology, self.client, self.user_id = topology, client, user_id
        self.token: str | None = None
        self.turns: list[tuple[str, str]] = []  # (text, request id)

    def say(self, text: str) -> str:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.client.post("/v1/chat", json={"user_id": self.user_id, "text": text}, headers=headers)
        assert response.status_code == 200, response.text
        self.token = response.json().get("user_token") or self.token
        self.turns.append((text, response.headers["x-request-id"]))
        return "\n".join(reply["text"] for reply in response.json()["replies"])

    def code(self, phone: str) -> str:
        # Read on an instance directly, so that nginx's rotation sees the customer's turns only.
        inbox = httpx.get(f"{self.topology.instances[0].base}/v1/sandbox/sms", params={"phone": phone}).json()
        return re.search(r"\d{6}", inbox["messages"][0]["text"]).group(0)

    def instances(self, first: int = 0) -> list[str]:
        return [self.topology.instance_of(request_id) for _, request_id in self.turns[first:]]


def test_turns_alternate_and_a_transfer_started_on_one_instance_is_confirmed_on_the_other(topology):
    with topology.client() as client:
        customer = Customer(topology, client, "deploy-zhangwei")
        assert "姓名" in customer.say("查一下余额")
        customer.say(ZHANG["name"])
        assert "验证码已发送" in customer.say(ZHANG["id"])
        assert "52,380.50" in customer.say(customer.code(ZHANG["phone"]))
        transfer_start = len(customer.turns)
        assert "请核对转账信息" in customer.say("给李娜转两千五")
        assert "138****8000" in customer.say("确认")
        reply = customer.say(customer.code(ZHANG["phone"]))
        assert "转账成功" in reply and "49,880.50 元" in reply
    served = customer.instances()
    assert set(served) == {"app1", "app2"}, served
    assert all(a != b for a, b in zip(served, served[1:])), f"nginx's round robin: {served}"
    transfer = customer.instances(transfer_start)
    assert transfer[0] != transfer[1] and set(transfer) == {"app1", "app2"}, transfer


class EventStream:
    """Server-sent events read as they are needed: the socket keeps what comes meanwhile."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()
        self.seen: list[tuple[str, dict]] = []

    def wait_for(self, predicate) -> dict:
        event = None
        for line in self.lines:  # the client's read timeout bounds each wait
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
                self.seen.append((event, data))
                if predicate(event, data):
                    return data
        pytest.fail(f"the stream ended; it brought {self.seen}")


def test_an_agent_stream_through_nginx_hears_the_customer_served_by_the_other_instance(topology):
    with topology.client() as client, topology.client() as stream_client:
        login = client.post("/v1/auth/login", json={"username": "agent1", "password": "agent1-sandbox"})
        assert login.status_code == 200, login.text
        agent = {"Authorization": f"Bearer {login.json()['token']}"}
        with stream_client.stream("GET", "/v1/agent/events", headers=agent) as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            stream_id, events = response.headers["x-request-id"], EventStream(response)
            events.wait_for(lambda event, data: event == "ready")
            customer = Customer(topology, client, "deploy-handoff")
            customer.say("转人工")
            session_id = events.wait_for(lambda event, data: event == "mode" and data["mode"] == "queued")["session_id"]
            accepted = client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent)
            assert accepted.status_code == 200, accepted.text
            customer.say("我的卡被ATM吞了怎么办")
            message = events.wait_for(lambda event, data: event == "message" and "ATM" in json.dumps(data, ensure_ascii=False))
            assert message["session_id"] == session_id
    stream_instance = topology.instance_of(stream_id)  # its access line is written as it closes
    message_instance = topology.instance_of(customer.turns[-1][1])
    assert {stream_instance, message_instance} == {"app1", "app2"}, (stream_instance, message_instance)


def test_the_wechat_callback_reaches_the_app(topology):
    def signed(**extra) -> dict:
        timestamp, nonce = str(int(time.time())), str(time.monotonic_ns())
        signature = hashlib.sha1("".join(sorted((WECHAT_TOKEN, timestamp, nonce))).encode()).hexdigest()
        return {"signature": signature, "timestamp": timestamp, "nonce": nonce, **extra}

    with topology.client() as client:
        assert client.get("/wechat", params=signed(echostr="deploy-echo")).text == "deploy-echo"
        assert client.get("/wechat", params={**signed(echostr="x"), "signature": "0" * 40}).status_code == 403
        xml = ("<xml><ToUserName><![CDATA[gh_bank]]></ToUserName><FromUserName><![CDATA[o-deploy-1]]>"
               f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               "<Content><![CDATA[你好]]></Content><MsgId>7000000000000000001</MsgId></xml>")
        answer = client.post("/wechat", params=signed(openid="o-deploy-1"), content=xml.encode())
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
    assert "<ToUserName><![CDATA[o-deploy-1]]></ToUserName>" in answer.text and "<Content>" in answer.text


def test_logs_are_json_with_nginx_request_ids_and_http_goes_to_https(topology):
    with topology.client() as client:
        response = client.get("/healthz?probe=deploy")
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id) and response.headers.get_list("x-request-id") == [request_id]
    topology.instance_of(request_id)  # nginx's $request_id is the id the app logged
    nginx_lines = [json.loads(line) for line in (topology.nginx_dir / "access.log").read_text().splitlines()]
    assert any(line["request_id"] == request_id and line["path"] == "/healthz" for line in nginx_lines)
    for instance in topology.instances:
        lines = instance.lines()  # each line parses, or this fails naming it
        assert lines and all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
        written = instance.log.read_text()
        assert ZHANG["id"] not in written and ZHANG["phone"] not in written and "吞了" not in written
    redirect = httpx.get(f"{topology.http}/v1/chat/history", follow_redirects=False)
    assert redirect.status_code == 301 and redirect.headers["location"] == f"{topology.https}/v1/chat/history"
