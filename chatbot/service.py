"""Assembles the engine and its parts from one Settings object (used by CLI and HTTP)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from chatbot.channels.outbound import OutboundRegistry
from chatbot.clock import Clock, SystemClock
import chatbot.dialogue.flows  # noqa: F401 (registers the flows)
from chatbot.dialogue.policy import DialoguePolicy
from chatbot.engine import Engine
from chatbot.handoff.wiring import HandoffServices, build_handoff, make_bus
from chatbot.nlu.intents import IntentClassifier
from chatbot.nlu.model_store import PromotedModel
from chatbot.nlu.parser import Parser
from chatbot.schema import ensure_schema_current  # also importable from here, as before
from chatbot.security.keys import derive_key
from chatbot.security.rate_limit import make_rate_limiter
from chatbot.security.staff_auth import StaffAuth
from chatbot.settings import Settings
from chatbot.storage.db import Database
from chatbot.tools.sms import SmsGateways
from chatbot.tools.sms_webhook import make_sms_gateways
from knowledge.desk import KnowledgeDesk


@dataclass
class Services:
    settings: Settings
    database: Database
    parser: Parser
    engine: Engine
    clock: Clock
    outbound: OutboundRegistry
    handoff: HandoffServices  # queue, agent desk and console, live events, metrics
    auth: StaffAuth  # staff logins and bearer tokens
    knowledge: KnowledgeDesk  # FAQ retrieval and the knowledge graph
    sms: SmsGateways | None = None  # where one-time codes go (its delivery thread stops on close)

    def close(self) -> None:
        if self.sms is not None:
            self.sms.close()
        self.handoff.close()
        self.database.dispose()


def build_services(settings: Settings, *, clock: Clock | None = None,
                   classifier: IntentClassifier | None = None,
                   knowledge: KnowledgeDesk | None = None) -> Services:
    """Connect to the database and load the NLU stages once for the whole process.

    The intent classifier is the promoted model of `settings.model_dir` unless one is given.
    """
    clock = clock or SystemClock()
    database = Database.for_settings(settings)
    ensure_schema_current(database)
    parser = Parser(classifier or PromotedModel(settings.model_dir), memo_size=settings.understanding_memo)
    events = make_bus(settings.redis_url)
    knowledge = knowledge or KnowledgeDesk.load(settings.faq_path, settings.data_dir / "kg.yaml",
                                              memo_size=settings.understanding_memo)
    limiter = make_rate_limiter(settings.secret_key, settings.redis_url)
    sms = make_sms_gateways(settings, database, clock)  # CHATBOT_SMS_GATEWAY: sandbox inbox or webhook
    policy = DialoguePolicy(settings.secret_key, settings.public_base_url, knowledge, limiter, sms)
    engine = Engine(
        database, parser, policy, clock=clock,
        max_text_length=settings.max_text_length,
        session_idle=timedelta(minutes=settings.session_idle_minutes), events=events,
        digest_key=derive_key(settings.secret_key, "turn-digest"),
        web_binding_idle=timedelta(minutes=settings.web_binding_idle_minutes),
    )
    outbound = OutboundRegistry()
    handoff = build_handoff(settings, database, clock, outbound, events, parser)
    auth = StaffAuth(database, settings.secret_key, clock, timedelta(minutes=settings.staff_token_minutes),
                     sandbox=settings.is_sandbox)  # demo logins only in the sandbox
    return Services(settings, database, parser, engine, clock, outbound, handoff, auth, knowledge, sms)
