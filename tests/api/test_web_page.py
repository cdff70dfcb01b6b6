"""The web chat page in a real headless Chromium: type, press Enter, see the reply."""


def test_type_a_message_and_see_the_reply(live_server, browser, artifacts):
    page = browser.new_page(viewport={"width": 390, "height": 780})
    urls = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(live_server + "/")
    page.wait_for_selector(".msg--bot")  # the welcome line
    page.fill("#input", "你好")
    page.press("#input", "Enter")
    page.wait_for_function("document.querySelectorAll('.msg--bot:not(.typing)').length >= 2")
    bubbles = page.locator(".msg__bubble").all_inner_texts()
    assert bubbles[-2] == "你好"
    assert "您好" in bubbles[-1]
    assert page.locator(".msg--pending").count() == 0
    page.screenshot(path=str(artifacts / "web_chat.png"))

    identity = page.evaluate("JSON.parse(localStorage.getItem('chatbot.identity'))")
    assert identity["userId"].startswith("web-") and identity["token"].startswith("w1.")
    page.reload()
    page.wait_for_selector(".msg--user")
    assert page.evaluate("JSON.parse(localStorage.getItem('chatbot.identity'))") == identity
    assert "你好" in page.locator(".msg--user").all_inner_texts()  # transcript restored
    # Neither the user id nor its token ever travels in a URL (access logs keep URLs).
    assert urls and not any(identity["userId"] in url or "w1." in url or "user_id=" in url for url in urls)


def test_a_refused_identity_starts_a_fresh_one(live_server, browser):
    page = browser.new_page()
    page.goto(live_server + "/")
    page.wait_for_selector(".msg--bot")
    # A token the service does not know (another secret, say): the page starts over.
    page.evaluate("""localStorage.setItem('chatbot.identity',
        JSON.stringify({userId: 'web-stale', token: 'w1.d2ViLXN0YWxl.forged'}))""")
    page.reload()
    page.wait_for_selector(".msg--bot")
    page.fill("#input", "你好")
    page.press("#input", "Enter")
    page.wait_for_function("document.querySelectorAll('.msg--bot:not(.typing)').length >= 1 && "
                           "!document.querySelector('.msg--pending')")
    page.wait_for_function("JSON.parse(localStorage.getItem('chatbot.identity')).userId !== 'web-stale'")
    assert page.locator(".msg--error").count() == 0
    assert "您好" in page.locator(".msg--bot").all_inner_texts()[-1]


def test_over_long_text_shows_an_error_and_loses_nothing_else(live_server, browser):
    page = browser.new_page()
    page.goto(live_server + "/")
    page.wait_for_selector(".msg--bot")
    page.evaluate("document.getElementById('input').removeAttribute('maxlength')")
    page.fill("#input", "长" * 600)
    page.press("#input", "Enter")
    page.wait_for_selector(".msg--error")
    assert "500" in page.locator(".msg--error").inner_text()
    assert page.locator(".msg--user").count() == 0


def test_the_pages_work_under_their_content_security_policy(live_server, browser):
    """With the policy enforced (not bypassed), the chat page and the console load their
    scripts and styles and the page chats; nothing is refused by the policy."""
    violations = []
    page = browser.new_page(bypass_csp=False)
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(live_server + "/")
    page.wait_for_selector(".msg--bot")
    page.fill("#input", "你好")
    page.press("#input", "Enter")
    page.wait_for_selector(".msg--user:not(.msg--pending)")
    page.locator(".msg--bot").nth(1).wait_for()
    console = browser.new_page(bypass_csp=False)
    console.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    console.goto(live_server + "/agent")
    console.wait_for_selector("#login-username")
    assert console.evaluate("getComputedStyle(document.body).fontFamily")  # the stylesheet applied
    assert violations == []


def test_a_numbered_question_is_answered_by_tapping(live_server, browser, artifacts):
    page = browser.new_page(viewport={"width": 390, "height": 780})
    page.goto(live_server + "/")
    page.wait_for_selector(".msg--bot")
    page.fill("#input", "刚还完款，看下还欠多少")
    page.press("#input", "Enter")
    page.wait_for_selector(".choice")
    labels = page.locator(".choice").all_inner_texts()
    assert "查询信用卡账单" in labels and len(labels) == 2
    page.screenshot(path=str(artifacts / "web_choices.png"))
    page.fill("#input", "你好")  # something else: the list is stale, its buttons go
    page.press("#input", "Enter")
    page.wait_for_selector("text=我可以帮您查余额和明细")
    assert page.locator(".choice").count() == 0
    page.fill("#input", "刚还完款，看下还欠多少")
    page.press("#input", "Enter")
    page.wait_for_selector(".choice")
    page.locator(".choice", has_text="查询信用卡账单").click()
    page.wait_for_selector("text=需要先绑定")
    assert page.locator(".choice").count() == 0  # answered: the buttons go
    sent = page.locator(".msg--user .msg__bubble").all_inner_texts()[-1]
    assert sent == "查询信用卡账单"  # the option's words: no open form takes them for an amount
    assert any(text.startswith("查询信用卡账单需要先绑定") for text in page.locator(".msg--bot .msg__bubble").all_inner_texts())
