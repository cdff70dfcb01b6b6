"""Hypothesis strategies for any text a customer could send, shared by the property tests.

`any_text()` mixes every code point (lone surrogates included) with the characters that
have broken text handling before or could: NUL and control characters, zero-width and
other format characters, right-to-left marks and overrides, combining marks, full-width
digits and punctuation, ideographic and no-break spaces, and the characters the entity
extractors key on (numerals, units, currency signs, cue words). Some examples embed a
digit run of up to several thousand digits.
"""
from __future__ import annotations

from hypothesis import strategies as st

TRICKY = (
    "\x00\x01\x1f\x7f\t\n\r"  # NUL and control characters
    "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # zero-width characters, soft hyphen
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"  # direction marks
    "\u0301\u0308\u0327\u20dd\u3099\ufe0f"  # combining marks, a variation selector
    "\u00a0\u3000\u2009\u2028\u2029"  # other spaces and separators
    "０１２３４５６７８９￥，。：；－＊／．％"  # full-width forms
    "\ud800\udbff\udc00\udfff"  # lone surrogates
    "-–—−/.,:*+%~¥$xXkKwW 　"
    "零一二两三四五六七八九十百千万亿壹贰叁拾佰仟点元块角分毛钱"
    "转给还存借尾号后四位年月日号期个天周前到至第负验证码密码"
)

_DIGITS = st.sampled_from(["0123456789", "０１２３４５６７８９"])


def _characters() -> st.SearchStrategy[str]:
    return st.one_of(
        st.characters(exclude_categories=()),  # every code point, surrogates included
        st.sampled_from(TRICKY),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK ideographs
    )


def _digit_run() -> st.SearchStrategy[str]:
    return st.builds(lambda digits, n, seed: "".join(digits[(seed + i * 7) % 10] for i in range(n)),
                     _DIGITS, st.integers(1, 5000), st.integers(0, 9))


def any_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """Any Unicode text, tilted towards the characters that matter to the parser."""
    plain = st.text(_characters(), max_size=max_size)
    with_run = st.builds(lambda a, run, b: a + run + b, plain, _digit_run(), plain)
    return st.one_of(plain, plain, with_run)
