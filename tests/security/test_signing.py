"""Signed links: genuine tokens round-trip; altered, forged or expired ones are refused."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from chatbot.errors import Forbidden
from chatbot.security.signing import ExpiredToken, InvalidToken, sign, unsign

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
PAYLOAD = {"customer_id": 1, "kinds": ["salary"], "note": "交易明细"}


def test_round_trip_and_url_safety():
    token = sign(PAYLOAD, "k", NOW + timedelta(minutes=10))
    assert unsign(token, "k", NOW) == PAYLOAD
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_expired_at_the_expiry_instant():
    token = sign(PAYLOAD, "k", NOW + timedelta(minutes=10))
    assert unsign(token, "k", NOW + timedelta(minutes=9, seconds=59)) == PAYLOAD
    with pytest.raises(ExpiredToken) as caught:
        unsign(token, "k", NOW + timedelta(minutes=10))
    assert caught.value.code == "token_expired" and isinstance(caught.value, Forbidden)


def _forge(token: str, **changes) -> str:
    encoded, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    body["p"].update(changes)
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + signature


@pytest.mark.parametrize("mangle", [
    lambda t: _forge(t, customer_id=2),
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    lambda t: t.split(".")[0],
    lambda t: "." + t.split(".")[1],
    lambda t: t + "=",
    lambda t: t.replace(".", ".é"),
    lambda t: "",
    lambda t: "not a token",
])
def test_altered_or_malformed_tokens_are_invalid(mangle):
    token = sign(PAYLOAD, "k", NOW + timedelta(minutes=10))
    with pytest.raises(InvalidToken) as caught:
        unsign(mangle(token), "k", NOW)
    assert caught.value.code == "invalid_token" and isinstance(caught.value, Forbidden)


def test_another_secret_does_not_verify():
    token = sign(PAYLOAD, "k", NOW + timedelta(minutes=10))
    with pytest.raises(InvalidToken):
        unsign(token, "other", NOW)


def test_naive_expiry_is_a_programming_error():
    with pytest.raises(ValueError):
        sign(PAYLOAD, "k", datetime(2026, 11, 24, 12, 0))


def test_sealed_tokens_are_opaque_expire_and_belong_to_one_purpose():
    from chatbot.security.signing import open_token, seal_token

    token = seal_token(PAYLOAD, "k", NOW + timedelta(minutes=10), "export")
    assert "customer_id" not in base64.urlsafe_b64decode(token[3:] + "=" * (-len(token[3:]) % 4)).decode("latin-1")
    opened = open_token(token, "k", NOW, "export")
    assert opened.payload == PAYLOAD and opened.expires_at == NOW + timedelta(minutes=10)
    assert opened.token_id != open_token(seal_token(PAYLOAD, "k", NOW + timedelta(minutes=10), "export"),
                                         "k", NOW, "export").token_id
    with pytest.raises(ExpiredToken):
        open_token(token, "k", NOW + timedelta(minutes=10), "export")
    for key, label, value in (("other", "export", token), ("k", "other", token), ("k", "export", "v1.x"),
                              ("k", "export", sign(PAYLOAD, "k", NOW + timedelta(minutes=10)))):
        with pytest.raises(InvalidToken):
            open_token(value, key, NOW, label)
