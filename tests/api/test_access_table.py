"""The access table (api/access.py) holds for every route of the app.

Every operation of the OpenAPI and every route outside it (pages, static files, docs, the
WeChat callback, event streams) is called with no credential, with each staff role's token,
with a web customer's token and with another customer's token for the first customer's user
id. An allowed caller must not get 401 or 403; a refused one gets 401 without a credential or
with one of the wrong kind, 403 with a staff token of another role (403 for a missing WeChat
signature or a forged link). A route the table does not name fails by name.

Requests carry valid-looking bodies and name resources that do not exist (a 404 is fine for an
allowed caller), so a refusal is the access check's and an allowed call changes nothing worth
undoing. Calls go straight to the ASGI app, so an event stream can be left once it answers.
"""
from __future__ import annotations

import asyncio
import json
import shutil
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from api.access import ACCESS, ADMIN, AGENT, ANALYST, CUSTOMER, LINK, PUBLIC, WECHAT, UndeclaredRoute, roles_for
from api.app import STATIC_DIR
from chatbot.channels.wechat.security import sign
from chatbot.clock import FixedClock
from chatbot.settings import DATA_DIR, Settings
from tests.conftest import FIXED_NOW

OWNER, OTHER = "access-owner", "access-other"
WECHAT_TOKEN = "access-table-wechat-token"
NO_ID = "999999"
PATH_VALUES = {"session_id": NO_ID, "reply_id": NO_ID, "application_id": NO_ID, "news_id": NO_ID,
               "entry_id": "no-such-entry", "username": "nobody", "version": "20260101-000000-00000000"}
WECHAT_TIME = str(int(FIXED_NOW.timestamp()))
QUERIES = {"/v1/sandbox/sms": {"phone": "13800138000"}, "/v1/chat/history": {"user_id": OWNER},
           "/v1/chat/status": {"user_id": OWNER}, "/v1/chat/events": {"user_id": OWNER},
           "/v1/chat/logout": {"user_id": OWNER},  # another customer's token naming the owner: 401
           # a callback as WeChat sends it, but not signed with the account's token
           "/wechat": {"signature": "0" * 40, "timestamp": WECHAT_TIME, "nonce": "n1", "echostr": "e"}}
FAQ_FIELDS = {"question": "访问表测试问题", "answer": "访问表测试答案", "category": "测试"}
BODIES = {
    ("POST", "/v1/chat"): {"user_id": OWNER, "text": "你好"},
    ("POST", "/v1/chat/feedback"): {"user_id": OWNER, "feedback": "abcdefgh", "helpful": True},
    ("POST", "/v1/nlu/parse"): {"text": "查一下余额"},
    ("POST", "/v1/faq/search"): {"text": "信用卡怎么还款"},
    ("POST", "/v1/auth/login"): {"username": "analyst", "password": "analyst-sandbox"},
    ("POST", "/v1/agent/sessions/{session_id}/messages"): {"text": "您好"},
    ("POST", "/v1/agent/sessions/{session_id}/transfer"): {"to": "agent2"},
    ("POST", "/v1/agent/sessions/{session_id}/slots"): {"slots": {"amount": "2000"}},
    ("POST", "/v1/admin/annotations"): {"turn_ids": [int(NO_ID)], "label": "greet"},
    ("POST", "/v1/admin/models/{version}/promote"): {"force": False},
    ("POST", "/v1/admin/faq"): {"id": "card-001", **FAQ_FIELDS},  # an id in use: 409, nothing rebuilt
    ("PUT", "/v1/admin/faq/{entry_id}"): FAQ_FIELDS,
    ("POST", "/v1/admin/canned-replies"): {"title": "问候", "text": "您好，很高兴为您服务"},
    ("PUT", "/v1/admin/canned-replies/{reply_id}"): {"title": "问候", "text": "您好"},
    ("POST", "/v1/agent/canned-replies"): {"title": "稍等", "text": "请稍等，正在为您查询"},
    ("PUT", "/v1/agent/canned-replies/{reply_id}"): {"title": "稍等", "text": "请稍等"},
    ("PUT", "/v1/admin/agents/{username}/capacity"): {"capacity": 3},
    ("POST", "/v1/admin/applications/{application_id}/stage"): {"stage": "reviewing"},
    ("POST", "/v1/admin/news"): {"title": "访问表测试", "summary": "摘要", "body": "正文", "category": "宏观经济"},
}
STAFF = {AGENT: "agent1", ADMIN: "admin", ANALYST: "analyst"}
# Routes that end the token they are called with: staff call them with a login of their own.
SPENDS_TOKEN = {("POST", "/v1/auth/logout")}
CALLERS = ("nobody", CUSTOMER, "other customer", AGENT, ADMIN, ANALYST)


# --- calling the ASGI app ---------------------------------------------------------------------

async def call(app, method: str, path: str, query: dict | None = None, headers: dict | None = None,
               body: bytes | None = None) -> tuple[int, bytes]:
    """(status, first body bytes) of one request; an event stream is left after its first event."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if body is not None:
        headers.setdefault("content-type", "application/json")
        headers["content-length"] = str(len(body))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": urlencode(query or {}).encode(), "client": ("127.0.0.1", 50000),
             "server": ("testserver", 80), "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    pending = [{"type": "http.request", "body": body or b"", "more_body": False}]
    left, answered = asyncio.Event(), asyncio.Event()
    status, chunks = [], []

    async def receive():
        if pending:
            return pending.pop()
        await left.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            answered.set()

    task = asyncio.create_task(app(scope, receive, send))
    await asyncio.wait({task, asyncio.create_task(answered.wait())}, timeout=30,
                       return_when=asyncio.FIRST_COMPLETED)
    left.set()  # the client goes away (ends an event stream)
    try:
        await asyncio.wait_for(task, timeout=5)
    except TimeoutError:
        task.cancel()
    if task.done() and not task.cancelled() and task.exception() is not None:
        raise task.exception()
    assert status, f"{method} {path} never answered"
    return status[0], b"".join(chunks)


def run(coroutine):
    return asyncio.run(coroutine)


def as_json(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


# --- the app and its callers ------------------------------------------------------------------

@pytest.fixture(scope="module")
def app_and_services(tmp_path_factory, sqlite_templates, model_dir, intent_model, knowledge_desk):
    from api.app import create_app
    from chatbot.service import build_services

    work = tmp_path_factory.mktemp("access")
    shutil.copyfile(sqlite_templates[True], work / "bank.db")
    shutil.copyfile(DATA_DIR / "faq.yaml", work / "faq.yaml")  # no admin call may touch data/
    config = Settings(env="sandbox", database_url=f"sqlite:///{work / 'bank.db'}", model_dir=model_dir,
                      faq_path=work / "faq.yaml", wechat_token=WECHAT_TOKEN)
    services = build_services(config, clock=FixedClock(FIXED_NOW), classifier=intent_model, knowledge=knowledge_desk)
    yield create_app(services=services), services
    services.close()


@pytest.fixture(scope="module")
def credentials(app_and_services) -> dict[str, dict]:
    """The Authorization header of each caller."""
    app, _ = app_and_services

    async def tokens():
        headers = {"nobody": {}}
        for role in STAFF:
            headers[role] = await staff_login(app, role)
        for caller, user in ((CUSTOMER, OWNER), ("other customer", OTHER)):
            status, body = await call(app, "POST", "/v1/chat", body=as_json({"user_id": user, "text": "你好"}))
            assert status == 200, body
            headers[caller] = {"Authorization": f"Bearer {json.loads(body)['user_token']}"}
        return headers

    return run(tokens())


async def staff_login(app, role: str) -> dict:
    username = STAFF[role]
    status, body = await call(app, "POST", "/v1/auth/login",
                              body=as_json({"username": username, "password": f"{username}-sandbox"}))
    assert status == 200, body
    return {"Authorization": f"Bearer {json.loads(body)['token']}"}


def routes_of(app) -> set[tuple[str, str]]:
    """(method, path) of every route: the OpenAPI's operations and the routes outside it."""
    found = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            found.add(("GET", route.path))
            continue
        methods = set(route.methods or ()) - {"HEAD"} or {"HEAD"}
        found.update((method, route.path) for method in methods)
    return found


def expected(roles: frozenset[str], method: str, path: str, caller: str) -> int | None:
    """None when `caller` may pass, else the refusal's status."""
    if PUBLIC in roles:
        return None
    if WECHAT in roles or LINK in roles:
        return 403  # without WeChat's signature or a genuine link, whoever calls
    if caller in STAFF:
        if caller in roles:
            return None
        return 403 if roles & set(STAFF) else 401  # another role, or a staff token on a customer route
    if caller == CUSTOMER and CUSTOMER in roles:
        return None
    return 401  # nobody, a customer on a staff route, another customer's token for this user id


def request_for(method: str, path: str) -> tuple[str, dict, bytes | None]:
    values = {**PATH_VALUES, "news_id": "1"} if (method, path) == ("GET", "/v1/news/{news_id}") else PATH_VALUES
    concrete = path.format(**values, token="forged.link") if "{" in path else path
    if path == "/static":
        concrete = "/static/" + next(p.name for p in sorted(STATIC_DIR.iterdir()) if p.is_file())
    body = BODIES.get((method, path))
    if body is None and method in ("POST", "PUT"):
        body = {}
    return concrete, QUERIES.get(path, {}), as_json(body) if body is not None else None


# --- the tests --------------------------------------------------------------------------------

def test_every_route_of_the_app_is_in_the_table(app_and_services):
    app, _ = app_and_services
    missing = []
    for method, path in sorted(routes_of(app)):
        try:
            roles_for(method, path)
        except UndeclaredRoute as error:
            missing.append(error.args[0])
    assert not missing, "\n".join(missing)


def test_the_table_names_only_routes_that_exist(app_and_services):
    app, _ = app_and_services
    assert sorted(set(ACCESS) - routes_of(app)) == []


def test_every_caller_gets_what_the_table_says(app_and_services, credentials):
    app, _ = app_and_services

    async def walk() -> list[str]:
        wrong = []
        for method, path in sorted(routes_of(app)):
            roles = ACCESS.get((method, path))
            if roles is None:
                continue  # named by the test above
            concrete, query, body = request_for(method, path)
            for caller in CALLERS:
                headers = credentials[caller]
                if (method, path) in SPENDS_TOKEN and caller in STAFF:
                    headers = await staff_login(app, caller)
                status, answer = await call(app, method, concrete, query, headers, body)
                want = expected(roles, method, path, caller)
                if (want is None and status in (401, 403)) or (want is not None and status != want):
                    wrong.append(f"{method} {path} as {caller}: {status} (expected "
                                 f"{'not 401/403' if want is None else want}) {answer[:120].decode(errors='replace')}")
        return wrong

    wrong = run(walk())
    assert not wrong, "\n".join(wrong)


def test_staff_routes_refuse_before_they_validate(app_and_services, credentials):
    """A refused caller gets 401/403 even for a request that is invalid (ids of 0, an empty body):
    staff routes check the token first, so a 422 tells an outsider nothing. (Customer routes
    validate their user id, and POST /v1/chat its body, before the token; the table test above
    sends them valid requests.)"""
    app, _ = app_and_services

    async def walk() -> list[str]:
        wrong = []
        for (method, path), roles in sorted(ACCESS.items()):
            if not roles <= set(STAFF):
                continue
            concrete = path.format(**dict.fromkeys(PATH_VALUES, "0"))
            body = b"{}" if method in ("POST", "PUT") else None
            for caller in ("nobody", CUSTOMER, *(role for role in STAFF if role not in roles)):
                status, answer = await call(app, method, concrete, None, credentials[caller], body)
                if status != expected(roles, method, path, caller):
                    wrong.append(f"{method} {concrete} as {caller}: {status} {answer[:120]!r}")
        return wrong

    assert run(walk()) == []


def test_a_genuine_link_opens_its_download_for_anyone(app_and_services, credentials):
    from chatbot.tools.export import ExportRequest
    from chatbot.tools.loan_export import ScheduleRequest

    app, services = app_and_services
    secret, expires = services.settings.secret_key, FIXED_NOW + timedelta(minutes=30)

    async def walk() -> list[str]:
        wrong = []
        for caller in CALLERS:
            for prefix, link in (("/v1/exports/", ExportRequest(1, fmt="csv")),
                                 ("/v1/exports/loan-schedule/", ScheduleRequest(1, "NO-SUCH-LOAN", "csv"))):
                status, answer = await call(app, "GET", prefix + link.to_token(secret, expires),
                                            headers=credentials[caller])
                if status in (401, 403):
                    wrong.append(f"{prefix} as {caller}: {status} {answer[:120]!r}")
        return wrong

    assert run(walk()) == []


def test_wechat_lets_in_only_its_signature(app_and_services):
    app, services = app_and_services
    timestamp, nonce = WECHAT_TIME, "access-nonce"
    signed = {"signature": sign(WECHAT_TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    message = ("<xml><ToUserName><![CDATA[gh_bank]]></ToUserName><FromUserName><![CDATA[access-openid]]>"
               f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               "<Content><![CDATA[你好]]></Content><MsgId>2300000000000000001</MsgId></xml>").encode()

    async def calls():
        verified = await call(app, "GET", "/wechat", {**signed, "echostr": "access-echo"})
        answered = await call(app, "POST", "/wechat", signed, {"content-type": "text/xml"}, message)
        forged = await call(app, "GET", "/wechat", {**signed, "signature": "0" * 40, "echostr": "x"})
        return verified, answered, forged

    verified, answered, forged = run(calls())
    assert verified == (200, b"access-echo")
    assert answered[0] == 200, answered
    assert forged[0] == 403
