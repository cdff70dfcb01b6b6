"""The evidence chain: what customers were shown and answered, append-only and hash-chained.

Each record's `hash` is SHA-256 over its `prev_hash` and the canonical JSON (sorted keys, no
spaces, UTF-8) of its customer id, kind, payload and creation time (UTC, microseconds); the
first record follows 64 zeros. `prev_hash` is unique, so a record has at most one successor:
two appends racing for the same predecessor cannot both commit; the loser retries on the new
end of the chain inside a SAVEPOINT. Changing any row's content breaks its own hash; removing
a row breaks the link of the one after it. `verify` walks the chain in insertion order and
names the first record that does not hold.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.storage.models import EvidenceRecord

GENESIS = "0" * 64
MAX_TRIES = 20


def text_hash(text: str) -> str:
    """SHA-256 (hex) of a text as shown to the customer (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(customer_id: int, kind: str, payload: dict, created_at: datetime) -> str:
    body = {"customer_id": customer_id, "kind": kind, "payload": payload,
            "created_at": created_at.astimezone(timezone.utc).isoformat(timespec="microseconds")}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chain_hash(prev_hash: str, customer_id: int, kind: str, payload: dict, created_at: datetime) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(canonical(customer_id, kind, payload, created_at).encode("utf-8"))
    return digest.hexdigest()


def append(db: Session, customer_id: int, kind: str, payload: dict, now: datetime) -> EvidenceRecord:
    """Add a record at the end of the chain, inside the caller's transaction."""
    payload = json.loads(json.dumps(payload, ensure_ascii=False, default=str))  # as it will be read back
    for _ in range(MAX_TRIES):
        prev = db.scalar(select(EvidenceRecord.hash).order_by(EvidenceRecord.id.desc()).limit(1)) or GENESIS
        record = EvidenceRecord(customer_id=customer_id, kind=kind, payload=payload, prev_hash=prev,
                                hash=chain_hash(prev, customer_id, kind, payload, now), created_at=now)
        try:
            with db.begin_nested():
                db.add(record)
                db.flush()
            return record
        except IntegrityError:
            continue  # another append took that predecessor first: follow the new end
    raise RuntimeError("could not append to the evidence chain (too much contention)")


@dataclass(frozen=True)
class VerifyReport:
    count: int
    broken_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify(db: Session, batch: int = 500) -> VerifyReport:
    """Walk the whole chain; the first record whose link or content does not hold is named."""
    prev, last_id, count = GENESIS, 0, 0
    while True:
        rows = db.scalars(select(EvidenceRecord).where(EvidenceRecord.id > last_id)
                          .order_by(EvidenceRecord.id).limit(batch)).all()
        if not rows:
            return VerifyReport(count)
        for record in rows:
            if record.prev_hash != prev:
                what = "链的开头" if prev == GENESIS else "上一条记录"
                return VerifyReport(count, record.id, f"前序哈希与{what}不符（有记录被删除、插入或改动）")
            expected = chain_hash(record.prev_hash, record.customer_id, record.kind, record.payload,
                                  record.created_at)
            if record.hash != expected:
                return VerifyReport(count, record.id, "内容与其哈希不符（记录被改动）")
            prev, last_id, count = record.hash, record.id, count + 1
