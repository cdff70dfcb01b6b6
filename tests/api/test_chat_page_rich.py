"""The chat page draws every reply item of docs/rich_replies.md, in real Chromium.

The page is served from api/static by Playwright itself and the chat API is a fake in this
file (`FakeBank`), so these tests need no server: replies with rich items are whatever a
test says, and the page is checked the way a customer sees it, on a phone (390x844) and at a
desk. The fake records each answer into the transcript as the server does (its items' text),
so the page's confirming of drawn lines by the history is exercised too, and (with
`rich=true`, as the page asks) the item of each bot line, which a reload draws again. Screenshots:
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
            query = parse_qs(url.query)
            after, rich = int(query.get("after", ["0"])[0]), query.get("rich", [""])[0] == "true"
            lines = [m if rich else {k: v for k, v in m.items() if k != "item"} for m in self.history if m["id"] > after]
            self._json(route, {"messages": lines})
        elif path == "/v1/products/wealth":
            self._json(route, {"products": PRODUCTS})
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
        for item in replies:  # as the server: each item a line, and (rich=true) the item it was
            if item.get("text"):
                self.add("bot", item["text"], **({} if set(item) == {"type", "text"} else {"item": item}))
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


# --- wealth products (chatbot/wealth/cards.py) and a reload --------------------------------------

PRODUCTS = [
    {"code": "WM-TTB", "name": "示例天天宝", "risk_level": "R1", "term_days": 0, "min_amount": "1.00",
     "expected_yield": "1.60%–2.00%"},
    {"code": "WM-WY180", "name": "示例稳盈半年定开", "risk_level": "R2", "term_days": 182, "min_amount": "1.00",
     "expected_yield": "2.40%–3.20%"},
    {"code": "WM-QDII", "name": "示例全球配置QDII", "risk_level": "R4", "term_days": 182, "min_amount": "10000.00",
     "expected_yield": "3.50%–7.50%"},
]
DISCLAIMER = "业绩比较基准不代表实际收益，理财非存款，产品有风险，投资须谨慎。"


def wealth_card(n: int, product: dict, term: str) -> dict:
    risk = {"R1": "R1 低风险", "R2": "R2 中低风险", "R4": "R4 中高风险"}[product["risk_level"]]
    page = "/static/product.html?code=" + product["code"]
    minimum = f"{float(product['min_amount']):,.2f} 元"
    return {
        "type": "card", "title": product["name"], "product": {"kind": "wealth", "code": product["code"], "url": page},
        "text": f"{n}. {product['name']}（{risk}）：业绩比较基准 {product['expected_yield']}，{term}，{minimum}起购",
        "rows": [{"label": "风险等级", "value": risk}, {"label": "业绩比较基准", "value": product["expected_yield"]},
                 {"label": "期限", "value": term}, {"label": "起购金额", "value": minimum}],
        "buttons": [{"label": "了解详情", "url": page}, {"label": "购买", "send": "买" + product["name"]}],
    }


TERMS = ("无固定期限，每个工作日开放", "每 6 个月开放一次", "每 6 个月开放一次，最短持有 182 天")
LIST = [text("您的风险等级为 C3（平衡型）。\n适合您的在售产品："),
        *(wealth_card(n, p, t) for n, (p, t) in enumerate(zip(PRODUCTS[:2], TERMS), 1)),
        text("以下产品超出您的风险等级，不能购买，仅供了解：\n· 示例全球配置QDII（R4，适合 C4（进取型）及以上）"),
        text(DISCLAIMER + "\n想购买可以直接说，例如“买1万天天宝”。")]
COMPARE = {
    "type": "table", "title": "在售理财产品", "text": "在售理财产品：\n1. 示例天天宝……",
    "columns": ["产品", "风险等级", "业绩比较基准", "期限", "起购金额"],
    "rows": [[p["name"], r, p["expected_yield"], f"{p['term_days']} 天" if p["term_days"] else "无固定期限",
              f"{float(p['min_amount']):,.2f} 元"] for p, r in zip(PRODUCTS, ("R1 低风险", "R2 中低风险", "R4 中高风险"))],
}
DETAIL = {
    "type": "card", "title": "示例稳盈半年定开",
    "product": {"kind": "wealth", "code": "WM-WY180", "url": "/static/product.html?code=WM-WY180"},
    "text": "示例稳盈半年定开：\n风险等级：R2 中低风险\n……",
    "rows": [{"label": "风险等级", "value": "R2 中低风险"}, {"label": "适合客户", "value": "C2（稳健型）及以上"},
             {"label": "业绩比较基准", "value": "2.40%–3.20%"}, {"label": "期限", "value": "每 6 个月开放一次"},
             {"label": "起购金额", "value": "1.00 元"}, {"label": "赎回", "value": "仅开放日可赎回，T+1 个工作日到账"}],
    "buttons": [{"label": "购买", "send": "买示例稳盈半年定开"}, {"label": "看看其他产品", "send": "推荐理财"}],
}


def _wealth_bank() -> FakeBank:
    bank = FakeBank()
    bank.answer("推荐理财", *LIST)
    bank.answer("理财产品比较一下", COMPARE, text(DISCLAIMER))
    bank.answer("稳盈半年定开的产品信息", DETAIL, text("您的风险等级为 C3（平衡型），可以购买该产品。\n" + DISCLAIMER))
    bank.answer("买示例天天宝", text("请问购买多少？示例天天宝1.00 元起购。"), active_flow="wealth.buy")
    return bank


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["phone", "desktop"])
def test_wealth_products_as_cards_a_table_and_a_detail_card(chromium, artifacts, viewport):
    bank = _wealth_bank()
    page = open_page(chromium, bank, viewport)
    suffix = "" if viewport is PHONE else "_desktop"
    say(page, "推荐理财")
    cards = page.locator(".card")
    expect(cards).to_have_count(2, timeout=WAIT_MS)
    first = cards.first
    assert first.locator(".card__title").inner_text() == "示例天天宝"
    assert first.locator(".card__row").all_inner_texts()[0] == "风险等级\nR1 低风险"
    details = first.locator("a.card__link")
    assert details.inner_text() == "了解详情" and details.get_attribute("target") == "_blank"
    assert details.get_attribute("href") == ORIGIN + "/static/product.html?code=WM-TTB"
    no_overflow(page)
    assert not URL.search(visible_text(page))
    cards.last.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"chat_page_wealth_cards{suffix}.png"))

    say(page, "理财产品比较一下")
    table = page.locator(".rich-table").last
    expect(table.locator("thead th")).to_have_text(["产品", "风险等级", "业绩比较基准", "期限", "起购金额"], timeout=WAIT_MS)
    assert page.locator(".card .choice").count() == 0 and page.locator("a.card__link").count() == 2  # links stay
    no_overflow(page)
    page.screenshot(path=str(artifacts / f"chat_page_wealth_compare{suffix}.png"))

    say(page, "稳盈半年定开的产品信息")
    detail = page.locator(".card").last
    expect(detail.locator(".card__row")).to_have_count(6, timeout=WAIT_MS)
    expect(page.locator(".msg--bot .msg__bubble").last).to_contain_text("可以购买")
    no_overflow(page)
    page.screenshot(path=str(artifacts / f"chat_page_wealth_detail{suffix}.png"))
    detail.locator(".choice").filter(has_text="看看其他产品").click()
    expect(page.locator(".card")).to_have_count(5, timeout=WAIT_MS)
    page.locator(".card").nth(3).locator(".choice").filter(has_text="购买").click()
    expect(page.locator(".msg--bot .msg__bubble").last).to_contain_text("请问购买多少", timeout=WAIT_MS)
    assert bank.said[-2:] == ["推荐理财", "买示例天天宝"] and bank.errors == []


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["phone", "desktop"])
def test_the_product_page_shows_the_product_and_the_risk_notice(chromium, artifacts, viewport):
    bank = FakeBank()
    context = chromium.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.on("pageerror", lambda error: bank.errors.append(str(error)))
    bank.install(page)
    page.goto(ORIGIN + "/static/product.html?code=WM-WY180")
    expect(page.locator(".product__name")).to_have_text("示例稳盈半年定开", timeout=WAIT_MS)
    assert page.locator(".product__risk").inner_text() == "R2 中低风险"
    assert page.locator(".product__row").all_inner_texts() == ["期限\n182 天", "起购金额\n1.00 元", "产品代码\nWM-WY180"]
    assert "投资须谨慎" in page.locator(".product__notice").inner_text()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1]
    page.screenshot(path=str(artifacts / f"chat_page_product{'' if viewport is PHONE else '_desktop'}.png"))
    page.goto(ORIGIN + "/static/product.html?code=NOPE")
    expect(page.locator(".product__missing")).to_contain_text("不在售", timeout=WAIT_MS)
    assert bank.errors == []


def test_a_reload_draws_every_rich_item_again(chromium, artifacts):
    bank = _wealth_bank()
    bank.answer("查余额", BALANCE_CARD)
    bank.answer("导出", EXPORT)
    bank.answer("给李娜转两千五", READ_BACK, active_flow="transfer.create")
    page = open_page(chromium, bank)
    for words in ("查余额", "推荐理财", "导出", "理财产品比较一下", "给李娜转两千五"):
        say(page, words)
        expect(page.locator(".msg--user.msg--pending")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator(".choice")).to_have_text(["确认", "修改", "取消"], timeout=WAIT_MS)
    before = page.locator("#log").inner_text()

    page.reload()
    expect(page.locator(".card")).to_have_count(3, timeout=WAIT_MS)  # the balance and two products
    expect(page.locator(".rich-table")).to_have_count(1)
    assert page.locator(".card__title").all_inner_texts() == ["储蓄卡 **** 1234", "示例天天宝", "示例稳盈半年定开"]
    assert page.locator("a.rich-link").filter(has_text="Excel").get_attribute("href") == EXPORT_URL
    assert page.locator("a.card__link").count() == 2  # a product page still opens from an old card
    # Only the latest line's buttons still answer something; older answer buttons are gone.
    assert page.locator(".choice").all_inner_texts() == ["确认", "修改", "取消"]
    assert page.locator(".msg--bot").count() == 1 + 5 + 1 + 2 + 1  # each item once (the welcome is the page's own)
    assert not URL.search(page.locator("#log").inner_text())
    assert page.locator("#log").inner_text().count("示例天天宝") == before.count("示例天天宝")
    no_overflow(page)
    page.screenshot(path=str(artifacts / "chat_page_reload_rich.png"), full_page=False)
    page.locator(".choice").filter(has_text="取消").click()
    expect(page.locator(".msg--user .msg__bubble").last).to_have_text("取消", timeout=WAIT_MS)
    assert bank.errors == []
