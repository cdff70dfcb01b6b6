"""`POST /v1/chat/feedback` (有帮助吗 👍 / 👎): a key the customer was never given is refused
from a read-only look, without a write transaction; recorded votes are rate limited per web
user and per client address (429 with Retry-After), and a refused vote changes nothing.
The read-only look and the limits run on SQLite and PostgreSQL (`backend`)."""
from __future__ import annotations

import traceback
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.routes import chat as chat_route
from chatbot.security.rate_limit import Limit
from chatbot.storage.models import AnswerFeedback, RateEvent


@pytest.fixture
def answer_key(client):
    """Asks an FAQ as `user_id`, returns the answer's feedback key."""
    def ask(user_id: str, text: str = "挂失要收费吗") -> str:
        response = client.post("/v1/chat", json={"user_id": user_id, "text": text, "rich": True})
        assert response.status_code == 200, response.text
        [answer] = [item for item in response.json()["replies"] if item.get("feedback")]
        return answer["feedback"]
    return ask


@pytest.fixture
def route_writes(services, monkeypatch) -> list[int]:
    """Write transactions opened by the feedback route (other threads' are not counted)."""
    opened: list[int] = []
    write = services.database.write

    def counting_write(*args, **kwargs):
        if any(frame.filename.endswith("api/routes/chat.py") for frame in traceback.extract_stack()):
            opened.append(1)
        return write(*args, **kwargs)

    monkeypatch.setattr(services.database, "write", counting_write)
    return opened


def vote(client, user_id: str, key: str, helpful: bool):
    return client.post("/v1/chat/feedback", json={"user_id": user_id, "feedback": key, "helpful": helpful})


def votes_of(database) -> list[bool]:
    with database.read() as db:
        return [row.helpful for row in db.scalars(select(AnswerFeedback).order_by(AnswerFeedback.id))]


@pytest.mark.usefixtures("backend")
def test_an_unknown_key_is_a_404_without_a_write_transaction(client, services, answer_key, route_writes):
    key = answer_key("fb-reader")
    answer_key("fb-stranger")
    route_writes.clear()
    unknown = vote(client, "fb-reader", "nosuchkey", True)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "feedback_answer_not_found"
    someone_elses = vote(client, "fb-stranger", key, False)  # their own token, another's key
    assert someone_elses.status_code == 404
    assert route_writes == [] and votes_of(services.database) == []
    assert vote(client, "fb-reader", key, False).status_code == 200
    assert vote(client, "fb-reader", key, True).status_code == 200  # a changed vote is still written
    assert len(route_writes) == 2 and votes_of(services.database) == [True]


@pytest.mark.usefixtures("backend")
def test_votes_are_limited_per_user_and_a_refused_one_changes_nothing(client, services, clock, answer_key,
                                                                       route_writes, monkeypatch):
    monkeypatch.setattr(chat_route, "FEEDBACK_PER_USER", Limit("feedback.user", 3, timedelta(minutes=10)))
    key = answer_key("fb-busy")
    for helpful in (True, False, True):
        assert vote(client, "fb-busy", key, helpful).status_code == 200
    clock.advance(minutes=4)
    route_writes.clear()
    refused = vote(client, "fb-busy", key, False)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "feedback_rate_limited"
    assert int(refused.headers["Retry-After"]) == 6 * 60  # when the first of the three leaves the window
    # Over the limit, a made-up key is refused the same way: nothing is looked up or written.
    assert vote(client, "fb-busy", "nosuchkey", False).status_code == 429
    assert route_writes == [] and votes_of(services.database) == [True]
    # Another customer is not held back by this one.
    assert vote(client, "fb-calm", answer_key("fb-calm"), True).status_code == 200
    clock.advance(minutes=6, seconds=1)
    assert vote(client, "fb-busy", key, False).status_code == 200
    assert votes_of(services.database) == [False, True]


def test_votes_are_limited_per_client_address(client, services, answer_key, monkeypatch):
    monkeypatch.setattr(chat_route, "FEEDBACK_PER_ADDRESS", Limit("feedback.address", 2, timedelta(minutes=10)))
    users = [f"fb-address-{n}" for n in range(3)]
    keys = [answer_key(user) for user in users]
    assert [vote(client, user, key, True).status_code for user, key in zip(users, keys)] == [200, 200, 429]
    assert votes_of(services.database) == [True, True]


def test_the_limits_are_counted_in_the_votes_transaction(client, services, answer_key):
    """Without Redis, each recorded vote adds one event per limit, in its own write; refusals add none."""
    def events() -> int:
        with services.database.read() as db:
            return db.scalar(select(func.count()).select_from(RateEvent).where(RateEvent.key.like("feedback.%")))

    key = answer_key("fb-count")
    assert vote(client, "fb-count", "nosuchkey", True).status_code == 404 and events() == 0
    assert vote(client, "fb-count", key, True).status_code == 200 and events() == 2  # user and address
