"""Mask card, ID and phone numbers wherever text leaves the system.

Formats follow DESIGN.md: `**** 1234`, `1101**********1239`, `138****8000`.
"""
from __future__ import annotations

import re

# Order matters: an 18-character ID number contains 11-digit runs that look like phones.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_CARD_NUMBER = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}(\d{4})(?!\d)")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")


def mask_id_number(id_number: str) -> str:
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def mask_card(card_no: str) -> str:
    return f"**** {card_no[-4:]}"


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)[-11:]
    return f"{digits[:3]}****{digits[-4:]}"


def mask_text(text: str) -> str:
    """Replace every ID, card and phone number inside free text by its masked form."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _CARD_NUMBER.sub(lambda m: mask_card(m.group(1)), text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def mask_value(value):
    """Mask strings nested anywhere in JSON-like data (lists, dicts)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    return value
