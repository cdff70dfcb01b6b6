"""The dialogue state kept per chat session (stored as JSON on the session row).

Values in `slots` are JSON-safe (amounts as strings, dates as ISO strings); flows convert
them back. The agent console reads `active_flow`, `slots`, `missing_slots` and
`failed_step` to see where a stalled flow stands.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class DialogueState:
    last_intent: str | None = None
    active_flow: str | None = None
    flow_id: str | None = None  # one id per flow run; transfers use it as idempotency key
    step: str | None = None  # collect | confirm | otp | cooling_off
    asking: str | None = None  # the slot the last question asked for
    slots: dict = field(default_factory=dict)
    retries: int = 0  # invalid answers to the current question
    pending_switch: str | None = None  # intent waiting for "abandon the current flow?"
    resume_intent: str | None = None  # what to start once binding has finished
    resume_request: str | None = None  # the message that asked for it (sealed parse, offers.py)
    offer: dict = field(default_factory=dict)  # the yes/no offer the last reply made (offers.py)
    context: dict = field(default_factory=dict)  # last finished flow, for "那上个月的呢？"
    not_understood: int = 0  # consecutive turns the bot did not understand
    failures: dict = field(default_factory=dict)  # flow name -> failed runs this session
    missing_slots: list = field(default_factory=list)
    failed_step: str | None = None
    offered_faq: list = field(default_factory=list)  # FAQ ids offered in a clarification
    risk: list = field(default_factory=list)  # scam scripts seen in this conversation
    later: dict = field(default_factory=dict)  # a second request of one message, offered after the first
    topic_product: str | None = None  # the product the conversation is last about (knowledge/faq/products.py)

    @classmethod
    def from_json(cls, data: dict | None) -> "DialogueState":
        # A deep copy: the session row keeps the loaded JSON to compare against on flush; a
        # state sharing its dicts would change both, and a changed slot would never be saved.
        return cls(**{k: _copied(v) for k, v in (data or {}).items() if k in _FIELD_NAMES})

    def to_json(self) -> dict:
        """A copy of the state as JSON-like data (shares nothing with this object)."""
        return {name: _copied(getattr(self, name)) for name in _FIELD_NAMES}

    def start_flow(self, name: str, flow_id: str) -> None:
        self.active_flow, self.flow_id, self.step = name, flow_id, "collect"
        self.asking, self.slots, self.retries = None, {}, 0
        self.missing_slots, self.failed_step, self.pending_switch = [], None, None

    def end_flow(self, keep_context: bool = True) -> None:
        if keep_context and self.active_flow:
            self.context = {"flow": self.active_flow, "slots": dict(self.slots)}
        self.active_flow = self.flow_id = self.step = self.asking = None
        self.slots, self.retries, self.missing_slots, self.pending_switch = {}, 0, [], None


_FIELD_NAMES = tuple(f.name for f in fields(DialogueState))


def _copied(value):
    """A deep copy of JSON-like data (what the state holds): copy.deepcopy's result at a
    fraction of its cost (it was a tenth of a memoized turn's CPU)."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_copied(item) for item in value)
    return value
