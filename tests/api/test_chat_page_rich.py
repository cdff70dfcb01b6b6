"""The chat page draws every reply item of docs/rich_replies.md, in real Chromium.

The page is served from api/static by Playwright itself and the chat API is a fake in this
file (`FakeBank`), so these tests need no server: replies with rich items are whatever a
test says, and the page is checked the way a customer sees it, on a phone (390x844) and at a
desk. The fake records each answer into the transcript as the server does (its items' text),
so the page's confirming of drawn lines by the history is exercised too. Screenshots:
test-artifacts/chat_page_*.png. One browser for the module.
"""
from __future__ import annotations

import json
import mimetypes
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from api.limits import CONTENT_SECURITY_POLICY
from tests.conftest import CHROMIUM

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
ORIGIN = "http://bank.test"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}
BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BEIJING)
TOKEN = "w1.ZmFrZQ.fake-signature"
URL = re.compile(r"https?://|www\.")
WAIT_MS = 10000


def text(words: str) -> dict:
    return {"type": "text", "text": words}


class FakeBank:
    """The chat API as the page calls it, answered from the test. `answers` maps a customer's
    words to the reply items (and state); every answer is recorded into `history` (the items'
    text, as the engine stores it), so the page's history calls confirm what it drew."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[list[dict], dict]] = {}
        self.history: list[dict] = []
        self.status = {"mode": "bot", "position": None, "estimated_wait_minutes": None,
                       "agents_online": None, "agent": None, "rating_pending": False, "message": None}
        self.said: list[str] = []
        self.feedback: list[dict] = []
        self.logouts: list[str | None] = []
        self.errors: list[str] = []  # uncaught errors of the pages opened on this bank
        self.now = NOW

    def answer(self, words: str, *replies: dict, active_flow: str | None = None, mode: str = "bot") -> None:
        self.answers[words] = (list(replies), {"mode": mode, "intent": None, "active_flow": active_flow})

    def add(self, sender: str, words: str, at: datetime | None = None, **extra) -> dict:
        message = {"id": len(self.history) + 1, "sender": sender, "text": words,
                   "at": (at or self.now).astimezone(timezone.utc).isoformat(), **extra}
        self.history.append(message)
        return message

    def install(self, page) -> None:
        page.route(ORIGIN + "/**", self._serve)

    def _serve(self, route) -> None:
        request = route.request
        url = urlparse(request.url)
        path = url.path
        if request.method == "GET" and (path == "/" or path.startswith("/static/")):
            file = STATIC / ("index.html" if path == "/" else path.removeprefix("/static/"))
            kind = mimetypes.guess_type(file.name)[0] or "text/plain"
            route.fulfill(status=200, body=file.read_bytes(), headers={
                "content-type": kind + "; charset=utf-8", "content-security-policy": CONTENT_SECURITY_POLICY})
        elif path == "/v1/chat" and request.method == "POST":
            self._chat(route, json.loads(request.post_data or "{}"), request.headers.get("authorization"))
        elif path == "/v1/chat/history":
            after = int(parse_qs(url.query).get("after", ["0"])[0])
            self._json(route, {"messages": [m for m in self.history if m["id"] > after]})
        elif path == "/v1/chat/status":
            self._json(route, self.status)
        elif path == "/v1/chat/feedback":
            self.feedback.append({**json.loads(request.post_data or "{}"), "auth": request.headers.get("authorization")})
            self._json(route, {"ok": True})
        elif path == "/v1/chat/logout":
            self.logouts.append(request.headers.get("authorization"))
            self._json(route, {"unbound": True})
        else:  # the event stream: down, so the page polls
            route.fulfill(status=503, body="")

    def _chat(self, route, body: dict, authorization: str | None) -> None:
        words = body.get("text", "")
        self.said.append(words)
        replies, state = self.answers.get(words, ([text("好的，收到。")], {"mode": "bot", "intent": None,
                                                                         "active_flow": None}))
        self.add("user", words)
        for item in replies:
            if item.get("text"):
                self.add("bot", item["text"])
        answer = {"session_id": 1, "replies": replies, "state": state}
        if authorization is None:
            answer["user_token"] = TOKEN
        self._json(route, answer)

    @staticmethod
    def _json(route, data: dict, status: int = 200) -> None:
        route.fulfill(status=status, body=json.dumps(data, ensure_ascii=False),
                      headers={"content-type": "application/json"})


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium (Debian's, never a downloaded one) for the module's pages."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _close_pages(chromium):
    """Each test's pages (contexts: their own local storage) close after it."""
    yield
    for context in chromium.contexts:
        context.close()


def open_page(chromium, bank: FakeBank, viewport=PHONE, identity: dict | None = None):
    """A fresh context (its own local storage) on the fake bank, Beijing's 10:00 on 24 Nov."""
    context = chromium.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.on("pageerror", lambda error: bank.errors.append(str(error)))
    page.clock.install(time=bank.now)
    bank.install(page)
    if identity is not None:  # the page's saved identity, before its first load only (not on a reload)
        page.add_init_script("if (!sessionStorage.getItem('seeded')) { sessionStorage.setItem('seeded', '1');"
                             " localStorage.setItem('chatbot.identity', %s); }" % json.dumps(json.dumps(identity)))
    page.goto(ORIGIN + "/")
    page.locator(".msg--bot").first.wait_for(timeout=WAIT_MS)
    return page


def say(page, words: str) -> None:
    page.fill("#input", words)
    page.press("#input", "Enter")


def visible_text(page) -> str:
    return page.locator("#log").inner_text()


def no_overflow(page) -> None:
    """Nothing wider than the page: the transcript never scrolls sideways (tables do, inside)."""
    widths = page.evaluate("""() => {
        const log = document.getElementById('log');
        return [log.scrollWidth, log.clientWidth, document.documentElement.scrollWidth, window.innerWidth];
    }""")
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths


BALANCE_CARD = {
    "type": "card", "text": "储蓄卡 **** 1234\n可用余额：52,380.50 元\n账户余额：52,380.50 元",
    "title": "储蓄卡 **** 1234", "rows": [{"label": "可用余额", "value": "52,380.50 元"},
                                        {"label": "账户余额", "value": "52,380.50 元"},
                                        {"label": "开户网点", "value": "北京分行营业部"}],
    "buttons": [{"label": "查明细", "send": "查明细"}, {"label": "转账", "send": "转账"}],
}
READ_BACK = {
    "type": "buttons",
    "text": "好的，请核对转账信息：\n收款人：李娜（尾号8888）\n付款卡：储蓄卡 **** 1234\n金额：2,500.00 元（贰仟伍佰元整）\n"
            "确认转账请回复“确认”，如需修改请直接告诉我。",
    "buttons": [{"label": "确认", "send": "确认"}, {"label": "修改", "send": "修改"}, {"label": "取消", "send": "取消"}],
}
EXPORT_URL = ORIGIN + "/v1/exports/" + "x" * 180
CAPTION = "明细下载链接（10 分钟内有效，每个链接可下载一次，请勿转发他人）："
EXPORT = {"type": "link", "text": f"{CAPTION}\nExcel：{EXPORT_URL}\nCSV：{EXPORT_URL}c",
          "caption": CAPTION, "links": [{"label": "Excel", "url": EXPORT_URL}, {"label": "CSV", "url": EXPORT_URL + "c"}]}
SCHEDULE = {"type": "link", "text": "还款计划表（PDF）：" + EXPORT_URL + "s", "label": "下载还款计划表", "url": EXPORT_URL + "s"}
KNOWLEDGE = {"type": "text", "text": "口头挂失和本服务挂失免费；补办新卡收取工本费 10 元（示例数据）。", "feedback": "a1b2c3",
             "related": [{"label": "补办银行卡需要带什么？", "send": "补办银行卡需要带什么？"},
                         {"label": "挂失后多久能拿到新卡？", "send": "挂失后多久能拿到新卡？"}]}
COMPARISON = {
    "type": "table", "text": "金卡与白金卡对比……", "title": "金卡与白金卡对比",
    "columns": ["项目", "金卡", "白金卡", "钻石卡"],
    "rows": [["年费", "免年费", "首年免，之后 2,000 元", "5,000 元"],
             ["信用额度", "1 万–5 万元", "5 万–20 万元", "20 万元以上"],
             ["机场贵宾厅", "无", "每年 6 次", "不限次数"]],
}
GREETING = {
    "type": "quick_replies", "text": "您好！我是示例银行智能客服。我可以帮您查余额、转账、挂失。",
    "options": [{"label": label, "send": label} for label in
                ("信用卡怎么还款", "忘记密码怎么办", "查余额", "转账", "挂失", "转人工")],
}


def test_every_item_type_is_drawn_and_a_tap_sends_its_words(chromium, artifacts):
    bank = FakeBank()
    bank.answer("你好", GREETING)
    bank.answer("查余额", BALANCE_CARD)
    bank.answer("给李娜转两千五", READ_BACK, active_flow="transfer.create")
    bank.answer("确认", text("验证码已发送至 138****8000，请在 5 分钟内回复 6 位验证码。"), active_flow="transfer.create")
    bank.answer("导出", EXPORT)
    bank.answer("还款计划", SCHEDULE)
    bank.answer("金卡和白金卡有什么区别", COMPARISON)
    bank.answer("挂失要收费吗", KNOWLEDGE)
    page = open_page(chromium, bank)

    say(page, "你好")
    chips = page.locator(".msg--bot").last.locator(".chip")
    expect(chips).to_have_count(6, timeout=WAIT_MS)
    page.screenshot(path=str(artifacts / "chat_page_quick_replies.png"))
    chips.filter(has_text="查余额").click()
    card = page.locator(".card").last
    expect(card.locator(".card__title")).to_have_text("储蓄卡 **** 1234", timeout=WAIT_MS)
    assert card.locator(".card__row").all_inner_texts() == ["可用余额\n52,380.50 元", "账户余额\n52,380.50 元",
                                                            "开户网点\n北京分行营业部"]
    assert page.locator(".chip").count() == 0  # answered: the chips went
    assert bank.said == ["你好", "查余额"]

    say(page, "给李娜转两千五")
    buttons = page.locator(".msg--bot").last.locator(".choice")
    expect(buttons).to_have_text(["确认", "修改", "取消"], timeout=WAIT_MS)
    assert page.locator(".card .choice").count() == 0  # the card's buttons are stale now
    page.screenshot(path=str(artifacts / "chat_page_card_and_buttons.png"))
    buttons.filter(has_text="确认").click()
    expect(page.locator(".msg--bot .msg__bubble").last).to_contain_text("验证码已发送", timeout=WAIT_MS)
    assert bank.said[-1] == "确认"
    assert page.locator(".msg--user .msg__bubble").last.inner_text() == "确认"

    say(page, "导出")
    links = page.locator(".msg--bot").last.locator("a.rich-link")
    expect(links).to_have_text(["Excel", "CSV"], timeout=WAIT_MS)
    assert [links.nth(n).get_attribute("href") for n in (0, 1)] == [EXPORT_URL, EXPORT_URL + "c"]
    assert links.first.get_attribute("target") == "_blank"
    assert page.locator(".msg--bot .rich-link__text").last.inner_text() == CAPTION.rstrip("：")
    say(page, "还款计划")
    link = page.locator(".msg--bot").last.locator("a.rich-link")
    expect(link).to_have_text("下载还款计划表", timeout=WAIT_MS)
    assert page.locator(".msg--bot .rich-link__text").last.inner_text() == "还款计划表（PDF）"

    say(page, "金卡和白金卡有什么区别")
    table = page.locator(".rich-table").last
    expect(table.locator("thead th")).to_have_text(["项目", "金卡", "白金卡", "钻石卡"], timeout=WAIT_MS)
    assert table.locator("tbody tr").count() == 3
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")  # sideways, inside the bubble
    no_overflow(page)
    assert not URL.search(visible_text(page))
    page.screenshot(path=str(artifacts / "chat_page_table_phone.png"))

    say(page, "挂失要收费吗")
    answer = page.locator(".msg--bot").last
    expect(answer.locator(".related__question")).to_have_text(["补办银行卡需要带什么？", "挂失后多久能拿到新卡？"],
                                                              timeout=WAIT_MS)
    expect(answer.locator(".feedback")).to_contain_text("有帮助吗？")
    page.screenshot(path=str(artifacts / "chat_page_knowledge_phone.png"))
    answer.locator(".feedback__button[data-helpful='true']").click()
    expect(answer.locator(".feedback")).to_have_text("感谢您的反馈", timeout=WAIT_MS)
    assert bank.feedback == [{"user_id": bank.feedback[0]["user_id"], "feedback": "a1b2c3", "helpful": True,
                              "auth": "Bearer " + TOKEN}]
    answer.locator(".related__question").first.click()
    expect(page.locator(".msg--user .msg__bubble").last).to_have_text("补办银行卡需要带什么？")
    # Drawn from the answers, confirmed by the transcript: each line once.
    expect(page.locator(".msg--bot")).to_have_count(10, timeout=WAIT_MS)  # welcome + nine answers
    assert page.locator(".msg--pending").count() == 0
    assert not URL.search(visible_text(page))
    no_overflow(page)
    assert bank.errors == []
    page.screenshot(path=str(artifacts / "chat_page_rich_phone.png"))


def test_unknown_or_broken_items_show_their_text_and_nothing_unsafe(chromium):
    bank = FakeBank()
    bank.answer("看看", {"type": "carousel", "text": "新品推荐：稳盈半年定开"},
                {"type": "buttons", "text": "按钮丢了也能读"},
                {"type": "link", "text": "打开", "label": "危险链接", "url": "javascript:alert(1)"},
                {"type": "card", "text": "卡片", "title": "空卡片"})
    page = open_page(chromium, bank)
    say(page, "看看")
    expect(page.locator(".card__title")).to_have_text("空卡片", timeout=WAIT_MS)
    bubbles = page.locator(".msg--bot .msg__bubble").all_inner_texts()
    assert "新品推荐：稳盈半年定开" in bubbles and "按钮丢了也能读" in bubbles
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator(".rich-link--dead").inner_text() == "危险链接"
    assert bank.errors == []


def test_plain_text_of_an_older_server_still_gets_buttons_and_labelled_links(chromium):
    bank = FakeBank()
    bank.answer("卡被吞了咋办", text("您是想问：\n1. ATM 吞卡后如何取回？\n2. 银行卡被冻结怎么办？\n回复序号即可。"))
    bank.answer("导出", text("明细下载链接（10 分钟内有效）：\nExcel：" + EXPORT_URL + "\nCSV：" + EXPORT_URL + "c"))
    page = open_page(chromium, bank)
    say(page, "卡被吞了咋办")
    expect(page.locator(".choice")).to_have_text(["ATM 吞卡后如何取回？", "银行卡被冻结怎么办？"], timeout=WAIT_MS)
    page.locator(".choice").first.click()
    expect(page.locator(".msg--user .msg__bubble").last).to_have_text("ATM 吞卡后如何取回？")
    say(page, "导出")
    expect(page.locator("a.rich-link")).to_have_text(["Excel", "CSV"], timeout=WAIT_MS)
    assert page.locator("a.rich-link").last.get_attribute("href") == EXPORT_URL + "c"
    assert not URL.search(visible_text(page))


def test_a_desk_sees_the_same_items_in_a_centred_column(chromium, artifacts):
    bank = FakeBank()
    bank.answer("查余额", BALANCE_CARD)
    bank.answer("金卡和白金卡有什么区别", COMPARISON, {"type": "feedback", "text": "", "turn": "t-7"})  # the doc's form
    page = open_page(chromium, bank, DESK)
    say(page, "查余额")
    page.locator(".card").wait_for(timeout=WAIT_MS)
    say(page, "金卡和白金卡有什么区别")
    page.locator(".rich-table").wait_for(timeout=WAIT_MS)
    page.locator(".feedback__button[data-helpful='false']").click()
    expect(page.locator(".feedback")).to_have_text("感谢您的反馈", timeout=WAIT_MS)
    assert bank.feedback[0]["helpful"] is False and bank.feedback[0]["turn"] == "t-7"
    width = page.locator(".chat").evaluate("e => e.getBoundingClientRect().width")
    assert width <= 560
    no_overflow(page)
    assert not URL.search(visible_text(page))
    page.screenshot(path=str(artifacts / "chat_page_rich_desktop.png"))
