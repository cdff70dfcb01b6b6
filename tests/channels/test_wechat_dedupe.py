"""The claim/wait/give-up/finish states of one WeChat message, in memory and in Redis."""
import threading
import time

import pytest

from chatbot.channels.wechat.dedupe import MemoryDedupe, RedisDedupe


@pytest.fixture(params=["memory", "redis"])
def dedupe(request):
    if request.param == "memory":
        return MemoryDedupe()
    return RedisDedupe(request.getfixturevalue("redis_client"), poll_seconds=0.005)


def test_only_the_first_request_claims(dedupe):
    results = []
    threads = [threading.Thread(target=lambda: results.append(dedupe.claim("m1"))) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 9 + [True]


def test_waiters_get_the_answer_of_the_run(dedupe):
    assert dedupe.claim("m2")
    assert dedupe.wait("m2", 0.05).state == "pending"
    timer = threading.Timer(0.05, dedupe.finish, args=("m2", "您好"))
    timer.start()
    outcome = dedupe.wait("m2", 2.0)
    timer.join()
    assert (outcome.state, outcome.answer) == ("done", "您好")
    assert dedupe.give_up("m2") == "您好"  # a retry after the answer still gets it


def test_giving_up_makes_the_run_push(dedupe):
    assert dedupe.claim("m3")
    assert dedupe.give_up("m3") is None
    assert dedupe.wait("m3", 0.01).state == "late"
    assert dedupe.finish("m3", "晚到的回答") is True
    outcome = dedupe.wait("m3", 0.01)
    assert (outcome.state, outcome.answer) == ("pushed", None)  # retries answer `success`
    assert dedupe.give_up("m3") is None


def test_an_empty_answer_is_done_too(dedupe):
    assert dedupe.claim("m4")
    assert dedupe.finish("m4", "") is False
    outcome = dedupe.wait("m4", 0.01)
    assert (outcome.state, outcome.answer) == ("done", "")


def test_unknown_keys_are_not_waited_for(dedupe):
    assert dedupe.wait("never-claimed", 1.0).state == "late"
    assert dedupe.give_up("never-claimed") is None


def test_redis_keys_expire(redis_client):
    dedupe = RedisDedupe(redis_client, keep_seconds=60)
    dedupe.claim("m5")
    assert 0 < redis_client.ttl("chatbot:wechat:msg:m5") <= 60


def test_redis_outage_falls_back_to_this_worker(caplog):
    from chatbot.channels.wechat.setup import redis_client

    started = time.monotonic()
    dedupe = RedisDedupe(redis_client("redis://127.0.0.1:9/0"))  # nothing listens on port 9
    assert dedupe.claim("m6") is True and dedupe.claim("m6") is False
    assert dedupe.finish("m6", "ok") is False
    assert dedupe.wait("m6", 0.1).answer == "ok"
    assert "Redis unavailable" in caplog.text
    assert time.monotonic() - started < 3  # a few quick failures, not redis-py's default retries
