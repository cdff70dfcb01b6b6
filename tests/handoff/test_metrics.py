"""Metrics: queue length, wait, first response, handle time, resolution, ratings per agent."""
from chatbot.handoff import prometheus
from chatbot.handoff.metrics import HandoffMetrics


def _serve(engine, desk, clock, agent, user, *, wait_s, respond_s, handle_s, rating=None):
    session_id = engine.handle("web", user, "转人工").session_id
    clock.advance(seconds=wait_s)
    desk.accept(agent, session_id)
    clock.advance(seconds=respond_s)
    desk.send(agent, session_id, "您好")
    clock.advance(seconds=handle_s - respond_s)
    desk.close(agent, session_id)
    if rating is not None:
        engine.handle("web", user, str(rating))
    return session_id


def test_metrics_over_a_day_of_tickets(engine, desk, staff, clock, database):
    one, two = staff("agent1"), staff("agent2")
    _serve(engine, desk, clock, one, "u1", wait_s=30, respond_s=10, handle_s=120, rating=5)
    _serve(engine, desk, clock, two, "u2", wait_s=90, respond_s=20, handle_s=300, rating=3)
    _serve(engine, desk, clock, one, "u3", wait_s=60, respond_s=30, handle_s=60, rating=4)
    clock.advance(hours=2)
    engine.handle("web", "u2", "转人工")  # u2 came back within a day: not resolved
    engine.handle("web", "u4", "转人工")  # still waiting
    clock.advance(hours=23)
    snapshot = HandoffMetrics(database, clock).snapshot(hours=48)
    assert snapshot["queue_length"] == 2
    assert snapshot["wait_seconds"]["count"] == 3 and snapshot["wait_seconds"]["avg"] == 60.0
    assert snapshot["first_response_seconds"]["p50"] == 20.0
    assert snapshot["handle_seconds"]["max"] == 300.0
    assert snapshot["resolution"] == {"resolved": 2, "came_back": 1, "pending": 0, "rate": 0.667}
    assert snapshot["ratings"]["agent1"]["average"] == 4.5
    assert snapshot["ratings"]["agent2"]["distribution"]["3"] == 1


def test_recently_closed_tickets_are_pending_resolution(engine, desk, staff, clock, database):
    _serve(engine, desk, clock, staff("agent1"), "u1", wait_s=5, respond_s=1, handle_s=10)
    resolution = HandoffMetrics(database, clock).snapshot()["resolution"]
    assert resolution == {"resolved": 0, "came_back": 0, "pending": 1, "rate": None}


def test_prometheus_text(engine, desk, staff, clock, database):
    _serve(engine, desk, clock, staff("agent1"), "u1", wait_s=30, respond_s=10, handle_s=100, rating=5)
    engine.handle("web", "u9", "转人工")
    snapshot = HandoffMetrics(database, clock).snapshot()
    text = prometheus.render(snapshot)
    agent_id = snapshot["ratings"]["agent1"]["staff_id"]
    assert "# TYPE chatbot_handoff_queue_length gauge\nchatbot_handoff_queue_length 1\n" in text
    assert 'chatbot_handoff_wait_seconds{stat="avg",window="24h"} 30' in text
    assert f'chatbot_handoff_rating_average{{agent_id="{agent_id}",window="24h"}} 5' in text
    assert f'chatbot_handoff_ratings{{agent_id="{agent_id}",rating="5",window="24h"}} 1' in text
    assert "agent1" not in text  # /metrics is unauthenticated: no staff usernames
    assert text.endswith("\n")
