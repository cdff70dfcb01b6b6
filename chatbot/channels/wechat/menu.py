"""The official account's custom menu, defined in `data/wechat_menu.yaml`.

A click button's `key` comes back in a CLICK event. The menu maps it to `text` (treated as
if the customer had typed it, so the engine's NLU decides the intent) or to a fixed `reply`.
`intent` documents which intent the text is meant to reach; a test checks it, the adapter
ignores it. WeChat's limits are checked before pushing: at most 3 buttons of at most
5 sub-buttons, names of at most 16 (top level) or 60 (sub-buttons) bytes, keys of 128 bytes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from chatbot.errors import InvalidInput

MAX_BUTTONS, MAX_SUB_BUTTONS = 3, 5
MAX_TOP_NAME_BYTES, MAX_SUB_NAME_BYTES, MAX_KEY_BYTES = 16, 60, 128


@dataclass(frozen=True)
class MenuButton:
    name: str
    key: str | None = None      # click buttons
    text: str | None = None     # what the bot receives for a click
    reply: str | None = None    # or a fixed answer
    url: str | None = None      # view buttons open a page instead
    intent: str | None = None   # documentation: the intent `text` should reach
    sub_buttons: tuple["MenuButton", ...] = ()

    def to_wechat(self) -> dict:
        if self.sub_buttons:
            return {"name": self.name, "sub_button": [b.to_wechat() for b in self.sub_buttons]}
        if self.url:
            return {"type": "view", "name": self.name, "url": self.url}
        return {"type": "click", "name": self.name, "key": self.key}


@dataclass(frozen=True)
class Menu:
    buttons: tuple[MenuButton, ...]

    def click(self, key: str) -> MenuButton | None:
        """The click button with this key, or None for an unknown (e.g. outdated) key."""
        return next((b for b in self.leaves() if b.key == key), None)

    def leaves(self) -> list[MenuButton]:
        return [leaf for b in self.buttons for leaf in (b.sub_buttons or (b,))]

    def to_wechat(self) -> dict:
        """The body of `/cgi-bin/menu/create`."""
        return {"button": [b.to_wechat() for b in self.buttons]}


EMPTY_MENU = Menu(())


def load_menu(path: Path) -> Menu:
    """Read and validate a menu file; InvalidInput names the file and the faulty button."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"无法读取菜单文件 {path}：{exc}", "invalid_menu") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("buttons"), list):
        raise InvalidInput(f"菜单文件 {path} 须包含 buttons 列表", "invalid_menu")
    buttons = tuple(_button(b, top=True, where=f"{path}: 第 {i + 1} 个按钮")
                    for i, b in enumerate(raw["buttons"]))
    menu = Menu(buttons)
    _check_menu(menu, path)
    return menu


def _button(raw, *, top: bool, where: str) -> MenuButton:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"].strip():
        raise InvalidInput(f"{where} 须有 name", "invalid_menu")
    limit = MAX_TOP_NAME_BYTES if top else MAX_SUB_NAME_BYTES
    if len(raw["name"].encode()) > limit:
        raise InvalidInput(f"{where}（{raw['name']}）名称超过 {limit} 字节", "invalid_menu")
    subs = raw.get("sub_buttons") or []
    if subs:
        if not top or len(subs) > MAX_SUB_BUTTONS:
            raise InvalidInput(f"{where}：子菜单最多一层、{MAX_SUB_BUTTONS} 个", "invalid_menu")
        children = tuple(_button(s, top=False, where=f"{where} 的第 {j + 1} 个子按钮") for j, s in enumerate(subs))
        return MenuButton(raw["name"], sub_buttons=children)
    fields = {k: raw.get(k) for k in ("key", "text", "reply", "url", "intent")}
    _check_leaf(fields, where)
    return MenuButton(raw["name"], **fields)


def _check_leaf(fields: dict, where: str) -> None:
    if fields["url"]:
        if not str(fields["url"]).startswith(("https://", "http://")):
            raise InvalidInput(f"{where}：url 须以 http(s):// 开头", "invalid_menu")
        return
    key = fields["key"]
    if not isinstance(key, str) or not key or len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidInput(f"{where}：点击按钮须有 1–{MAX_KEY_BYTES} 字节的 key", "invalid_menu")
    if bool(fields["text"]) == bool(fields["reply"]):
        raise InvalidInput(f"{where}：点击按钮须有 text 或 reply 之一", "invalid_menu")


def _check_menu(menu: Menu, path: Path) -> None:
    if not 1 <= len(menu.buttons) <= MAX_BUTTONS:
        raise InvalidInput(f"{path}：一级菜单须有 1–{MAX_BUTTONS} 个按钮", "invalid_menu")
    keys = [b.key for b in menu.leaves() if b.key]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise InvalidInput(f"{path}：重复的 key {', '.join(duplicates)}", "invalid_menu")
