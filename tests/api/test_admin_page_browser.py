"""The analysts' page /admin in real Chromium, under its Content-Security-Policy: an agent is
refused, an analyst labels a group from the keyboard, makes a new FAQ from another, ignores a
third (a hostile text, shown as text), and reads the overlay and the metrics.
Screenshots (desktop and phone width) land in the test's tmp dir."""

import httpx
import pytest

from chatbot.settings import Settings
from tests.faq_samples import SMALL_FAQ

WAIT_MS = 20000
CALL_BACK = ["请尽快回电", "还是回个电话吧"]
VAULT = ["外币保管箱能存黄金吗", "你们银行的外币保管箱能存放黄金饰品和比特币冷钱包吗"]
XSS = "<img src=x onerror=alert(1)>"
FAQ_ANSWER = "保管箱可存放贵重物品与重要文件，不得存放易燃易爆及违禁物品。"


@pytest.fixture(scope="module")
def intent_model(model_without_call_backs):
    """A model that never saw a call-back request, so these are not understood whatever the
    shipped training data learns (tests/unknown_phrasings.py); replaces conftest's."""
    return model_without_call_backs


@pytest.fixture
def faq_copy(tmp_path, knowledge_desk, monkeypatch):
    """The service edits (and its desk watches) a three-entry FAQ (an edit re-indexes the whole
    file: seconds for the real one); the shared index is put back."""
    path = tmp_path / "faq.yaml"
    path.write_text(SMALL_FAQ, encoding="utf-8")
    original, stamp = knowledge_desk.retriever, knowledge_desk._stamp
    monkeypatch.setattr(knowledge_desk, "faq_path", path)
    yield path
    knowledge_desk.install(original, stamp)


@pytest.fixture
def settings(database_url, model_dir, faq_copy) -> Settings:
    return Settings(env="sandbox", database_url=database_url, model_dir=model_dir, faq_path=faq_copy)


def _say(base, user, text):
    answer = httpx.post(f"{base}/v1/chat", json={"user_id": user, "text": text, "channel": "web"}, timeout=30)
    assert answer.status_code == 200, answer.text


def _overlay(base, label) -> dict:
    token = httpx.post(f"{base}/v1/auth/login", json={"username": "analyst", "password": "analyst-sandbox"}).json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    rows = httpx.get(f"{base}/v1/admin/annotations", params={"label": label}, headers=headers).json()["annotations"]
    return {row["text"]: row for row in rows}


def _login(page, base, username):
    page.goto(base + "/admin")
    page.fill("#login-username", username)
    page.fill("#login-password", f"{username}-sandbox")
    page.click("#login-submit")


def _go_to_group(page, text):
    """j / k until the current group is the one holding `text` (the keyboard only)."""
    for _ in range(30):
        current = page.locator(".group--current .group__text").inner_text()
        examples = page.locator("#examples .example__text").all_inner_texts()
        if text in examples or current == text:
            return
        page.keyboard.press("j")
    raise AssertionError(f"no group holds {text}")


def _labelled(page, count):
    page.locator("#recent-count", has_text=str(count)).wait_for(timeout=WAIT_MS)


def test_label_from_the_keyboard_new_faq_ignore_and_metrics(live_server, browser, tmp_path, clock):
    clock.advance(days=-6)
    for day in range(6):  # a week of other customers for the chart, fewer misses each day
        for number, text in enumerate(["余额", "你好", "信用卡年费怎么收", "吞卡的事情", "回个电话吧"][:5 - day % 3]):
            _say(live_server, f"d{day}-{number}", text)
        clock.advance(days=1)
    for number, text in enumerate(CALL_BACK + VAULT + [XSS, "转人工", "余额"]):
        _say(live_server, f"c{number}", text)
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN", bypass_csp=False)
    refused, dialogs = [], []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    _login(page, live_server, "agent1")
    page.locator("#login-error", has_text="无权使用").wait_for(timeout=WAIT_MS)
    assert page.locator("#app-view").is_hidden()
    page.fill("#login-username", "analyst")
    page.fill("#login-password", "analyst-sandbox")
    page.click("#login-submit")
    page.wait_for_selector("#group-list .group", timeout=WAIT_MS)
    page.screenshot(path=str(tmp_path / "admin_queue.png"))
    page.fill("#f-since", "2026-11-24")
    page.click("#f-apply")
    page.locator("#queue-summary", has_text="组").wait_for(timeout=WAIT_MS)

    # A group labelled from the keyboard: j/k to it, l to the picker, filter, Enter.
    _go_to_group(page, CALL_BACK[0])
    page.keyboard.press("l")
    assert page.evaluate("document.activeElement.id") == "label-input"
    page.keyboard.type("转人工")
    page.locator("#label-options .combo__option--on", has_text="human.request").wait_for(timeout=WAIT_MS)
    page.keyboard.press("Enter")
    _labelled(page, 1)
    assert page.locator("#toast", has_text="转人工").count() == 1
    assert CALL_BACK[0] not in page.locator("#group-list").inner_text()
    assert _overlay(live_server, "human.request")[CALL_BACK[0]]["annotated_by"] == "analyst"

    # A new FAQ from a group: f opens the form with the group's first text as the question.
    page.locator("#group-list .group", has_text=VAULT[0][:6]).first.click()
    page.keyboard.press("f")
    assert page.input_value("#faq-question") in VAULT
    page.fill("#faq-question", "外币保管箱可以存放哪些物品？")
    page.fill("#faq-answer", FAQ_ANSWER)
    page.screenshot(path=str(tmp_path / "admin_new_faq.png"))
    page.click("#faq-create")
    _labelled(page, 2)
    hits = httpx.post(f"{live_server}/v1/faq/search", json={"text": "保管箱能存黄金吗"}).json()["results"]
    assert hits[0]["id"] == "learned-0001" and hits[0]["answer"] == FAQ_ANSWER

    # The hostile text is text, then ignored with i.
    page.locator("#group-list .group", has_text="onerror").first.click()
    assert XSS in page.locator("#examples").inner_text()
    assert page.locator("img").count() == 0
    page.keyboard.press("i")
    _labelled(page, 3)
    assert XSS in _overlay(live_server, "ignore")

    page.click("#tab-done")
    page.locator("#overlay tr", has_text="onerror").wait_for(timeout=WAIT_MS)
    assert XSS in page.locator("#overlay").inner_text() and page.locator("img").count() == 0
    page.screenshot(path=str(tmp_path / "admin_overlay.png"))
    page.click("#tab-metrics")
    page.wait_for_selector("#chart svg rect.bar", timeout=WAIT_MS)
    page.locator("#intents .bars__item").first.wait_for(timeout=WAIT_MS)
    page.screenshot(path=str(tmp_path / "admin_metrics.png"), full_page=True)
    assert dialogs == [] and refused == []

    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", bypass_csp=False)
    phone.goto(live_server + "/admin")  # the token is per tab: log in again
    phone.fill("#login-username", "admin")
    phone.fill("#login-password", "admin-sandbox")
    phone.click("#login-submit")
    phone.wait_for_selector("#group-list .group", timeout=WAIT_MS)
    phone.screenshot(path=str(tmp_path / "admin_queue_narrow.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # One row of a group: only that phrasing is labelled, the rest of the group stays.
    phone.locator("#group-list .group", has_text="回个电话吧").first.click()
    phone.locator("#examples tr", has_text="回个电话吧").filter(has_not_text=CALL_BACK[1]) \
        .locator("input[type=checkbox]").check()
    assert "所选 1 句" in phone.locator("#apply").inner_text()
    phone.fill("#label-input", "投诉")
    phone.press("#label-input", "Enter")
    _labelled(phone, 1)
    assert "回个电话吧" in _overlay(live_server, "complaint")
    assert CALL_BACK[1] in phone.locator("#group-list").inner_text()
    phone.click("#tab-metrics")
    phone.wait_for_selector("#chart svg rect.bar", timeout=WAIT_MS)
    phone.screenshot(path=str(tmp_path / "admin_metrics_narrow.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    print("screenshots in", tmp_path)
