"""Mask card, ID and phone numbers (and codes and passwords) wherever text is kept or leaves.

Formats follow DESIGN.md: `**** 1234`, `1101**********1239`, `138****8000`.

Numbers are found after the same character folding the NLU parser applies (NFKC, so
full-width digits, hyphens and spaces count; invisible and decorative characters
dropped, so a zero-width space or word joiner inside a number does not hide it), and
digits may be split by spaces (NBSP, ideographic space), hyphens or dashes, dots or
slashes. Only the number itself is replaced; the rest of the text stays as typed.

What customers type is also stripped of one-time codes and passwords before it is
stored: :func:`mask_customer_text` and :func:`mask_entities` (the engine's turn log).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from chatbot.nlu.normalize import _NOISE, _nfkc
from chatbot.nlu.textmap import MappedText

CODE_MASK = "******"
SECRET_MASK = "******"

# One gap between two digit groups, per kind of separator: a run of one kind only, so a
# date followed by an amount ("2024-03-07 -12000.00") is not read as one long number.
_GAP_KINDS = (r"\s+|-+", r"\.+", r"/+")
# Mixed separators are accepted only for numbers that prove themselves (phone prefix,
# ID checksum, card Luhn check).
_MIXED_GAP = r"[\s\-./]{1,3}"
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63"), "-")


def _number_pattern(gap: str) -> re.Pattern:
    return re.compile(rf"\d(?:(?:{gap})?\d)*(?:(?:{gap})?[xX](?![0-9A-Za-z]))?")


_RUNS = tuple(_number_pattern(gap) for gap in _GAP_KINDS)
_PIECE = re.compile(r"[^\s]+")
_MIXED_RUN = _number_pattern(_MIXED_GAP)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

_CODE_AFTER_CUE = re.compile(r"(?:验证码|驗證碼|动态码|动态密码|短信密码|校验码|短信码|code)\D{0,6}?(?<!\d)(\d{6})(?!\d)", re.I)
# 密码 / 口令 / PIN wording followed by what looks like the secret itself.
_PASSWORD_CUE = re.compile(
    r"(?:(?:登录|登陆|支付|交易|取款|查询|银行卡|卡|网银|手机银行)?(?<!动态)(?<!短信)(?:密\s*码|密\s*碼|口\s*令)"
    r"|(?<![a-z])(?:pin(?:\s*(?:码|code))?|password|passwd|pwd|passcode)(?![a-z]))",
    re.IGNORECASE,
)
_PASSWORD_LINK = re.compile(r"\s*(?:是|为|為|:|：|=|is)?\s*(?:是|为)?\s*[:：]?\s*")
_SECRET = re.compile(
    r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ零〇一二三四五六七八九@#$%^&*_+=!.\-~]"
    r"(?:[\s\u200b-\u200d\u2060\ufeff]?[0-9A-Za-z０-９Ａ-Ｚａ-ｚ零〇一二三四五六七八九@#$%^&*_+=!.\-~])*"
)
# Not a password being given: asking about one, forgetting, changing.
_NOT_SECRET_AFTER = re.compile(r"(?:是什么|是多少|忘|错|不对|怎么|如何|修改|重置|找回|锁)")


def mask_id_number(id_number: str) -> str:
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def mask_card(card_no: str) -> str:
    return f"**** {card_no[-4:]}"


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)[-11:]
    return f"{digits[:3]}****{digits[-4:]}"


def mask_text(text: str) -> str:
    """Replace every ID, card and phone number inside free text by its masked form."""
    if not isinstance(text, str) or not text:
        return text
    return _apply(text, _number_spans(text))


def mask_customer_text(text: str, parse=None) -> str:
    """What a customer typed, as it may be stored and shown to staff.

    Numbers as in :func:`mask_text`; besides, the spans the parser read as a phone, ID
    or one-time code (``parse``: a :class:`~chatbot.nlu.parser.ParseResult`), a bare
    6-digit reply and whatever follows 密码 / 口令 / PIN wording are masked.
    """
    if not isinstance(text, str) or not text:
        return text
    spans = _number_spans(text)
    # The parser may have read a stripped copy: its offsets are shifted by what was cut.
    parsed = getattr(parse, "text", None)
    shift = text.find(parsed) if isinstance(parsed, str) and parsed else -1
    for entity in getattr(parse, "entities", ()) if shift >= 0 else ():
        start, end = entity.start + shift, entity.end + shift
        if entity.entity in ("otp", "phone", "id_number") and 0 <= start < end <= len(text):
            spans.append((start, end, _entity_mask(entity), 1))
    spans.extend((start, end, SECRET_MASK, 2) for start, end in password_spans(text))
    spans.extend((m.start(1), m.end(1), CODE_MASK, 1) for m in _CODE_AFTER_CUE.finditer(text))
    bare = _bare_code_span(text)
    if bare is not None:
        spans.append((*bare, CODE_MASK, 1))
    return _apply(text, spans)


def mask_entities(entities: Iterable[dict]) -> list[dict]:
    """Turn-log entities (``Entity.to_dict()``): one-time codes hidden, numbers masked."""
    masked = []
    for entity in entities:
        entity = dict(entity)
        if entity.get("entity") == "otp":
            entity["value"] = CODE_MASK
        masked.append(mask_value(entity))
    return masked


def mentions_password(text: str) -> bool:
    """True when the message seems to give away a password (密码是123456, PIN 1234)."""
    return bool(isinstance(text, str) and password_spans(text))


PASSWORD_REMINDER = "请勿在对话中发送密码，我行工作人员不会向您索要密码。"


def password_spans(text: str) -> list[tuple[int, int]]:
    """Spans (in ``text``) of what follows 密码 / 口令 / PIN wording and looks like the secret."""
    spans = []
    for cue in _PASSWORD_CUE.finditer(text):
        link = _PASSWORD_LINK.match(text, cue.end())
        at = link.end() if link else cue.end()
        if _NOT_SECRET_AFTER.match(text, at):
            continue
        secret = _SECRET.match(text, at)
        if secret is None:
            continue
        value = secret.group()
        # "密码锁了", "PIN码" alone, "密码 ok?" are not secrets; a secret has 3+ characters
        # of which at least one is a digit or it is 6+ characters long.
        compact = re.sub(r"\s", "", value)
        if len(compact) >= 4 or (len(compact) >= 3 and any(c.isdigit() for c in compact)):
            spans.append((secret.start(), secret.end()))
    return spans


def mask_value(value):
    """Mask strings nested anywhere in JSON-like data (lists, dicts)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    return value


# --- finding numbers -----------------------------------------------------------------------------

# The shortest number masked: a mobile phone (cards have 16 to 19 digits, ID numbers 18).
_FEWEST_DIGITS = 11


def _digits_after_folding(text: str) -> int:
    """How many digits the folded text will hold (⑬ and ½ fold into two; only the numeric
    characters are folded here, so this stays cheap: every reply and message is counted)."""
    numeric = "".join(filter(str.isnumeric, text))
    if numeric.isascii():
        return len(numeric)  # 0-9 only, the usual case: each folds into itself
    return sum(sum(map(str.isdigit, unicodedata.normalize("NFKC", ch))) for ch in numeric)


def _folded(text: str) -> MappedText:
    """The parser's character folding (NFKC, noise dropped) with dashes made ASCII."""
    mapped = _nfkc(MappedText.identity(text))
    dashed = mapped.text.translate(_DASHES)
    if dashed != mapped.text:
        mapped = mapped.with_text(dashed)
    return mapped.apply((m.start(), m.end(), "") for m in _NOISE.finditer(mapped.text))


def _number_spans(text: str) -> list[tuple[int, int, str, int]]:
    """(start, end, replacement, priority) in ``text`` for every ID, card and phone number."""
    if _digits_after_folding(text) < _FEWEST_DIGITS:
        return []  # most replies: amounts, dates, 95588 — nothing to mask, and folding is costly
    folded = _folded(text)
    spans = []
    for pattern in _RUNS:
        for match in pattern.finditer(folded.text):
            pieces = [m for m in _PIECE.finditer(match.group())] if " " in match.group() else []
            found = [s for piece in pieces for s in _classify(folded, piece, False, match.start())]
            # Two numbers side by side ("13800138000 13900139000") are masked one by one.
            spans.extend(found if len(found) > 1 else _classify(folded, match, strict=False))
    for match in _MIXED_RUN.finditer(folded.text):
        spans.extend(_classify(folded, match, strict=True))
    return spans


def _classify(folded: MappedText, match: re.Match, strict: bool,
              offset: int = 0) -> list[tuple[int, int, str, int]]:
    chars = [(i, c) for i, c in enumerate(match.group(), offset + match.start()) if c.isdigit() or c in "xX"]
    digits = "".join(str(unicodedata.decimal(c, 0)) if c.isdigit() else "X" for _, c in chars)
    start, end = folded.starts[chars[0][0]], folded.ends[chars[-1][0]]
    if digits[-1] == "X":
        if len(digits) == 18 and (not strict or _id_ok(digits)):
            return [(start, end, mask_id_number(digits), 0)]
        # An X that is not an ID's check character: look at the digits before it (if any:
        # "2 x 3" splits into the pieces "2", "x" and "3").
        chars, digits = chars[:-1], digits[:-1]
        if not chars:
            return []
        end = folded.ends[chars[-1][0]]
    masked = _mask_digits(digits, strict)
    if masked and len(digits) > 11 and masked == mask_phone(digits) and chars[0][0] > 0 \
            and folded.text[chars[0][0] - 1] == "+":
        start = folded.starts[chars[0][0] - 1]  # the "+" of "+86" goes with the number
    return [(start, end, masked, 0)] if masked else []


def _mask_digits(digits: str, strict: bool) -> str | None:
    if len(digits) == 18 and (not strict or _id_ok(digits)):
        return mask_id_number(digits)
    if re.fullmatch(r"(?:0{0,2}86)?1[3-9]\d{9}", digits):
        return mask_phone(digits)
    if strict:
        return mask_card(digits) if 16 <= len(digits) <= 19 and _luhn_ok(digits) else None
    if len(digits) >= 16:
        return mask_card(digits)
    return None


def _id_ok(candidate: str) -> bool:
    if not candidate[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(candidate[:17], _WEIGHTS))
    return "10X98765432"[total % 11] == candidate[17].upper()


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _bare_code_span(text: str) -> tuple[int, int] | None:
    """A reply that is nothing but a 6-digit code (separators and invisible characters aside)."""
    folded = _folded(text)
    stripped = folded.text.strip()
    if not stripped:
        return None
    match = re.fullmatch(r"\d(?:[\s\-./]?\d){5}", stripped)
    if match is None:
        return None
    offset = folded.text.index(stripped)
    return folded.starts[offset], folded.ends[offset + len(stripped) - 1]


def _entity_mask(entity) -> str:
    if entity.entity == "otp":
        return CODE_MASK
    value = str(entity.value)
    return mask_phone(value) if entity.entity == "phone" else mask_id_number(value)


def _apply(text: str, spans: Sequence[tuple[int, int, str, int]]) -> str:
    """Replace the spans; overlapping ones merge, the highest priority's replacement wins."""
    if not spans:
        return text
    merged: list[list] = []
    for start, end, replacement, priority in sorted(spans, key=lambda s: (s[0], -s[1])):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            if priority > last[3] or (priority == last[3] and end - start > last[1] - last[0]):
                last[2], last[3] = replacement, priority
            last[1] = max(last[1], end)
        else:
            merged.append([start, end, replacement, priority])
    parts, pos = [], 0
    for start, end, replacement, _ in merged:
        parts.append(text[pos:start])
        parts.append(replacement)
        pos = end
    parts.append(text[pos:])
    return "".join(parts)
