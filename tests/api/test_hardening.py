"""HTTP hardening of issue 14: no 500 on bad input (items 9), staff logins that cannot be
used to lock agents out, sandbox logins only in the sandbox, trusted proxies, /metrics
without staff names, body size limits and security headers (items 8 and 10)."""
from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from chatbot.errors import RateLimited, Unauthorized
from chatbot.security import b64url, tokens
from chatbot.security.staff_auth import StaffAuth, lock_after
from chatbot.storage import staff as staff_store

HUGE = 2 ** 63
NUL, SURROGATE = "a\x00b", "a\ud800b"


def bearer(client, username) -> dict:
    response = client.post("/v1/auth/login", json={"username": username, "password": f"{username}-sandbox"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _error(response, status, code=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code


def _raw_json(value) -> bytes:
    """JSON with the characters escaped (a lone surrogate cannot be UTF-8 encoded)."""
    return json.dumps(value, ensure_ascii=True).encode()


# --- 9: big integers, forged tokens, NUL and surrogates, Connection: close ----------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/v1/agent/sessions/{n}"), ("POST", "/v1/agent/sessions/{n}/accept"),
    ("POST", "/v1/agent/sessions/{n}/release"), ("POST", "/v1/agent/sessions/{n}/close"),
    ("DELETE", "/v1/admin/canned-replies/{n}"), ("GET", "/v1/admin/audit?before_id={n}"),
])
def test_integers_beyond_64_bits_are_422(client, method, path):
    headers = bearer(client, "admin")
    for n in (HUGE, 10 ** 30, -1, 0):
        _error(client.request(method, path.format(n=n), headers=headers), 422)
    assert client.request(method, path.format(n=HUGE - 1), headers=headers).status_code < 500


def test_message_and_canned_reply_ids_beyond_64_bits_are_422(client):
    headers = bearer(client, "admin")
    _error(client.post(f"/v1/agent/sessions/{HUGE}/messages", json={"text": "hi"}, headers=headers), 422)
    _error(client.put(f"/v1/admin/canned-replies/{HUGE}", json={"title": "t", "text": "x"}, headers=headers), 422)


@pytest.mark.parametrize("sub", [HUGE, 10 ** 40, -5, 0, "1", 1.5, True, None])
def test_forged_tokens_with_odd_subjects_are_401(client, services, clock, sub):
    claims = {"sub": sub, "role": "admin", "iat": 0, "exp": int(clock.now().timestamp()) + 600,
              "jti": "j" * 22, "gen": 0}  # all else well-formed: the subject is what is refused
    signed = tokens.PREFIX + b64url.encode(json.dumps(claims).encode())
    import hashlib
    import hmac
    signature = hmac.new(tokens._key(services.settings.secret_key), signed.encode(), hashlib.sha256).digest()
    token = f"{signed}.{b64url.encode(signature)}"
    _error(client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)


def test_tokens_with_a_bad_expiry_are_401(services, clock):
    for exp in ("soon", None, [1]):
        claims = {"sub": 1, "role": "admin", "exp": exp, "jti": "j" * 22, "gen": 0}
        signed = tokens.PREFIX + b64url.encode(json.dumps(claims).encode())
        import hashlib
        import hmac
        signature = hmac.new(tokens._key("k"), signed.encode(), hashlib.sha256).digest()
        with pytest.raises(Unauthorized):
            tokens.verify("k", f"{signed}.{b64url.encode(signature)}", clock.now())


def _unstorable_requests(client):
    admin = bearer(client, "admin")
    session_id = client.post("/v1/chat", json={"user_id": "nul-1", "text": "转人工"}).json()["session_id"]
    agent = bearer(client, "agent1")
    assert client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent).status_code == 200
    faq = {"question": "q", "answer": "a", "category": "c", "similar": [], "tags": []}
    for bad in (NUL, SURROGATE):
        yield "POST", f"/v1/agent/sessions/{session_id}/messages", {"text": bad}, agent
        yield "POST", f"/v1/agent/sessions/{session_id}/transfer", {"to": bad}, agent
        yield "POST", "/v1/admin/canned-replies", {"title": bad, "text": "x"}, admin
        yield "POST", "/v1/admin/canned-replies", {"title": "t", "text": bad}, admin
        yield "POST", "/v1/admin/faq", {**faq, "id": "new-one", "answer": bad}, admin
        yield "POST", "/v1/admin/faq", {**faq, "id": "new-one", "similar": [bad]}, admin
        yield "PUT", "/v1/admin/faq/anything", {**faq, "question": bad}, admin
        yield "POST", "/v1/auth/login", {"username": bad, "password": "x"}, {}
        yield "POST", "/v1/auth/login", {"username": "agent1", "password": bad}, {}
        yield "POST", "/v1/faq/search", {"text": bad}, {}
        yield "POST", "/v1/nlu/parse", {"text": bad}, {}
        yield "PUT", "/v1/admin/agents/agent1/capacity", {"capacity": 2, bad: 1}, admin


def _check_unstorable(client):
    for method, path, body, headers in _unstorable_requests(client):
        response = client.request(method, path, content=_raw_json(body),
                                  headers={**headers, "Content-Type": "application/json"})
        _error(response, 422, "invalid_characters")
    for path in ("/v1/admin/audit?actor=a%00b", "/v1/admin/audit?action=%00", "/v1/sandbox/sms?phone=1%00"):
        _error(client.get(path, headers=bearer(client, "admin")), 422, "invalid_characters")


def test_nul_and_lone_surrogates_are_422(backend, client):
    """On both databases (PostgreSQL refuses NUL; no driver encodes a lone surrogate)."""
    _check_unstorable(client)


def test_an_unexpected_error_closes_the_connection(services):
    from api.app import create_app

    app = create_app(services=services)

    @app.get("/boom")
    async def boom():
        raise RuntimeError("bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500 and response.headers["connection"] == "close"
    assert response.json()["error"]["code"] == "internal_error"


# --- 10: login lockout per account and address, with backoff ------------------------------------

def _auth(services, sandbox=True):
    return StaffAuth(services.database, services.settings.secret_key, services.clock,
                     timedelta(minutes=30), sandbox=sandbox)


def test_guessing_from_one_address_does_not_lock_the_agent_out_elsewhere(services):
    auth = _auth(services)
    for _ in range(5):
        with pytest.raises(Unauthorized):
            auth.login("agent1", "guess", "203.0.113.9")
    with pytest.raises(RateLimited):
        auth.login("agent1", "agent1-sandbox", "203.0.113.9")  # the guesser is locked
    assert auth.login("agent1", "agent1-sandbox", "10.0.0.7").staff.username == "agent1"


def test_lock_backs_off_and_a_success_forgives(services, clock):
    auth = _auth(services)
    assert [lock_after(n).total_seconds() for n in (4, 5, 6, 7)] == [0, 60, 120, 240]
    assert lock_after(100) == timedelta(hours=1)
    for _ in range(5):
        with pytest.raises(Unauthorized):
            auth.login("agent2", "guess", "198.51.100.1")
    with pytest.raises(RateLimited) as first:
        auth.login("agent2", "guess", "198.51.100.1")
    assert 0 < first.value.retry_after <= 60
    clock.advance(seconds=61)
    with pytest.raises(Unauthorized):
        auth.login("agent2", "guess", "198.51.100.1")  # sixth failure: two minutes now
    with pytest.raises(RateLimited) as second:
        auth.login("agent2", "agent2-sandbox", "198.51.100.1")
    assert 60 < second.value.retry_after <= 120
    clock.advance(seconds=121)
    assert auth.login("agent2", "agent2-sandbox", "198.51.100.1").staff.username == "agent2"
    with services.database.read() as db:
        assert staff_store.pair_failures(db, clock.now() - timedelta(days=1), "agent2", "198.51.100.1")[0] == 0


def test_many_usernames_from_one_address_lock_the_address(services):
    auth = _auth(services)
    for n in range(20):
        with pytest.raises(Unauthorized):
            auth.login(f"user{n}", "guess", "192.0.2.5")
    with pytest.raises(RateLimited):
        auth.login("agent1", "agent1-sandbox", "192.0.2.5")


# --- 8: sandbox staff logins only in the sandbox ----------------------------------------------

def test_sandbox_logins_are_refused_outside_the_sandbox(services):
    in_sandbox, elsewhere = _auth(services, sandbox=True), _auth(services, sandbox=False)
    token = in_sandbox.login("admin", "admin-sandbox", "10.0.0.1").token
    with pytest.raises(Unauthorized):
        elsewhere.login("admin", "admin-sandbox", "10.0.0.1")
    with pytest.raises(Unauthorized):
        elsewhere.authenticate(token)  # a token from the sandbox days is no good either
    assert in_sandbox.authenticate(token).username == "admin"


def test_the_service_tells_staff_auth_where_it_runs(database_url, model_dir, clock, intent_model, knowledge_desk):
    from chatbot.service import build_services
    from chatbot.settings import Settings

    settings = Settings(env="production", database_url=database_url, model_dir=model_dir,
                        secret_key="Prod-secret-0123456789-abcdefghijKLMN", sms_gateway="webhook",
                        data_key="Prod-data-key-9876543210-zyxwvutsrQPON",
                        sms_webhook_url="https://sms.bank.example/send", sms_webhook_token="t0ken")
    built = build_services(settings, clock=clock, classifier=intent_model, knowledge=knowledge_desk)
    try:
        assert built.auth.sandbox is False
        with pytest.raises(Unauthorized):
            built.auth.login("agent1", "agent1-sandbox", "10.0.0.1")
    finally:
        built.close()


# --- 10: trusted proxies --------------------------------------------------------------------------

def test_proxy_headers_only_from_configured_proxies(monkeypatch):
    """The app believes X-Forwarded-* (api/request_log.py; tests/api/test_request_log.py)."""
    from api.request_log import TrustedPeers
    from chatbot.settings import Settings

    assert Settings().trusted_proxies == "" and not TrustedPeers("")
    peers = TrustedPeers(" 10.0.0.1, 10.1.0.0/16 ,")
    assert "10.0.0.1" in peers and "10.1.2.3" in peers and "127.0.0.1" not in peers
    monkeypatch.setenv("CHATBOT_TRUSTED_PROXIES", "10.0.0.1")
    assert Settings().trusted_proxies == "10.0.0.1"


def test_serve_leaves_proxy_headers_to_the_app(monkeypatch, database_url, model_dir, faq_index_dir):
    """uvicorn's server never believes X-Forwarded-For (by default it would from loopback, so
    anything on the host could pick its address): the app does, from CHATBOT_TRUSTED_PROXIES
    only, after taking the request id (api/request_log.py). uvicorn's access log is the app's."""
    import uvicorn
    from typer.testing import CliRunner

    from chatbot import cli

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    monkeypatch.setattr(cli, "_ensure_model", lambda settings, say=None: None)
    env = {"CHATBOT_ENV": "sandbox", "CHATBOT_DATABASE_URL": database_url, "CHATBOT_MODEL_DIR": str(model_dir),
           "CHATBOT_FAQ_INDEX_DIR": str(faq_index_dir)}
    result = CliRunner().invoke(cli.app, ["serve"], env=env)
    assert result.exit_code == 0, result.output
    assert calls[-1]["proxy_headers"] is False and calls[-1]["forwarded_allow_ips"] == ""
    assert calls[-1]["access_log"] is False and calls[-1]["log_config"]["root"]["handlers"] == ["default"]
    result = CliRunner().invoke(cli.app, ["serve"], env={**env, "CHATBOT_TRUSTED_PROXIES": "10.0.0.2"})
    assert result.exit_code == 0, result.output
    assert calls[-1]["proxy_headers"] is False and calls[-1]["forwarded_allow_ips"] == ""


def test_forwarded_for_from_an_untrusted_peer_is_ignored(services):
    """What `chatbot serve` builds by default: the peer address counts, not X-Forwarded-For."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from api.app import create_app

    app = create_app(services=services)
    seen = []

    @app.get("/whoami")
    async def whoami(request: __import__("fastapi").Request):
        seen.append(request.client.host)
        return {}

    trusted = ProxyHeadersMiddleware(app, trusted_hosts="10.9.9.9")
    with TestClient(trusted, client=("127.0.0.1", 1234)) as client:
        client.get("/whoami", headers={"X-Forwarded-For": "6.6.6.6"})
    with TestClient(trusted, client=("10.9.9.9", 1234)) as client:
        client.get("/whoami", headers={"X-Forwarded-For": "6.6.6.6"})
    assert seen == ["127.0.0.1", "6.6.6.6"]


# --- 10: /metrics without staff usernames -------------------------------------------------------

def test_metrics_show_no_staff_usernames(client):
    agent = bearer(client, "agent1")
    session_id = client.post("/v1/chat", json={"user_id": "m-1", "text": "转人工"}).json()["session_id"]
    client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent)
    client.post(f"/v1/agent/sessions/{session_id}/messages", json={"text": "您好"}, headers=agent)
    client.post(f"/v1/agent/sessions/{session_id}/close", headers=agent)
    client.post("/v1/chat", json={"user_id": "m-1", "text": "5"})
    admin_view = client.get("/v1/admin/metrics", headers=bearer(client, "admin")).json()
    assert "agent1" in admin_view["ratings"]  # behind a login, agents are named
    text = client.get("/metrics").text
    assert "chatbot_handoff_rating_average{agent_id=" in text
    for name in ("agent1", "agent2", "admin", "analyst", "客服"):
        assert name not in text


# --- 10: body size limit ----------------------------------------------------------------------------

def test_a_huge_body_is_413_before_it_is_read(client):
    big = b'{"user_id": "u", "text": "' + b"x" * (12 * 1024 * 1024) + b'"}'
    response = client.post("/v1/chat", content=big, headers={"Content-Type": "application/json"})
    _error(response, 413, "body_too_large")
    assert response.headers["connection"] == "close"


def test_a_chunked_body_without_length_is_cut_off(client):
    def chunks():
        yield b'{"text": "'
        for _ in range(200):
            yield b"y" * 1024
        yield b'"}'

    response = client.post("/v1/faq/search", content=chunks(), headers={"Content-Type": "application/json"})
    _error(response, 413, "body_too_large")
    small = client.post("/v1/faq/search", content=iter([b'{"text": "', "挂失".encode(), b'"}']),
                        headers={"Content-Type": "application/json"})
    assert small.status_code == 200


def test_faq_admin_takes_larger_bodies(client):
    admin = bearer(client, "admin")
    # An id the route refuses (422), so nothing is written to the FAQ file or the shared index.
    entry = {"id": "Not A Valid Id", "question": "大问题", "answer": "答" * 2000, "category": "其他",
             "similar": ["问" * 1000 + str(n) for n in range(20)], "tags": []}
    body = json.dumps(entry, ensure_ascii=True).encode()
    assert 64 * 1024 < len(body) < 256 * 1024
    headers = {**admin, "Content-Type": "application/json"}
    _error(client.post("/v1/admin/faq", content=body, headers=headers), 422, "validation_error")
    _error(client.post("/v1/nlu/parse", content=body, headers=headers), 413, "body_too_large")
    huge = json.dumps({**entry, "answer": "答" * 50_000}, ensure_ascii=True).encode()
    _error(client.post("/v1/admin/faq", content=huge, headers=headers), 413, "body_too_large")


# --- 10: security headers ------------------------------------------------------------------------

class _InlineFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "style" or "style" in attrs or any(k.startswith("on") for k in attrs):
            self.inline.append((tag, attrs))
        self._in_script = tag == "script" and "src" not in attrs

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(("script", data[:40]))


@pytest.mark.parametrize("path", ["/", "/agent", "/static/chat.js", "/static/agent.css"])
def test_pages_carry_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    if path in ("/", "/agent"):
        finder = _InlineFinder()
        finder.feed(response.text)
        assert finder.inline == []  # nothing the policy would block


def test_api_answers_carry_the_generic_headers(client):
    response = client.get("/healthz")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert client.get("/docs").status_code == 200  # Swagger UI keeps its CDN scripts: no CSP there
    assert "content-security-policy" not in client.get("/docs").headers
