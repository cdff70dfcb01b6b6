"""WeChat channel fixtures: a fake WeChat API server and a sender that talks like WeChat.

`fake_wechat` is a real HTTP server on a free loopback port (http.server in a thread): it
issues access tokens, can expire or reject them, records customer-service and template
messages and menus. `wx` builds callback XML as WeChat sends it, signs it, encrypts it with
wechatpy in safe mode and posts it to `/wechat` of the test app; it also reads the replies.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto

from chatbot.settings import Settings

TOKEN = "bank-callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as the console makes them
APPID = "wx1234567890abcdef"
SECRET = "test-app-secret"
ACCOUNT = "gh_examplebank"


class FakeWeChat:
    """WeChat's API as far as we use it; thread-safe, inspectable by tests."""

    def __init__(self, expires_in: int = 7200) -> None:
        self.expires_in = expires_in
        self.tokens_issued: list[str] = []
        self.valid_tokens: set[str] = set()
        self.custom_messages: list[dict] = []
        self.template_messages: list[dict] = []
        self.menus: list[dict] = []
        self.errcodes_next: list[int] = []     # answer these errcodes to the next API calls
        self.http_errors_next: list[int] = []  # answer these HTTP statuses to the next requests
        self.reject_token_once = False         # answer 40001 to the next call whatever its token
        self.closed_windows: set[str] = set()  # openids outside the 48-hour window (45015)
        self.cond = threading.Condition()
        self._numbers = itertools.count(1)        # msgids
        self._token_numbers = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def expire_tokens(self) -> None:
        with self.cond:
            self.valid_tokens.clear()

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: predicate(self), timeout)

    # --- the handler's side -------------------------------------------------------------------
    def issue_token(self, query: dict) -> tuple[int, dict]:
        if query.get("appid") != APPID or query.get("secret") != SECRET:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        with self.cond:
            if self.http_errors_next:
                return self.http_errors_next.pop(0), {}
            token = f"TOKEN-{next(self._token_numbers)}"
            self.tokens_issued.append(token)
            self.valid_tokens = {token}  # a new token retires the old one, as on WeChat
            return 200, {"access_token": token, "expires_in": self.expires_in}

    def api_call(self, path: str, token: str, payload: dict) -> tuple[int, dict]:
        with self.cond:
            if self.http_errors_next:
                return self.http_errors_next.pop(0), {}
            if self.reject_token_once:
                self.reject_token_once = False
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            if token not in self.valid_tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            if self.errcodes_next:
                return 200, {"errcode": self.errcodes_next.pop(0), "errmsg": "scripted"}
            if payload.get("touser") in self.closed_windows and path.endswith("custom/send"):
                return 200, {"errcode": 45015, "errmsg": "response out of time limit"}
            record = {"custom/send": self.custom_messages, "template/send": self.template_messages,
                      "menu/create": self.menus}
            for suffix, store in record.items():
                if path.endswith(suffix):
                    store.append(payload)
                    self.cond.notify_all()
                    return 200, {"errcode": 0, "errmsg": "ok", "msgid": next(self._numbers)}
            return 404, {"errcode": 404, "errmsg": "unknown path"}


def _handler(fake: FakeWeChat):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            self._send(*(fake.issue_token(query) if url.path == "/cgi-bin/token" else (404, {"errcode": 404})))

        def do_POST(self):
            url = urlparse(self.path)
            token = parse_qs(url.query).get("access_token", [""])[0]
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            self._send(*fake.api_call(url.path, token, payload))

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # keep the test output clean
            pass

    return Handler


@pytest.fixture(scope="session")
def _shared_knowledge() -> dict:
    return {}


@pytest.fixture(autouse=True)
def _load_knowledge_once(monkeypatch, _shared_knowledge):
    """Indexing the FAQ takes seconds per `services`; these tests never edit it, so share one."""
    import chatbot.service as service

    desk = getattr(service, "KnowledgeDesk", None)
    if desk is None:
        return
    original = desk.load

    def load(faq_path, kg_path=None):
        key = (str(faq_path), str(kg_path))
        if key not in _shared_knowledge:
            _shared_knowledge[key] = original(faq_path, kg_path)
        return _shared_knowledge[key]

    monkeypatch.setattr(desk, "load", staticmethod(load))


@pytest.fixture
def fake_wechat():
    fake = FakeWeChat()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
    fake.thread.join(timeout=5)


@pytest.fixture
def settings(database_url, model_dir, fake_wechat) -> Settings:
    """The root settings plus a configured official account talking to the fake server."""
    return Settings(env="sandbox", database_url=database_url, model_dir=model_dir,
                    wechat_token=TOKEN, wechat_aes_key=AES_KEY, wechat_appid=APPID, wechat_secret=SECRET,
                    wechat_api_base=fake_wechat.base_url, wechat_api_backoff_seconds=0.01,
                    wechat_reply_timeout_seconds=3.0, public_base_url="https://bank.example",
                    wechat_template_transfer_receipt="TPL-TRANSFER", wechat_template_news="TPL-NEWS")


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


class WeChatSender:
    """Posts callbacks to the app the way WeChat's servers do."""

    token, aes_key, appid, account = TOKEN, AES_KEY, APPID, ACCOUNT
    sign = staticmethod(sign)

    def __init__(self, client, clock) -> None:
        self.client = client
        self.clock = clock
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
        self._nonces = itertools.count(100000)

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    # --- messages --------------------------------------------------------------------------------
    def text(self, openid: str, content: str, msg_id: int, create_time: int | None = None) -> str:
        return self._xml(openid, "text", create_time, f"<Content><![CDATA[{content}]]></Content>"
                         f"<MsgId>{msg_id}</MsgId>")

    def voice(self, openid: str, recognition: str, msg_id: int) -> str:
        return self._xml(openid, "voice", None, "<MediaId><![CDATA[media-1]]></MediaId><Format><![CDATA[amr]]>"
                         f"</Format><Recognition><![CDATA[{recognition}]]></Recognition><MsgId>{msg_id}</MsgId>")

    def image(self, openid: str, msg_id: int) -> str:
        return self._xml(openid, "image", None, "<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl>"
                         f"<MediaId><![CDATA[media-2]]></MediaId><MsgId>{msg_id}</MsgId>")

    def location(self, openid: str, msg_id: int) -> str:
        return self._xml(openid, "location", None, "<Location_X>39.9</Location_X><Location_Y>116.4</Location_Y>"
                         f"<Scale>15</Scale><Label><![CDATA[北京]]></Label><MsgId>{msg_id}</MsgId>")

    def link(self, openid: str, msg_id: int) -> str:
        return self._xml(openid, "link", None, "<Title><![CDATA[标题]]></Title><Description><![CDATA[d]]>"
                         f"</Description><Url><![CDATA[http://x.cn]]></Url><MsgId>{msg_id}</MsgId>")

    def event(self, openid: str, event: str, key: str | None = None, create_time: int | None = None) -> str:
        extra = f"<Event><![CDATA[{event}]]></Event>"
        if key is not None:
            extra += f"<EventKey><![CDATA[{key}]]></EventKey>"
        return self._xml(openid, "event", create_time, extra)

    def _xml(self, openid: str, msg_type: str, create_time: int | None, fields: str) -> str:
        return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
                f"</FromUserName><CreateTime>{create_time or self.now()}</CreateTime>"
                f"<MsgType><![CDATA[{msg_type}]]></MsgType>{fields}</xml>")

    # --- transport ------------------------------------------------------------------------------
    def query(self, timestamp: int | None = None, nonce: str | None = None, **extra) -> dict:
        timestamp = str(timestamp or self.now())
        nonce = nonce or str(next(self._nonces))
        return {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, **extra}

    def post(self, xml: str, *, safe: bool = False, query: dict | None = None):
        """POST like WeChat: plaintext, or (safe) the Encrypt envelope with `msg_signature`."""
        query = dict(query or self.query())
        if not safe:
            return self.client.post("/wechat", params=query, content=xml.encode())
        envelope = xmltodict.parse(self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"]))["xml"]
        body = (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>")
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        return self.client.post("/wechat", params=query, content=body.encode())

    def reply(self, response, *, safe: bool = False) -> dict | None:
        """The reply's fields (decrypted in safe mode), or None for `success`."""
        assert response.status_code == 200, response.text
        if response.text == "success":
            return None
        assert response.headers["content-type"].startswith("application/xml")
        xml = response.text
        if safe:
            envelope = xmltodict.parse(xml)["xml"]
            xml = self.crypto.decrypt_message(xml, envelope["MsgSignature"], envelope["TimeStamp"],
                                              envelope["Nonce"])
        return xmltodict.parse(xml)["xml"]


@pytest.fixture
def wx(client, clock) -> WeChatSender:
    return WeChatSender(client, clock)


class CountingEngine:
    """Wraps the real engine: counts calls and can be slow (the 5-second rule)."""

    def __init__(self, inner, delay: float = 0.0) -> None:
        self.inner, self.delay = inner, delay
        self.calls = 0
        self._lock = threading.Lock()

    def handle(self, *args, **kwargs):
        with self._lock:
            self.calls += 1
        time.sleep(self.delay)
        return self.inner.handle(*args, **kwargs)


@pytest.fixture
def wechat_app(services, clock):
    """`wechat_app(engine_delay=0, **settings)` -> (WeChatSender, CountingEngine) on a new app."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    stack = contextlib.ExitStack()
    base_engine = services.engine

    def build(engine_delay: float = 0.0, **overrides):
        services.settings = services.settings.model_copy(update=overrides)
        services.engine = CountingEngine(base_engine, engine_delay)
        client = stack.enter_context(TestClient(create_app(services=services)))
        return WeChatSender(client, clock), services.engine

    yield build
    stack.close()


@pytest.fixture
def wait_until():
    """`wait_until(predicate, timeout=5)`: poll until true (for work done in other threads)."""
    return _wait_until


def _wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
