"""The knowledge desk: how the dialogue answers knowledge questions.

Graph first (attribute, comparison and list questions are composed from `data/kg.yaml`),
then the FAQ: answer, clarify ("您是想问：1. … 2. …", answered by number or words on the
next turn), or not found (said kindly, a person offered, the question and its top
candidates kept in the turn log with outcome `faq_not_found` for analysts).
A message the intent model could not place is offered to the desk too; there "not found"
stays silent and the policy says it did not understand (it was maybe not a question).
Entries that answer the same question for different products (信用卡 or 贷款 逾期记录) are
resolved by the product named, the conversation's, or the customer's, else asked about in one
question (`knowledge/faq/products.py`).

The FAQ can change while the service runs (admin edits): `install` swaps in a new
retriever atomically; readers always see a complete index. The index is built once per
content and saved (`knowledge/faq/index_store.py`, `docs/knowledge_index.md`): a worker
starting, or seeing another worker's edit, loads it instead of building it again.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chatbot.memo import memoize_text
from chatbot.messages import Rich, choice
from knowledge.faq import products
from knowledge.faq.clarify import (NEITHER_TEXT, format_clarification, format_not_found, resolve_choice,
                                   says_neither)
from knowledge.faq.index_store import (
    FaqSource,
    IndexStore,
    index_dir_from_environment,
    load_retriever,
    reindex,
)
from knowledge.faq.index_store import keep as keep_index
from knowledge.faq.retrieve import FaqDecision, FaqRetriever
from knowledge.faq.store import FaqEntry, FaqFileError
from knowledge.kg.answer import KgAnswer, KgAnswerer
from knowledge.kg.load import KnowledgeGraph


log = logging.getLogger(__name__)

# A how-to question that the classifier took for a request ("卡被吞了咋办") is answered
# from the FAQ only above this calibrated score.
SURE = 0.9
# `KnowledgeDesk.load`'s default: the index directory named by CHATBOT_FAQ_INDEX_DIR, if any.
FROM_ENVIRONMENT = object()


@dataclass(frozen=True)
class _Faq:
    """The FAQ index in use and its remembered decisions, swapped together."""

    retriever: FaqRetriever
    decide: Callable


class KnowledgeDesk:
    def __init__(self, retriever: FaqRetriever, graph: KgAnswerer | None = None,
                 faq_path: Path | None = None, check_every: float = 5.0,
                 index_store: IndexStore | None = None, stamp: int | None = None,
                 memo_size: int = 0) -> None:
        self._memo_size = memo_size
        self._faq = _Faq(retriever, memoize_text(retriever.decide, memo_size))
        self.graph = graph
        # The graph is fixed for the desk's life: its answer is a pure function of the text.
        self._graph_answer = memoize_text(self._ask_graph, memo_size)
        self.faq_path = Path(faq_path) if faq_path else None
        self.check_every = check_every
        # Where built indexes are kept (knowledge/faq/index_store.py); None: built in memory only.
        self.index_store = index_store
        self._swap = threading.Lock()
        if stamp is None and self.faq_path:
            stamp = self.faq_path.stat().st_mtime_ns
        self._stamp = stamp
        self._checked_at = time.monotonic()

    @classmethod
    def load(cls, faq_path: Path, kg_path: Path | None,
             index_dir: Path | None | object = FROM_ENVIRONMENT, memo_size: int = 0) -> "KnowledgeDesk":
        """Load the FAQ index (a malformed file fails here, naming entry and field).

        The index is loaded from ``index_dir`` when one was saved there for exactly these
        files, else built and saved there (``docs/knowledge_index.md``). By default the
        directory is ``CHATBOT_FAQ_INDEX_DIR``, which ``chatbot serve`` sets for its workers;
        unset (or ``index_dir=None``), the index is built in memory as it always was.
        """
        graph = KgAnswerer(KnowledgeGraph.load(kg_path)) if kg_path and Path(kg_path).exists() else None
        if index_dir is FROM_ENVIRONMENT:
            index_dir = index_dir_from_environment()
        faq_path = Path(faq_path)
        stamp = faq_path.stat().st_mtime_ns  # before reading: a later rewrite is seen by refresh
        loaded = load_retriever(faq_path, index_dir)
        log.info("FAQ index %s in %.2f s", "built" if loaded.built else "loaded", loaded.seconds)
        if not loaded.built:  # building warmed the analyzer; loading did not: the first question would wait
            loaded.retriever.analyzer.warm_up()
        store = IndexStore(index_dir) if index_dir is not None else None
        return cls(loaded.retriever, graph, faq_path, index_store=store, stamp=stamp, memo_size=memo_size)

    @property
    def retriever(self) -> FaqRetriever:
        return self._faq.retriever

    @property
    def _retriever(self) -> FaqRetriever:
        return self._faq.retriever

    def install(self, retriever: FaqRetriever, stamp: int | None = None) -> None:
        """Switch to `retriever` for every later question (readers see old or new, whole)."""
        with self._swap:
            # One attribute for both: a reader that takes it once never pairs a retriever with
            # another index's remembered decisions (two attributes were two stores).
            self._faq = _Faq(retriever, memoize_text(retriever.decide, self._memo_size))
            self._stamp = stamp if stamp is not None else self._stamp

    def refresh(self, now_please: bool = False) -> bool:
        """Re-index when another worker rewrote the FAQ file; checked every few seconds
        (`now_please`: look now, e.g. for `POST /v1/admin/reload`)."""
        now = time.monotonic()
        if self.faq_path is None or (now - self._checked_at < self.check_every and not now_please):
            return False
        self._checked_at = now
        try:
            stamp = self.faq_path.stat().st_mtime_ns
        except OSError:
            return False
        if stamp == self._stamp:
            return False
        try:
            source = FaqSource.read(self.faq_path)
            entries = source.entries()
        except FaqFileError as error:  # keep answering from the last good index
            log.error("FAQ file changed but cannot be loaded: %s", error.message)
            self._stamp = stamp
            return False
        # Another worker's edit: its saved index is loaded when there is one, else rebuilt here.
        self.install(reindex(self._retriever, source.faq_bytes, entries, self.index_store), stamp)
        return True

    def keep(self, retriever: FaqRetriever, faq_bytes: bytes) -> None:
        """Save ``retriever``'s index as that of the FAQ content ``faq_bytes`` (an admin edit
        just wrote it), for the other workers and the next start."""
        keep_index(retriever, faq_bytes, self.index_store)

    # --- the dialogue side -----------------------------------------------------------------------
    def answer(self, ctx) -> None:
        """Answer the knowledge question in `ctx` (a dialogue FlowContext)."""
        decision = self._answer_known(ctx)
        if decision is not None and decision.kind == "not_found":
            ctx.say(format_not_found())
            ctx.outcome = "faq_not_found"
            ctx.step("faq_not_found", **decision.to_dict())

    def answer_if_known(self, ctx) -> bool:
        """For a message the intent model could not place ("吞卡的事情"): answer or ask which
        question was meant when the graph or the FAQ knows the topic; True when something was
        said. Nothing is said or logged as unanswered otherwise: it was maybe not a question."""
        decision = self._answer_known(ctx)
        return decision is None or decision.kind != "not_found"

    def _answer_known(self, ctx) -> FaqDecision | None:
        """Graph first, then the FAQ: say the answer or the clarification.

        Returns the FAQ decision (``None`` when the graph answered); on "not found" nothing
        has been said yet, the caller decides what to say.
        """
        self.refresh()
        text, tokens = ctx.parse.question  # the first request of a message that held two
        graph_answer = self._graph_answer(text)
        if graph_answer is not None:
            ctx.say(graph_answer.reply)  # a comparison is a table too
            ctx.outcome = "answered"
            ctx.step("kg_answer", kind=graph_answer.kind, nodes=list(graph_answer.nodes))
            return None
        faq = self._faq  # once: this question is decided and resolved on one index
        decision = faq.decide(text, tokens)
        chosen = [hit.entry for hit in (decision.hits[:1] if decision.kind == "answer" else decision.options)]
        resolution = products.resolve(decision.kind, chosen, faq.retriever.get, products.evidence_of(ctx, text))
        if resolution is not None:
            self._say_resolution(ctx, resolution, chosen)
        elif decision.kind == "answer":
            self._say_entry(ctx, decision.entry, decision.hits[0].score)
        elif decision.kind == "clarify":
            self._clarify(ctx, [hit.entry for hit in decision.options])
        return decision

    def _ask_graph(self, text: str) -> KgAnswer | None:
        return self.graph.answer(text, normalized=True) if self.graph else None

    def _clarify(self, ctx, entries, text: str | None = None, **detail) -> None:
        ctx.state.offered_faq = [entry.id for entry in entries]
        ctx.say(text or format_clarification(entries))
        ctx.outcome = "faq_clarify"
        ctx.step("faq_clarify", options=ctx.state.offered_faq, **detail)

    def _say_resolution(self, ctx, resolution: products.Resolution, chosen) -> None:
        """Look-alikes told apart by product: the one left answered, or asked about."""
        ids = [entry.id for entry in resolution.entries]
        if resolution.kind == "answer":
            ctx.step("faq_product", faq_id=ids[0], by=resolution.by, ranked=[entry.id for entry in chosen])
            self._say_entry(ctx, resolution.entries[0], None)
        elif resolution.kind == "ask":  # the buttons say the products; a tap sends the word
            question = Rich(resolution.question(), "buttons", buttons=[choice(name) for name in resolution.names])
            self._clarify(ctx, resolution.entries, question, by_product=True)
        else:
            self._clarify(ctx, resolution.entries, by=resolution.by)

    def answer_if_sure(self, ctx, threshold: float = SURE) -> bool:
        """Answer from the FAQ only when one entry clearly matches; True when answered, or when
        that entry's look-alikes for other products were asked about (outcome `faq_clarify`)."""
        text, tokens = ctx.parse.question
        retriever = self._retriever  # once: searched and resolved on one index
        hits = retriever.search(text, 1, tokens)
        if not hits or hits[0].score < threshold:
            return False
        resolution = products.resolve("answer", [hits[0].entry], retriever.get, products.evidence_of(ctx, text))
        if resolution is not None:
            self._say_resolution(ctx, resolution, [hits[0].entry])
        else:
            self._say_entry(ctx, hits[0].entry, hits[0].score)
        return True

    def resolve_offer(self, ctx) -> bool:
        """If the customer answers an earlier clarification, answer it; True when handled."""
        offered, ctx.state.offered_faq = ctx.state.offered_faq, []
        if not offered:
            return False
        entry = resolve_choice(ctx.parse.normalized, offered, self._retriever.entries, by_product=products.picked)
        if entry is None and says_neither(ctx.parse.normalized):
            ctx.say(NEITHER_TEXT)  # "都不是": what then? (anything else is a new message)
            ctx.outcome = "answered"
            ctx.step("faq_clarify_declined", options=offered)
            return True
        if entry is None:
            return False
        self._say_entry(ctx, entry, None)
        return True

    def _say_entry(self, ctx, entry: FaqEntry, score: float | None) -> None:
        ctx.say(entry.answer)
        ctx.outcome = "answered"
        ctx.step("faq_answer", faq_id=entry.id, score=score, **({"offers": entry.offers} if entry.offers else {}))
        if product := products.entry_product(entry):
            ctx.state.topic_product = product  # what the conversation is about now
