"""Per-turn view a flow works with: what was understood, the state, the bank, the replies."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy.orm import Session

from chatbot.dialogue.turn import HandoffRequest
from chatbot.nlu.resources import resolve_data_dir
from chatbot.dialogue.state import DialogueState
from chatbot.nlu.parser import ParseResult
from chatbot.security.otp import OtpService
from chatbot.security.rate_limit import RateLimiter
from knowledge.kg.load import KnowledgeGraph
from chatbot.tools.banking import CoreBanking


@lru_cache(maxsize=1)
def _shipped_graph() -> KnowledgeGraph:
    return KnowledgeGraph.load(resolve_data_dir(None) / "kg.yaml")


def product_graph(graph: KnowledgeGraph | None) -> KnowledgeGraph:
    """The knowledge desk's product graph, or the shipped one for a policy running without a
    knowledge base (some tests)."""
    return graph if graph is not None else _shipped_graph()


@dataclass
class FlowContext:
    db: Session
    parse: ParseResult
    state: DialogueState
    bank: CoreBanking
    otp: OtpService
    customer_id: int | None
    now: datetime
    today: date
    channel: str
    user_id: str
    session_id: int | None
    secret_key: str
    limiter: RateLimiter
    address: str | None = None
    graph: KnowledgeGraph | None = None  # the product graph of the knowledge desk (rates, limits)
    public_base_url: str = ""  # where download links point (CHATBOT_PUBLIC_BASE_URL)
    replies: list[str] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    handoff: HandoffRequest | None = None
    outcome: str = "in_flow"

    @property
    def intent(self) -> str:
        return self.parse.intent.name

    @property
    def text(self) -> str:
        return self.parse.normalized

    def say(self, text: str) -> None:
        self.replies.append(text)

    def step(self, action: str, **detail) -> None:
        """Record a decision in the turn log so every turn can be explained."""
        self.steps.append({"action": action, **detail})

    def entity(self, name: str):
        """The first value of an entity in this message, or None."""
        values = self.parse.entity_values(name)
        return values[0] if values else None

    @property
    def subject(self) -> str:
        """Who a one-time code belongs to: the customer, else the channel user."""
        if self.customer_id is not None:
            return f"customer:{self.customer_id}"
        return f"{self.channel}:{self.user_id}"
