"""Request ids and log lines (api/request_log.py, chatbot/logs.py): every response names its
request, the id comes from a trusted proxy or is made here, lines written while a request is
handled carry it, the access line has method, path, status and duration and nothing a
customer typed, and both formats mask numbers."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.request_log import TrustedPeers
from chatbot import logs

PROXY = "10.9.9.9"
ZHANG_ID = "110105199003071239"
ZHANG_PHONE = "13800138000"


@pytest.fixture
def log_lines():
    """What the JSON handler of `chatbot serve` writes, as parsed objects (read after the calls)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.fixture
def behind_proxy(services, monkeypatch):
    """The app as served with CHATBOT_TRUSTED_PROXIES=10.9.9.9, called by that proxy."""
    monkeypatch.setattr(services.settings, "trusted_proxies", PROXY)
    with TestClient(create_app(services=services), client=(PROXY, 4321)) as client:
        yield client


def _access(lines):
    return [line for line in lines if line["logger"] == logs.ACCESS_LOGGER]


def test_each_response_names_a_new_request_id_and_the_access_line_carries_it(client, log_lines):
    first, second = client.get("/healthz"), client.get("/healthz?probe=1")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]
    access = _access(log_lines())
    assert [(a["request_id"], a["method"], a["path"], a["status"]) for a in access] == [
        (ids[0], "GET", "/healthz", 200), (ids[1], "GET", "/healthz", 200)]  # no query string
    assert all(isinstance(a["duration_ms"], float) and a["duration_ms"] >= 0 for a in access)
    assert set(access[0]) == {"time", "level", "logger", "message", "request_id", "method", "path",
                              "status", "duration_ms"}
    assert access[0]["message"] == f"GET /healthz 200 {access[0]['duration_ms']:.1f} ms"


def test_a_request_id_is_taken_only_from_a_trusted_proxy(client, behind_proxy):
    offered = {"X-Request-ID": "nginx-5f2b1c9e0d"}
    assert client.get("/healthz", headers=offered).headers["x-request-id"] != "nginx-5f2b1c9e0d"
    assert behind_proxy.get("/healthz", headers=offered).headers["x-request-id"] == "nginx-5f2b1c9e0d"
    for bad in ("a" * 129, "has space", "semi;colon", "-leading-dash"):
        echoed = behind_proxy.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert echoed != bad and re.fullmatch(r"[0-9a-f]{32}", echoed)
    assert behind_proxy.get("/healthz").headers.get_list("x-request-id")[0]  # one header, made here


def test_forwarded_for_is_believed_from_the_configured_proxy_only(services, monkeypatch):
    """The proxy headers moved from uvicorn's server into the app (behind the request id):
    the same rule, `CHATBOT_TRUSTED_PROXIES` or nobody."""
    seen = []
    for trusted, peer in (("", PROXY), (PROXY, "127.0.0.1"), (PROXY, PROXY), ("10.9.0.0/16", PROXY)):
        monkeypatch.setattr(services.settings, "trusted_proxies", trusted)
        app = create_app(services=services)

        @app.get("/whoami")
        async def whoami(request: __import__("fastapi").Request):
            seen.append(request.client.host)
            return {}

        with TestClient(app, client=(peer, 1234)) as client:
            client.get("/whoami", headers={"X-Forwarded-For": "6.6.6.6"})
    assert seen == [PROXY, "127.0.0.1", "6.6.6.6", "6.6.6.6"]


def test_trusted_peers():
    peers = TrustedPeers(" 10.0.0.1, 10.1.0.0/16 ,::1,proxy.internal")
    assert "10.0.0.1" in peers and "10.1.200.3" in peers and "::1" in peers and "proxy.internal" in peers
    assert "10.0.0.2" not in peers and None not in peers and "" not in peers
    assert not TrustedPeers("") and "1.2.3.4" in TrustedPeers("*")


def test_lines_written_during_a_turn_carry_its_id_and_no_customer_text(client, services, log_lines, monkeypatch):
    handle = services.engine.handle

    def handle_and_log(*args, **kwargs):  # runs in a turn thread
        logging.getLogger("chatbot.engine").warning("turn for a customer")
        return handle(*args, **kwargs)

    monkeypatch.setattr(services.engine, "handle", handle_and_log)
    text = f"我叫张伟身份证{ZHANG_ID}手机{ZHANG_PHONE}"
    response = client.post("/v1/chat", json={"user_id": "log-1", "text": text})
    assert response.status_code == 200
    lines = log_lines()
    turn = [line for line in lines if line["message"] == "turn for a customer"]
    assert turn and turn[0]["request_id"] == response.headers["x-request-id"]
    assert [(a["method"], a["path"], a["status"]) for a in _access(lines)] == [("POST", "/v1/chat", 200)]
    written = json.dumps(lines, ensure_ascii=False)
    assert "张伟" not in written and ZHANG_ID not in written and ZHANG_PHONE not in written


def test_a_link_secret_in_the_path_is_logged_as_its_route(client, log_lines):
    client.get("/v1/exports/" + "s3cr3t-link-token" * 3)
    assert [a["path"] for a in _access(log_lines())] == ["/v1/exports/{token}"]


def test_an_unexpected_error_is_a_500_with_the_id_and_its_lines_carry_it(services, log_lines):
    app = create_app(services=services)

    @app.get("/boom")
    async def boom():
        raise RuntimeError(f"bug while serving {ZHANG_PHONE}")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"
    request_id = response.headers["x-request-id"]
    lines = log_lines()
    error = [line for line in lines if line["message"] == "unhandled error"]
    assert error and error[0]["request_id"] == request_id and error[0]["level"] == "ERROR"
    assert "RuntimeError" in error[0]["exception"] and ZHANG_PHONE not in error[0]["exception"]
    assert "138****8000" in error[0]["exception"]
    assert [(a["request_id"], a["status"]) for a in _access(lines)] == [(request_id, 500)]


def _record(message, *args, **extra):
    record = logging.LogRecord("chatbot.test", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_json_lines_are_one_object_each_and_masked():
    formatter = logs.JsonFormatter()
    token = logs.REQUEST_ID.set("rid-1")
    try:
        record = _record("客户 %s 的卡 %s", ZHANG_PHONE, "6222021234567890128")
        logs.RequestIdFilter().filter(record)
    finally:
        logs.REQUEST_ID.reset(token)
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "rid-1" and entry["level"] == "WARNING" and entry["logger"] == "chatbot.test"
    assert ZHANG_PHONE not in line and "138****8000" in entry["message"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", entry["time"])
    # A model version is a name, not a card number (digits mixed with letters other than x).
    named = json.loads(formatter.format(_record("model %s now answers", "20261207-045706-114e4c0b")))
    assert named["message"] == "model 20261207-045706-114e4c0b now answers"
    outside = _record("scheduler ran")
    logs.RequestIdFilter().filter(outside)
    assert json.loads(formatter.format(outside))["request_id"] is None


def test_text_lines_name_the_request_and_are_masked():
    formatter = logs.TextFormatter()
    inside = _record("身份证 %s", ZHANG_ID, request_id="abc123")
    line = formatter.format(inside)
    assert "[abc123]" in line and ZHANG_ID not in line and "1101**********1239" in line
    assert " WARNING chatbot.test [-] ok" in formatter.format(_record("ok", request_id=None))


def test_the_configuration_covers_uvicorn_and_refuses_unknown_formats():
    config = logs.logging_config("json", "warning")
    assert config["root"] == {"handlers": ["default"], "level": "WARNING"}
    assert config["formatters"]["default"]["()"] == "chatbot.logs.JsonFormatter"
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        assert config["loggers"][name]["handlers"] == [] and config["loggers"][name]["propagate"] is True
    assert logs.logging_config()["formatters"]["access"]["()"] == "chatbot.logs.TextFormatter"
    from chatbot.settings import Settings

    assert Settings().log_format == "text"
    with pytest.raises(ValueError):
        Settings(log_format="xml")


def test_request_ids_look_like_nginx_ones_and_do_not_repeat():
    from api.request_log import new_request_id

    ids = [new_request_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    new_request_id.restart()  # what a forked worker does first: a new key, the counter anew
    assert not set(ids) & {new_request_id() for _ in range(5000)}
