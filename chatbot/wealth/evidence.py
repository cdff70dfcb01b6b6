"""The evidence chain: what customers were shown and answered, append-only and hash-chained.

Each record's `hash` is SHA-256 over its `prev_hash` and the canonical JSON (sorted keys, no
spaces, UTF-8) of its customer id, kind, payload and creation time (UTC, microseconds); the
first record follows 64 zeros. Appending and verifying are the shared chain's
(`chatbot/storage/chain.py`, also the audit log's): `prev_hash` is unique, so two appends
racing for the same predecessor cannot both commit and the loser retries on the new end of the
chain inside a SAVEPOINT. Changing any row's content breaks its own hash; removing a row
breaks the link of the one after it. `verify` walks the chain in insertion order and names the
first record that does not hold.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from chatbot.storage import chain
from chatbot.storage.chain import GENESIS, VerifyReport  # noqa: F401 (part of this module's interface)
from chatbot.storage.models import EvidenceRecord


def text_hash(text: str) -> str:
    """SHA-256 (hex) of a text as shown to the customer (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def body(customer_id: int, kind: str, payload: dict, created_at: datetime) -> dict:
    """What a record's hash covers besides its predecessor's hash."""
    return {"customer_id": customer_id, "kind": kind, "payload": payload,
            "created_at": created_at.astimezone(timezone.utc).isoformat(timespec="microseconds")}


def _body_of(record: EvidenceRecord) -> dict:
    return body(record.customer_id, record.kind, record.payload, record.created_at)


def append(db: Session, customer_id: int, kind: str, payload: dict, now: datetime) -> EvidenceRecord:
    """Add a record at the end of the chain, inside the caller's transaction."""
    payload = chain.as_stored(payload)
    return chain.append(db, EvidenceRecord, lambda prev: EvidenceRecord(
        customer_id=customer_id, kind=kind, payload=payload, prev_hash=prev,
        hash=chain.link_hash(prev, body(customer_id, kind, payload, now)), created_at=now))


def verify(db: Session, batch: int = 500) -> VerifyReport:
    """Walk the whole chain; the first record whose link or content does not hold is named."""
    return chain.verify(db, EvidenceRecord, _body_of, batch)
