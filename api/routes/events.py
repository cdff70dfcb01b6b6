"""Live updates as server-sent events, for the agent console and the customer's chat page.

    GET /v1/agent/events                      (Bearer token; the console reads it with fetch)
    GET /v1/chat/events                       (the chat page, with its user token as Bearer)
    GET /v1/chat/status                       (queue place / agent / rating after a reload)

An open console stream marks its agent online (`agent_presence`, refreshed every heartbeat),
which the customers' wait estimates count.

The customer routes take the web user from `Authorization: Bearer <user_token>` (a
`user_id` query parameter is optional and must match): never a credential in a URL that
access logs keep. The page reads the stream with fetch, since EventSource sends no header.

Each stream starts with a `ready` event, then sends `queue`, `message`, `mode`, `position`
and `rating` events as JSON, and a comment every 15 s so that proxies keep it open and a
vanished client is noticed. A client disconnect cancels the generator (Starlette listens
for `http.disconnect`), which drops the subscription. Streams end after 30 minutes and
the client reconnects, so a console re-checks its token. Events announce; the database
is the record: after (re)connecting, clients reload the queue or the history.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from functools import partial

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import AgentDep, ServicesDep, WebUserDep
from chatbot.handoff.events import AGENTS, Event, EventBus, agent_key, customer_key
from chatbot.handoff.status import customer_status

router = APIRouter(tags=["events"])

HEARTBEAT_S = 15.0
MAX_STREAM_S = 30 * 60
BUFFER = 200  # a client this far behind is cut off; it reconnects and reloads
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class _Inbox:
    """Receives events on any thread and hands them to the stream's event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(BUFFER + 1)

    def deliver(self, event: Event) -> None:
        self.loop.call_soon_threadsafe(self._offer, event)

    def _offer(self, event: Event) -> None:
        if self.queue.full():  # already cut off
            return
        self.queue.put_nowait(event if self.queue.qsize() < BUFFER else None)  # None ends the stream


async def stream(bus: EventBus, keys: set[str], hello: dict,
                 alive: Callable[[], None] | None = None) -> AsyncIterator[str]:
    """Subscribe, say hello, relay matching events; unsubscribe however the stream ends.

    `alive` (an agent's console: presence) runs on connect and then about every heartbeat
    while the stream is open, in a worker thread.
    """
    inbox = _Inbox()
    subscription = bus.subscribe(keys, inbox.deliver)
    deadline = inbox.loop.time() + MAX_STREAM_S
    next_alive = inbox.loop.time()
    try:
        yield "retry: 2000\n\n" + sse("ready", hello)
        while inbox.loop.time() < deadline:
            if alive is not None and inbox.loop.time() >= next_alive:
                next_alive = inbox.loop.time() + HEARTBEAT_S
                await run_in_threadpool(alive)
            try:
                event = await asyncio.wait_for(inbox.queue.get(), HEARTBEAT_S)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if event is None:
                break
            yield sse(event.type, event.public())
    finally:
        subscription.close()


@router.get("/v1/agent/events")
async def agent_events(agent: AgentDep, services: ServicesDep) -> StreamingResponse:
    """The queue for every agent, plus messages of the sessions this agent owns."""
    keys = {AGENTS, agent_key(agent.id)}
    hello = {"me": agent.to_dict(), "transport": services.handoff.events.kind}
    # While this stream is open the agent counts as online (wait estimates, every worker).
    alive = partial(services.handoff.presence.stream_alive, agent.id)
    return StreamingResponse(stream(services.handoff.events, keys, hello, alive),
                             media_type="text/event-stream", headers=SSE_HEADERS)


@router.get("/v1/chat/events")
async def customer_events(user_id: WebUserDep, services: ServicesDep) -> StreamingResponse:
    """Agent replies, queue place and mode changes of the token's web user."""
    keys = {customer_key("web", user_id)}
    return StreamingResponse(stream(services.handoff.events, keys, {}),
                             media_type="text/event-stream", headers=SSE_HEADERS)


@router.get("/v1/chat/status")
async def chat_status(user_id: WebUserDep, services: ServicesDep) -> dict:
    """Mode of the open session, queue place and wait, the serving agent, a pending rating."""

    def load() -> dict:
        with services.database.read() as db:
            return customer_status(db, "web", user_id, services.clock.now())

    return await run_in_threadpool(load)
