"""The engine acts on `result.handoff`: queue at once, the bot stays out, cancel, rating."""
from sqlalchemy import func, select

from chatbot.handoff.events import agent_key, customer_key
from chatbot.storage import presence
from chatbot.storage.models import ChatMessage, ChatSession, Handoff, TurnLog


def _ticket(database, session_id) -> Handoff:
    with database.read() as db:
        return db.scalars(select(Handoff).where(Handoff.session_id == session_id).order_by(Handoff.id.desc())).first()


def _session(database, session_id) -> ChatSession:
    with database.read() as db:
        return db.get(ChatSession, session_id)


def test_a_request_for_a_person_queues_at_once_with_place_and_wait(engine, database, staff, clock):
    with database.write() as db:  # agent1's console is open
        presence.touch(db, staff("agent1").id, "stream_seen_at", clock.now())
    reply = engine.handle("web", "c1", "转人工")
    assert reply.state.mode == "queued"
    assert "已为您排队等候人工客服，当前第 1 位，预计等待约 1 分钟" in reply.text and "取消" in reply.text
    assert "转接" not in reply.text and "接入" not in reply.text  # only queued: nobody has taken it yet
    ticket = _ticket(database, reply.session_id)
    assert (ticket.status, ticket.reason, ticket.priority, ticket.initial_position) == ("queued", "human_request", 0, 1)


def test_the_policy_apology_is_not_repeated(engine):
    reply = engine.handle("web", "c1", "我要投诉")
    assert reply.text.count("非常抱歉") == 1
    assert "您当前排队第 1 位" in reply.text


def test_complaints_are_served_before_earlier_requests(engine, database):
    engine.handle("web", "early", "转人工")
    engine.handle("web", "second", "转人工")
    complaint = engine.handle("web", "angry", "我要投诉")
    assert "排队第 1 位" in complaint.text
    with database.read() as db:
        order = list(db.scalars(select(Handoff.user_id).where(Handoff.status == "queued")
                                .order_by(Handoff.priority.desc(), Handoff.id)))
    assert order == ["angry", "early", "second"]


def test_events_are_published_after_the_turn_commits(engine, database, bus):
    seen = []

    def check(event):  # runs at publish time: the ticket must already be visible to others
        with database.read() as db:
            seen.append((event.type, db.scalar(select(func.count()).select_from(Handoff))))

    bus.subscribe({"agents", customer_key("web", "c1")}, check)
    engine.handle("web", "c1", "转人工")
    assert ("mode", 1) in seen and ("queue", 1) in seen and ("position", 1) in seen


def test_only_customers_whose_place_changed_are_told_their_new_place(engine, bus):
    """Joining at the end moves nobody else; a complaint moves everyone behind it; a
    customer who leaves moves those behind them up one."""
    places = []
    bus.subscribe({customer_key("web", u) for u in ("p1", "p2", "p3", "p4")},
                  lambda e: places.append((e.session_id, e.data["position"])) if e.type == "position" else None)
    sessions = {u: engine.handle("web", u, "转人工").session_id for u in ("p1", "p2", "p3")}
    assert places == [(sessions["p1"], 1), (sessions["p2"], 2), (sessions["p3"], 3)]
    places.clear()
    sessions["p4"] = engine.handle("web", "p4", "我要投诉").session_id  # served first
    assert places == [(sessions["p4"], 1), (sessions["p1"], 2), (sessions["p2"], 3), (sessions["p3"], 4)]
    places.clear()
    engine.handle("web", "p1", "取消")
    assert places == [(sessions["p2"], 2), (sessions["p3"], 3)]


def test_while_queued_the_bot_stays_out_and_the_customer_can_cancel(engine, policy, database):
    first = engine.handle("web", "c2", "转人工")
    calls = policy.calls
    waiting = engine.handle("web", "c2", "我的卡丢了怎么办")
    assert policy.calls == calls and waiting.state.mode == "queued"
    assert "客服接入后会第一时间查看" in waiting.text
    cancelled = engine.handle("web", "c2", "取消")
    assert cancelled.state.mode == "bot" and "取消排队" in cancelled.text
    assert _ticket(database, first.session_id).status == "cancelled"
    assert "机器人：你好" in engine.handle("web", "c2", "你好").text


def test_with_an_agent_messages_go_to_the_agent_and_cancel_is_just_a_message(engine, desk, staff, record, policy):
    reply = engine.handle("web", "c3", "转人工")
    agent = staff("agent1")
    desk.accept(agent, reply.session_id)
    to_agent = record({agent_key(agent.id)})
    calls = policy.calls
    forwarded = engine.handle("web", "c3", "取消")
    assert forwarded.replies == () and forwarded.state.mode == "agent"
    assert policy.calls == calls
    assert [(e.type, e.data["text"], e.data["sender"]) for e in to_agent.events] == [("message", "取消", "user")]


def test_a_repeated_message_id_is_forwarded_once(engine, desk, staff, record):
    reply = engine.handle("web", "c4", "转人工")
    agent = staff("agent1")
    desk.accept(agent, reply.session_id)
    to_agent = record({agent_key(agent.id)})
    engine.handle("web", "c4", "在吗", message_id="m-1")
    again = engine.handle("web", "c4", "在吗", message_id="m-1")
    assert again.replayed and len(to_agent.events) == 1


def test_a_stalled_flow_survives_the_agent_and_resumes_after_release(engine, desk, staff, database):
    reply = engine.handle("web", "c5", "开始转账")
    assert reply.state.mode == "queued" and reply.state.active_flow == "transfer.create"
    agent = staff("agent1")
    desk.accept(agent, reply.session_id)
    engine.handle("web", "c5", "验证码一直收不到")
    desk.release(agent, reply.session_id)
    state = _session(database, reply.session_id).state
    assert _session(database, reply.session_id).mode == "bot"
    assert state["active_flow"] == "transfer.create" and state["step"] == "otp"
    assert state["slots"]["payee"]["name"] == "李娜" and state["slots"]["amount"] == "2500.00"


def test_after_close_the_first_answer_may_be_a_rating(engine, desk, staff, database):
    reply = engine.handle("web", "c6", "转人工")
    agent = staff("agent1")
    desk.accept(agent, reply.session_id)
    desk.close(agent, reply.session_id)
    rated = engine.handle("web", "c6", "五分")
    assert "感谢您的评价（5 分）" in rated.text and rated.state.mode == "bot"
    ticket = _ticket(database, reply.session_id)
    assert (ticket.status, ticket.rating, ticket.rating_pending) == ("closed", 5, False)
    assert "机器人：4" in engine.handle("web", "c6", "4").text  # asked once only


def test_a_message_that_is_not_a_rating_ends_the_question(engine, desk, staff, database):
    reply = engine.handle("web", "c7", "转人工")
    agent = staff("agent1")
    desk.accept(agent, reply.session_id)
    desk.close(agent, reply.session_id)
    assert "机器人：查余额" in engine.handle("web", "c7", "查余额").text
    assert "机器人：5" in engine.handle("web", "c7", "5").text
    assert _ticket(database, reply.session_id).rating is None


def test_a_stale_mode_without_a_ticket_does_not_trap_the_customer(engine, database):
    reply = engine.handle("web", "c8", "你好")
    with database.write() as db:
        db.get(ChatSession, reply.session_id).mode = "agent"
    assert "机器人：还在吗" in engine.handle("web", "c8", "还在吗").text


def test_the_turn_log_records_what_the_bot_understood_in_every_mode(engine, database):
    engine.handle("web", "c9", "转人工")
    engine.handle("web", "c9", "我想查余额")
    with database.read() as db:
        outcomes = list(db.scalars(select(TurnLog.outcome).where(TurnLog.user_id == "c9").order_by(TurnLog.id)))
        senders = list(db.scalars(select(ChatMessage.sender).where(ChatMessage.user_id == "c9")))
    assert outcomes == ["handoff", "queued"]
    assert senders == ["user", "bot", "user", "bot"]


def test_a_lost_card_while_waiting_is_told_how_to_freeze_it_now(engine):
    """A trial customer in the queue wrote "卡被偷了，快帮我冻结" and only heard the wait."""
    engine.handle("web", "waiting", "转人工")
    reply = engine.handle("web", "waiting", "卡被偷了，快帮我冻结")
    assert "取消" in reply.text and "挂失" in reply.text and "955888" in reply.text
    assert reply.state.mode == "queued"
    assert engine.handle("web", "waiting", "取消").state.mode == "bot"  # then the bot can freeze it
    assert "955888" not in engine.handle("web", "other", "转人工").text  # only for a lost card
