"""Messages with no words: emoji (😊 👍 🙏), WeChat sticker codes ([微笑] [强] [OK]) and
punctuation alone ("。。。" "？？" "…").

They are small talk, never a failed answer: outside a flow a short friendly reply, inside
one the flow's question again. They never confirm anything: a thumbs-up at a read-back is
not a "确认" of money. Read on the text as typed, because normalization turns "[OK]" and
"🆗" into the word "ok".
"""
from __future__ import annotations

import re
import unicodedata

WECHAT_CODE = re.compile(r"\[[A-Za-z\u4e00-\u9fff]{1,6}\]")
WORDLESS = ("So", "Sk", "Sm", "Mn", "Me", "Cf", "Cc", "Co", "Zs", "Zl", "Zp")


def is_sticker(text: str) -> bool:
    """Only emoji, sticker codes, punctuation and spaces: nothing to read."""
    rest = WECHAT_CODE.sub("", text or "")
    if not (text or "").strip():
        return False
    return all(unicodedata.category(ch)[0] == "P" or unicodedata.category(ch) in WORDLESS for ch in rest)
