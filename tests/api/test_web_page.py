"""The web chat page in a real headless Chromium: type, press Enter, see the reply."""
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from api.app import create_app

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(services):
    """The real app served by uvicorn on a loopback port, in a thread."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(services=services), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


def test_type_a_message_and_see_the_reply(live_server, browser):
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
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web_chat.png"))

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
