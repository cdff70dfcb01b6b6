"""The chat page's 500-character limit, in a real headless Chromium.

The box used to carry maxlength=500: a longer paste was cut silently and the cut message
sent as if whole. Now a counter shows how much is used (red near and over the limit), and
a longer message goes to the server, whose clear error reaches the customer with the text
kept in the box to shorten.
"""

PASTE = "我想咨询一下" + "转账限额和手续费的问题" * 54  # 600 characters


def _open(browser, live_server):
    page = browser.new_page(viewport={"width": 390, "height": 780})
    page.goto(live_server + "/")
    page.wait_for_selector(".msg--bot")
    return page


def test_a_counter_shows_the_characters_used_and_turns_red_near_the_limit(live_server, browser, artifacts):
    page = _open(browser, live_server)
    counter = page.locator("#counter")
    assert counter.inner_text() == "0/500"
    grey = counter.evaluate("e => getComputedStyle(e).color")
    page.locator("#input").press_sequentially("你好")
    assert counter.inner_text() == "2/500"
    page.fill("#input", "余" * 480)
    assert counter.inner_text() == "480/500"
    red = counter.evaluate("e => getComputedStyle(e).color")
    assert red != grey and red == "rgb(198, 40, 40)"
    page.screenshot(path=str(artifacts / "web_chat_counter_near.png"))
    page.fill("#input", "🙂" * 3)  # counted as the server counts: three characters
    assert counter.inner_text() == "3/500"


def test_a_longer_paste_is_not_cut_and_the_server_error_reaches_the_customer(live_server, browser, artifacts):
    page = _open(browser, live_server)
    page.focus("#input")
    page.keyboard.insert_text(PASTE)  # what a paste does: the box must not cut it
    assert len(page.input_value("#input")) == 600
    assert page.locator("#counter").inner_text().startswith("600/500")
    assert "超出 100 字" in page.locator("#counter").inner_text()
    assert "chat__counter--over" in page.get_attribute("#counter", "class")
    page.press("#input", "Enter")
    page.wait_for_selector(".msg--error")
    error = page.locator(".msg--error").inner_text()
    assert "消息过长" in error and "500" in error  # the server's own words
    assert page.locator(".msg--user").count() == 0  # nothing cut short was sent
    assert page.input_value("#input") == PASTE  # kept, to shorten and send again
    page.screenshot(path=str(artifacts / "web_chat_too_long.png"))

    page.fill("#input", PASTE[:500])
    assert page.locator("#counter").inner_text() == "500/500"
    page.press("#input", "Enter")
    page.wait_for_selector(".msg--user:not(.msg--pending)")
    assert page.locator(".msg--user").inner_text() == PASTE[:500]
    assert page.locator("#counter").inner_text() == "0/500"
