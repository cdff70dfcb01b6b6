"""Assembles the engine and its parts from one Settings object (used by CLI and HTTP)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from chatbot.channels.outbound import OutboundRegistry
from chatbot.clock import Clock, SystemClock
from chatbot.dialogue.policy import SmallTalkPolicy
from chatbot.engine import Engine
from chatbot.errors import ServiceUnavailable
from chatbot.nlu.intents import IntentClassifier
from chatbot.nlu.model_store import PromotedModel
from chatbot.nlu.parser import Parser
from chatbot.settings import Settings
from chatbot.storage import migrate
from chatbot.storage.db import Database


@dataclass
class Services:
    settings: Settings
    database: Database
    parser: Parser
    engine: Engine
    clock: Clock
    outbound: OutboundRegistry

    def close(self) -> None:
        self.database.dispose()


def build_services(settings: Settings, *, clock: Clock | None = None,
                   classifier: IntentClassifier | None = None) -> Services:
    """Connect to the database and load the NLU stages once for the whole process.

    The intent classifier is the promoted model of `settings.model_dir` unless one is given.
    """
    clock = clock or SystemClock()
    database = Database(settings.database_url)
    ensure_schema_current(database)
    parser = Parser(classifier or PromotedModel(settings.model_dir))
    engine = Engine(
        database, parser, SmallTalkPolicy(), clock=clock,
        max_text_length=settings.max_text_length,
        session_idle=timedelta(minutes=settings.session_idle_minutes),
    )
    return Services(settings, database, parser, engine, clock, OutboundRegistry())


def ensure_schema_current(database: Database) -> None:
    """Refuse to serve on a database that is unreachable or not migrated."""
    database.check()
    current, head = migrate.current_revision(database), migrate.head_revision()
    if current != head:
        raise ServiceUnavailable(
            f"数据库结构版本为 {current or '空'}，需要 {head}：请先运行 `chatbot db upgrade`", "schema_outdated"
        )
