"""A whole handoff in real Chromium: the customer's page and the agent console side by side.

request -> queue -> accept -> messages both ways -> release -> bind and confirm a transfer ->
request again -> the agent changes the amount -> release: the customer reads it back anew ->
request again -> close -> rating.
Screenshots land in test-artifacts/ (agent_console*.png, web_chat_*.png).
"""
import re

import httpx

WAIT_MS = 20000  # generous: a loaded 2-core CI machine, and waits end as soon as the page is ready


def _customer_says(page, text):
    page.fill("#input", text)
    page.press("#input", "Enter")


def _last_bubble_contains(page, selector, text):
    page.wait_for_function(
        "([sel, text]) => [...document.querySelectorAll(sel)].some(e => e.innerText.includes(text))",
        arg=[selector, text], timeout=WAIT_MS)


def _login(console, base):
    console.goto(base + "/agent")
    console.fill("#login-username", "agent1")
    console.fill("#login-password", "agent1-sandbox")
    console.click("#login-submit")
    console.wait_for_selector("#live[data-state='live']", timeout=WAIT_MS)


def _accept_first(console):
    console.wait_for_selector("#queue-list .card", timeout=WAIT_MS)
    console.click("#queue-list .card")
    console.wait_for_selector("#accept:not([hidden])", timeout=WAIT_MS)
    console.click("#accept")
    console.wait_for_selector("#composer:not([hidden])", timeout=WAIT_MS)


def _sandbox_code(base, phone):
    messages = httpx.get(f"{base}/v1/sandbox/sms", params={"phone": phone}, timeout=10).json()["messages"]
    return re.search(r"\d{6}", messages[0]["text"]).group(0)


def _bind_and_confirm_a_transfer(page, base):
    """The customer binds as 张伟 in the page and confirms 100.00 to 李娜: a code is sent."""
    for text, expect in (("绑定账户", "姓名"), ("张伟", "身份证"), ("110105199003071239", "验证码")):
        _customer_says(page, text)
        _last_bubble_contains(page, ".msg--bot .msg__bubble", expect)
    _customer_says(page, _sandbox_code(base, "13800138000"))
    _last_bubble_contains(page, ".msg--bot .msg__bubble", "绑定成功")
    _customer_says(page, "给李娜转100")
    _last_bubble_contains(page, ".msg--bot .msg__bubble", "壹佰元整")
    _customer_says(page, "确认")
    _last_bubble_contains(page, ".msg--bot .msg__bubble", "验证码已发送至 138****8000")


def test_a_whole_handoff_in_two_browsers(live_server, browser, services, artifacts):
    customer = browser.new_context(viewport={"width": 390, "height": 780}).new_page()
    console = browser.new_context(viewport={"width": 1366, "height": 820}).new_page()
    customer.goto(live_server + "/")
    customer.wait_for_selector(".msg--bot")
    _login(console, live_server)
    assert console.locator("#queue-list .card").count() == 0

    _customer_says(customer, "转人工")
    customer.wait_for_selector("#banner:not([hidden])", timeout=WAIT_MS)
    _last_bubble_contains(customer, "#banner-text", "第 1 位 · 预计等待约 1 分钟")  # the console is online
    _customer_says(customer, "我的身份证是110105199003071239，转账老是失败")
    _accept_first(console)  # the queue card appeared live, without a reload
    _last_bubble_contains(customer, ".msg--bot .msg__bubble", "客服小王已接入")
    assert customer.locator("#status").inner_text() == "客服小王服务中"
    assert customer.locator("#banner").is_hidden()

    console.fill("#reply", "您好，我是客服小王，我来帮您看一下转账的问题。")
    console.press("#reply", "Enter")
    _last_bubble_contains(customer, ".msg--agent .msg__bubble", "我来帮您看一下转账的问题")
    _customer_says(customer, "好的，谢谢")
    _last_bubble_contains(console, "#transcript .line--user", "好的，谢谢")
    transcript = console.locator("#transcript").inner_text()
    assert "110105199003071239" not in transcript and "1101**********1239" in transcript
    assert "转人工" in console.locator("#ctx-understanding").inner_text()
    console.screenshot(path=str(artifacts / "agent_console.png"))
    customer.screenshot(path=str(artifacts / "web_chat_agent.png"))

    console.click("#release")
    _last_bubble_contains(customer, ".msg--bot .msg__bubble", "转回智能助手")
    customer.wait_for_function("document.getElementById('status').innerText === '在线'", timeout=WAIT_MS)

    _bind_and_confirm_a_transfer(customer, live_server)
    _customer_says(customer, "我还是要人工")
    customer.wait_for_selector("#banner:not([hidden])", timeout=WAIT_MS)
    customer.screenshot(path=str(artifacts / "web_chat_queued.png"))
    _accept_first(console)
    console.wait_for_selector("#slot-form", timeout=WAIT_MS)
    assert "138****8000" in console.locator("#ctx-customer").inner_text()
    assert "**** 8888" in console.locator("#ctx-flow").inner_text()  # the payee, masked
    # A bad value is refused and changes nothing; a good one needs the customer's new read-back.
    console.select_option("#slot-name", "amount")
    console.fill("#slot-value", "-100")
    console.click("#slot-form button")
    console.wait_for_selector("#notice.notice--error", timeout=WAIT_MS)
    assert "-100" in console.locator("#notice").inner_text()
    console.select_option("#slot-name", "amount")
    console.fill("#slot-value", "200")
    console.click("#slot-form button")
    _last_bubble_contains(console, "#notice", "重新核对")
    console.screenshot(path=str(artifacts / "agent_console_context.png"))
    console.click("#release")
    _last_bubble_contains(customer, ".msg--bot .msg__bubble", "贰佰元整")
    assert "100.00" not in customer.locator(".msg--bot .msg__bubble").last.inner_text()
    _customer_says(customer, "人工")
    _accept_first(console)
    console.click("#close")
    customer.wait_for_selector(".msg--rating .rating__star", timeout=WAIT_MS)
    customer.screenshot(path=str(artifacts / "web_chat_rating_prompt.png"))
    customer.click(".rating__star[data-score='5']")
    _last_bubble_contains(customer, ".msg--bot .msg__bubble", "感谢您的评价（5 分）")
    assert customer.locator(".msg--rating").count() == 0
    customer.screenshot(path=str(artifacts / "web_chat_rating.png"))
    console.wait_for_function("document.getElementById('mine-count').innerText.startsWith('0/')", timeout=WAIT_MS)
