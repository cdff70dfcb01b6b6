"""Builds the handoff parts from settings: one event bus per process, shared by all of them."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from chatbot.channels.outbound import OutboundRegistry
from chatbot.clock import Clock
from chatbot.dialogue.agent_edits import SlotEditor
from chatbot.handoff.admin import DeskAdmin
from chatbot.handoff.console import Console
from chatbot.handoff.desk import HandoffDesk
from chatbot.handoff.events import EventBus, LocalBus
from chatbot.handoff.metrics import HandoffMetrics
from chatbot.handoff.presence import Presence
from chatbot.handoff.rules import DeskRules, ServiceHours, register
from chatbot.nlu.parser import Parser
from chatbot.settings import Settings
from chatbot.storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class HandoffServices:
    events: EventBus
    desk: HandoffDesk
    console: Console
    admin: DeskAdmin
    metrics: HandoffMetrics
    presence: Presence  # agents online (console stream open, or acted lately), for wait estimates

    def close(self) -> None:
        self.events.close()


def make_bus(redis_url: str | None) -> EventBus:
    """Redis pub/sub when `CHATBOT_REDIS_URL` is set (events cross workers), else in-process."""
    if not redis_url:
        return LocalBus()
    from chatbot.handoff.redis_bus import RedisBus

    bus = RedisBus(redis_url)
    if not bus.wait_subscribed(timeout=3):
        log.error("Redis at CHATBOT_REDIS_URL is not answering yet; live events will reach other "
                  "workers once it does (the listener keeps retrying)")
    return bus


def build_handoff(settings: Settings, database: Database, clock: Clock, outbound: OutboundRegistry,
                  events: EventBus, parser: Parser | None = None) -> HandoffServices:
    """`parser` reads agents' slot edits as customer answers (without it they are refused)."""
    capacity = settings.agent_capacity
    # Service hours, presence windows and capacity for every session of this database,
    # including the engine's call into chatbot/handoff/intake.py.
    register(database, DeskRules(hours=ServiceHours.parse(settings.agent_hours),
                                 action_window=timedelta(minutes=settings.agent_presence_minutes),
                                 default_capacity=capacity))
    editor = SlotEditor(parser, settings.secret_key) if parser is not None else None
    return HandoffServices(
        events=events,
        desk=HandoffDesk(database, events, clock, outbound, capacity, slot_editor=editor),
        console=Console(database, clock, capacity),
        admin=DeskAdmin(database, clock, events),
        metrics=HandoffMetrics(database, clock),
        presence=Presence(database, clock, bus=events),
    )
