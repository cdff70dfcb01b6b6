"""Outside service hours (CHATBOT_AGENT_HOURS=09:00-21:00, bank time) a request for a person
says so and takes a message: the customer's next message is kept for the agents (a queued
ticket marked as a message, after the live waits in the console), the customer is told when
someone will reply, and the bot serves them meanwhile. Through POST /v1/chat."""
from datetime import datetime

import pytest

from chatbot.clock import BANK_TZ, FixedClock
from chatbot.settings import Settings

from tests.handoff.test_wait_estimates import bearer, history, reply_text, say, status


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 24, 22, 30, tzinfo=BANK_TZ))  # a Tuesday evening


@pytest.fixture
def settings(database_url, model_dir) -> Settings:
    return Settings(env="sandbox", database_url=database_url, model_dir=model_dir, agent_hours="09:00-21:00")


def test_outside_hours_the_customer_leaves_a_message_and_is_told_when_agents_reply(client, clock):
    asked = say(client, "n1", "转人工")
    text = reply_text(asked)
    assert "不在人工客服服务时间（每天 09:00–21:00）" in text and "留言" in text
    assert "明天 09:00" in text and "排队" not in text and "预计等待" not in text
    left = say(client, "n1", "我的信用卡被重复扣了两笔年费，请帮我退一笔")
    assert "已收到您的留言" in reply_text(left) and "明天 09:00" in reply_text(left)
    assert left["state"]["mode"] == "bot"
    assert status(client, "n1")["message"]["status"] == "left"

    agent = bearer(client, "agent1")
    queue = client.get("/v1/agent/queue", headers=agent).json()
    [item] = queue["queue"]
    assert item["message"]["status"] == "left" and item["position"] is None
    assert item["last_message"] == "我的信用卡被重复扣了两笔年费，请帮我退一笔"

    # Meanwhile the bot answers as usual.
    meanwhile = say(client, "n1", "你好")
    assert meanwhile["state"]["mode"] == "bot" and "留言" not in reply_text(meanwhile)

    # The next morning an agent takes the message; the customer talks to the agent.
    clock.advance(hours=11)
    agent = bearer(client, "agent1")  # a new working day, a new login
    assert client.post(f"/v1/agent/sessions/{item['session_id']}/accept", headers=agent).status_code == 200
    assert any("客服小王已接入，正在查看您的留言" in line for line in history(client, "n1"))
    assert say(client, "n1", "好的，谢谢")["replies"] == []


def test_live_waits_come_before_messages_and_a_message_can_be_withdrawn(client, clock):
    say(client, "n2", "转人工")
    say(client, "n2", "请回电话给我")
    cancelled = say(client, "n3", "转人工")
    assert cancelled["state"]["mode"] == "queued"
    withdrawn = say(client, "n3", "取消")  # before leaving anything
    assert "不留言了" in reply_text(withdrawn) and withdrawn["state"]["mode"] == "bot"
    clock.advance(hours=11)  # 09:30: on duty
    agent = bearer(client, "agent1")
    client.get("/v1/agent/queue", headers=agent)
    live = say(client, "n4", "转人工")
    assert "已为您排队等候人工客服，当前第 1 位" in reply_text(live)
    queue = client.get("/v1/agent/queue", headers=agent).json()["queue"]
    assert [(q["message"] is not None, q["position"]) for q in queue] == [(False, 1), (True, None)]
