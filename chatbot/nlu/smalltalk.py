"""A keyword classifier for small talk, used until a trained intent model is available.

It knows greetings, thanks and goodbyes and says honestly that it understands nothing else
(`out_of_scope` with low confidence), so the policy falls back instead of guessing.
"""
from __future__ import annotations

from collections.abc import Sequence

from chatbot.nlu.intents import IntentScore

_KEYWORDS = {
    "greet": ("你好", "您好", "在吗", "hello", "hi", "哈喽", "早上好", "下午好", "晚上好", "嗨"),
    "thanks": ("谢谢", "多谢", "感谢", "thx", "thanks", "辛苦了"),
    "goodbye": ("再见", "拜拜", "bye", "回见", "没事了", "先这样"),
}
# Longer messages that merely contain a greeting are probably about something else.
_MAX_SMALLTALK_LENGTH = 12


class KeywordClassifier:
    def rank(self, text: str, tokens: Sequence[str]) -> list[IntentScore]:
        hits = [
            IntentScore(intent, 0.9)
            for intent, words in _KEYWORDS.items()
            if len(text) <= _MAX_SMALLTALK_LENGTH and any(w in text for w in words)
        ]
        return hits + [IntentScore("out_of_scope", 0.2)]
