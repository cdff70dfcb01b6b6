"""The JSON text of the database's JSON columns and the chat answers (chatbot/json_text.py)."""
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from chatbot import json_text
from chatbot.storage.db import Database
from chatbot.storage.migrate import upgrade
from chatbot.storage.models import ChatSession


@pytest.mark.parametrize("value", [
    {"slots": {"payee": "李娜", "amount": "100.05"}, "retries": 0, "offered_faq": [3, 7]},
    {"big": 2 ** 70, "negative": -(2 ** 64) - 1},  # beyond orjson's 64 bits: the standard library
    {"lone": "\udc80"},  # not UTF-8: the standard library writes it as an escape, as before
    {1: "one", None: "none"},  # keys as json.dumps writes them
    [],
])
def test_what_is_written_reads_back_the_same(value):
    expected = json.loads(json.dumps(value))
    assert json_text.loads(json_text.dumps(value)) == expected
    assert json_text.loads(json_text.dump_bytes(value)) == expected


def test_compact_utf8_and_rows_written_before_read_as_they_did():
    assert json_text.dumps({"text": "余额多少", "n": [1, 2]}) == '{"text":"余额多少","n":[1,2]}'
    old_row = json.dumps({"text": "余额多少", "n": [1, 2]})  # \uXXXX escapes, spaces
    assert json_text.loads(old_row) == {"text": "余额多少", "n": [1, 2]}
    assert json_text.loads("[NaN]")[0] != json_text.loads("[NaN]")[0]  # read as the library did


def test_a_long_integer_is_not_read_as_a_float():
    assert json_text.loads('{"card": 6222021234567890123}') == {"card": 6222021234567890123}
    assert json_text.loads(b'[18446744073709551616]') == [18446744073709551616]


def test_json_columns_go_through_it(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'j.db'}")
    upgrade(database)
    states = {"plain": {"slots": {"amount": "3.55"}, "note": "改成3块5毛5"},
              "big": {"slots": {"count": 2 ** 70}, "note": "改成3块5毛5"}}
    now = datetime.now(timezone.utc)
    with database.write() as db:
        db.add_all(ChatSession(channel="web", user_id=user, state=state, created_at=now, last_active_at=now)
                   for user, state in states.items())
    with database.read() as db:
        for user, state in states.items():
            assert db.scalars(select(ChatSession.state).where(ChatSession.user_id == user)).one() == state
    with database.engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT state FROM chat_sessions WHERE user_id = 'plain'").scalar()
    assert raw == '{"slots":{"amount":"3.55"},"note":"改成3块5毛5"}'
