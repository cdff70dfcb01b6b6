"""The web chat page in a real headless Chromium: type, press Enter, see the reply."""


def test_type_a_message_and_see_the_reply(live_server, browser, artifacts):
    page = browser.new_page(viewport={"width": 390, "height": 780})
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

    user_id = page.evaluate("localStorage.getItem('chatbot.userId')")
    assert user_id and user_id.startswith("web-")
    page.reload()
    page.wait_for_selector(".msg--user")
    assert page.evaluate("localStorage.getItem('chatbot.userId')") == user_id
    assert "你好" in page.locator(".msg--user").all_inner_texts()  # transcript restored


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
