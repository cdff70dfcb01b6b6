"""A whole handoff in real Chromium: the customer's page and the agent console side by side.

request -> queue -> accept -> messages both ways -> release -> request again -> close -> rating.
Screenshots land in test-artifacts/ (agent_console*.png, web_chat_*.png).
"""
from sqlalchemy import select

from chatbot.storage.models import ChannelBinding, ChatSession, Customer

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


def _bind_and_stall(database, user_id):
    """The customer turns out to be 张伟, stuck at the code step of a transfer."""
    with database.write() as db:
        customer = db.scalars(select(Customer).where(Customer.name == "张伟")).one()
        db.add(ChannelBinding(channel="web", user_id=user_id, customer_id=customer.id, bound_at=customer.created_at))
        session = db.scalars(select(ChatSession).where(ChatSession.user_id == user_id)).one()
        session.state = {"active_flow": "transfer.create", "step": "otp", "failed_step": "otp",
                         "missing_slots": ["otp"], "slots": {"payee": "李娜", "amount": "2500.00"}}


def test_a_whole_handoff_in_two_browsers(live_server, browser, services, artifacts):
    customer = browser.new_context(viewport={"width": 390, "height": 780}).new_page()
    console = browser.new_context(viewport={"width": 1366, "height": 820}).new_page()
    customer.goto(live_server + "/")
    customer.wait_for_selector(".msg--bot")
    _login(console, live_server)
    assert console.locator("#queue-list .card").count() == 0

    _customer_says(customer, "转人工")
    customer.wait_for_selector("#banner:not([hidden])", timeout=WAIT_MS)
    _last_bubble_contains(customer, "#banner-text", "排队第 1 位")
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
    assert "human.request" in console.locator("#ctx-understanding").inner_text()
    console.screenshot(path=str(artifacts / "agent_console.png"))
    customer.screenshot(path=str(artifacts / "web_chat_agent.png"))

    console.click("#release")
    _last_bubble_contains(customer, ".msg--bot .msg__bubble", "转回智能助手")
    customer.wait_for_function("document.getElementById('status').innerText === '在线'", timeout=WAIT_MS)

    _customer_says(customer, "我还是要人工")
    customer.wait_for_selector("#banner:not([hidden])", timeout=WAIT_MS)
    customer.screenshot(path=str(artifacts / "web_chat_queued.png"))
    _bind_and_stall(services.database, customer.evaluate("JSON.parse(localStorage.getItem('chatbot.identity')).userId"))
    _accept_first(console)
    console.wait_for_selector("#slot-form", timeout=WAIT_MS)
    assert "138****8000" in console.locator("#ctx-customer").inner_text()
    console.fill("#slot-value", "客服电话核实")
    console.click("#slot-form button")
    _last_bubble_contains(console, "#notice", "转回机器人后从该步继续")
    console.wait_for_function("!document.getElementById('ctx-flow').innerText.includes('一步停住了')", timeout=WAIT_MS)
    console.screenshot(path=str(artifacts / "agent_console_context.png"))
    console.click("#close")
    customer.wait_for_selector(".msg--rating .rating__star", timeout=WAIT_MS)
    customer.screenshot(path=str(artifacts / "web_chat_rating_prompt.png"))
    customer.click(".rating__star[data-score='5']")
    _last_bubble_contains(customer, ".msg--bot .msg__bubble", "感谢您的评价（5 分）")
    assert customer.locator(".msg--rating").count() == 0
    customer.screenshot(path=str(artifacts / "web_chat_rating.png"))
    console.wait_for_function("document.getElementById('mine-count').innerText.startsWith('0/')", timeout=WAIT_MS)
