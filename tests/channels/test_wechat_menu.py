"""The menu file: WeChat's limits, the push payload, CLICK keys reaching their intents, the CLI."""
import os
import subprocess
import sys

import pytest
import yaml

from chatbot.channels.wechat.menu import load_menu
from chatbot.clock import bank_today
from chatbot.errors import InvalidInput
from chatbot.settings import DATA_DIR

MENU = DATA_DIR / "wechat_menu.yaml"


def test_the_menu_file_is_valid_and_pushable():
    menu = load_menu(MENU)
    payload = menu.to_wechat()
    assert 1 <= len(payload["button"]) <= 3
    assert all(len(b["sub_button"]) <= 5 for b in payload["button"])
    keys = {leaf.key for leaf in menu.leaves()}
    assert {"ACCOUNT_BALANCE", "TRANSFER_CREATE", "ACCOUNT_REPORT_LOSS", "CARD_BILL", "HUMAN_REQUEST"} <= keys
    assert menu.click("ACCOUNT_BALANCE").text == "查余额"
    assert menu.click("NOPE") is None


def test_every_click_text_reaches_its_intent(parser, clock):
    """The mapping is data; this checks the data against the NLU, not the adapter."""
    for button in load_menu(MENU).leaves():
        if button.text:
            result = parser.parse(button.text, bank_today(clock))
            assert result.intent.name == button.intent, button.name


def _menu(tmp_path, buttons):
    path = tmp_path / "menu.yaml"
    path.write_text(yaml.safe_dump({"buttons": buttons}, allow_unicode=True), encoding="utf-8")
    return path


CLICK = {"name": "查余额", "key": "K1", "text": "查余额"}


@pytest.mark.parametrize(("buttons", "words"), [
    ([CLICK] * 4, "1–3"),
    ([{"name": "账户", "sub_buttons": [dict(CLICK, key=f"K{i}") for i in range(6)]}], "5 个"),
    ([dict(CLICK, name="一个很长的菜单名称")], "16 字节"),
    ([CLICK, CLICK], "重复的 key"),
    ([{"name": "空", "key": "K2"}], "text 或 reply"),
    ([{"name": "两者", "key": "K3", "text": "a", "reply": "b"}], "text 或 reply"),
    ([{"name": "网页", "url": "ftp://x"}], "http"),
    ([{"key": "K4", "text": "a"}], "name"),
])
def test_invalid_menus_are_refused_with_a_reason(tmp_path, buttons, words):
    with pytest.raises(InvalidInput) as caught:
        load_menu(_menu(tmp_path, buttons))
    assert caught.value.code == "invalid_menu" and words in caught.value.message


def _cli(args, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "chatbot.cli", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_menu_push_command(fake_wechat, settings):
    env = {"CHATBOT_WECHAT_APPID": settings.wechat_appid, "CHATBOT_WECHAT_SECRET": settings.wechat_secret,
           "CHATBOT_WECHAT_API_BASE": fake_wechat.base_url}
    result = _cli(["wechat", "menu", "push"], env)
    assert result.returncode == 0, result.stderr
    assert "菜单已推送" in result.stdout
    assert fake_wechat.menus == [load_menu(MENU).to_wechat()]


def test_menu_push_errors_are_one_line(fake_wechat, tmp_path):
    result = _cli(["wechat", "menu", "push"], {"CHATBOT_WECHAT_API_BASE": fake_wechat.base_url})
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "CHATBOT_WECHAT_SECRET" in result.stderr
    bad = _menu(tmp_path, [CLICK] * 4)
    result = _cli(["wechat", "menu", "show"], {"CHATBOT_WECHAT_MENU_PATH": str(bad)})
    assert result.returncode == 1 and result.stderr.startswith("错误：") and "1–3" in result.stderr
    assert fake_wechat.menus == []
