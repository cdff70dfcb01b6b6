"""What a queued customer is told, through POST /v1/chat: queued (not "已转接") until an agent
accepts, and a wait estimated from the agents online now, their free capacity and recent
handling times; with nobody online the bot says so instead of "1 分钟"."""
from sqlalchemy import select

from chatbot.service import build_services
from chatbot.storage.models import StaffUser


def bearer(client, username) -> dict:
    response = client.post("/v1/auth/login", json={"username": username, "password": f"{username}-sandbox"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def say(client, user, text) -> dict:
    response = client.post("/v1/chat", json={"user_id": user, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


def reply_text(answer: dict) -> str:
    return "\n".join(r["text"] for r in answer["replies"])


def status(client, user) -> dict:
    return client.get("/v1/chat/status", params={"user_id": user}).json()


def history(client, user) -> list[str]:
    return [m["text"] for m in client.get("/v1/chat/history", params={"user_id": user}).json()["messages"]]


def test_queued_is_said_as_queued_and_accepted_only_when_an_agent_accepts(client):
    agent = bearer(client, "agent1")
    client.get("/v1/agent/queue", headers=agent)
    answer = say(client, "q1", "转人工")
    text = reply_text(answer)
    assert answer["state"]["mode"] == "queued"
    assert "已为您排队等候人工客服，当前第 1 位" in text
    assert "已为您转接" not in text and "已接入" not in text
    assert "当前排队第 1 位" in reply_text(say(client, "q1", "还要等多久"))
    session_id = client.get("/v1/agent/queue", headers=agent).json()["queue"][0]["session_id"]
    client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent)
    assert any("客服小王已接入" in line for line in history(client, "q1"))


def test_with_nobody_online_the_customer_is_told_so_not_one_minute(client):
    bearer(client, "agent1")  # logged in somewhere, but no console open and nothing done
    answer = say(client, "q2", "转人工")
    text = reply_text(answer)
    assert "暂无人工客服在线" in text and "分钟" not in text, text
    assert "暂无人工客服在线" in reply_text(say(client, "q2", "有人吗"))
    now = status(client, "q2")
    assert now["position"] == 1 and now["estimated_wait_minutes"] is None and now["agents_online"] == 0


def test_an_agent_who_acted_lately_is_online_until_the_window_passes(client, clock):
    agent = bearer(client, "agent1")
    client.get("/v1/agent/queue", headers=agent)
    assert "预计等待约 1 分钟" in reply_text(say(client, "q3", "转人工"))
    assert status(client, "q3")["agents_online"] == 1
    clock.advance(minutes=6)  # CHATBOT_AGENT_PRESENCE_MINUTES=5 without a console action
    late = status(client, "q3")
    assert late["agents_online"] == 0 and late["estimated_wait_minutes"] is None
    queue = client.get("/v1/agent/queue", headers=agent).json()  # back at the console
    assert queue["agents_online"] == 1 and {a["username"]: a["online"] for a in queue["agents"]}["agent1"] is True
    assert status(client, "q3")["estimated_wait_minutes"] == 1


def test_the_estimate_follows_free_capacity_and_recent_handling_times(client, clock):
    agent1 = bearer(client, "agent1")
    client.get("/v1/agent/queue", headers=agent1)  # one agent online, 3 free slots
    # Recent handling: two customers served 9 minutes each.
    for user in ("h1", "h2"):
        say(client, user, "转人工")
        session_id = client.get("/v1/agent/queue", headers=agent1).json()["queue"][0]["session_id"]
        client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent1)
        clock.advance(minutes=9)
        client.post(f"/v1/agent/sessions/{session_id}/close", headers=agent1)
    waits = [status(client, u)["estimated_wait_minutes"] for u in ("e1", "e2", "e3", "e4", "e5")
             if say(client, u, "转人工")]
    # Places 1-3 fit agent1's free slots; then a slot frees every 9 min / 3 slots = 3 min.
    assert waits == [1, 1, 1, 3, 6]
    assert "当前第 6 位，预计等待约 9 分钟" in reply_text(say(client, "e6", "转人工"))
    # A second agent opens the console: six free slots now, everyone is taken at once.
    client.get("/v1/agent/queue", headers=bearer(client, "agent2"))
    assert [status(client, u)["estimated_wait_minutes"] for u in ("e4", "e5")] == [1, 1]
    queue = client.get("/v1/agent/queue", headers=agent1).json()
    assert [item["estimated_wait_minutes"] for item in queue["queue"]] == [1] * 6


def test_presence_is_shared_by_workers_through_the_database(client, settings, clock, intent_model, knowledge_desk):
    """An agent at a console served by another worker counts for a customer queued here."""
    other = build_services(settings, clock=clock, classifier=intent_model, knowledge=knowledge_desk)
    try:
        with other.database.read() as db:
            agent2_id = db.scalar(select(StaffUser.id).where(StaffUser.username == "agent2"))
        other.handoff.presence.stream_alive(agent2_id)  # agent2's console stream is open on the other worker
    finally:
        other.close()
    answer = say(client, "x1", "转人工")
    assert "预计等待约 1 分钟" in reply_text(answer)
    assert status(client, "x1")["agents_online"] == 1
    clock.advance(seconds=50)  # the stream stopped refreshing: gone
    assert status(client, "x1")["agents_online"] == 0


def test_an_open_console_stream_keeps_its_agent_online(live_server, event_reader, clock):
    import httpx

    login = httpx.post(f"{live_server}/v1/auth/login", json={"username": "agent1", "password": "agent1-sandbox"})
    console = event_reader(f"{live_server}/v1/agent/events", {"Authorization": f"Bearer {login.json()['token']}"})
    first = httpx.post(f"{live_server}/v1/chat", json={"user_id": "s1", "text": "转人工"}, timeout=10).json()
    assert "预计等待约 1 分钟" in reply_text(first)
    console.next("queue")
    customer = {"Authorization": f"Bearer {first['user_token']}"}
    assert httpx.get(f"{live_server}/v1/chat/status", headers=customer).json()["agents_online"] == 1
    console.close()
    clock.advance(seconds=50)  # no heartbeat refreshed it: the console is gone
    later = httpx.get(f"{live_server}/v1/chat/status", headers=customer).json()
    assert later["agents_online"] == 0 and later["estimated_wait_minutes"] is None
