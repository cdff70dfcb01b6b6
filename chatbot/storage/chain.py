"""Append-only hash chains: the wealth evidence (`chatbot.wealth.evidence`) and the audit log
(`chatbot.storage.audit`).

A chained table has `id`, `prev_hash` (unique) and `hash` (unique) columns. Each row's `hash`
is SHA-256 over its `prev_hash` (ASCII) and the canonical JSON (sorted keys, no spaces, UTF-8)
of its content; the first row follows 64 zeros. Changing a row's content breaks its own hash;
removing a row breaks the link of the one after it.

Concurrent writers cannot fork the chain: `prev_hash` is unique, so a row has at most one
successor. Two appends racing for the same predecessor cannot both commit: on PostgreSQL the
second insert waits on the unique index until the first transaction ends, then fails; the
loser rolls back to its SAVEPOINT and appends again on the new end. (SQLite has one writer
at a time.) Because a retry takes a new id after the winner's, ids follow the chain, and
`verify` walks it in id order.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

GENESIS = "0" * 64
MAX_TRIES = 20
Row = TypeVar("Row")


def canonical(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def link_hash(prev_hash: str, body: dict) -> str:
    """The hash of a row whose predecessor's hash is `prev_hash` and whose content is `body`."""
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(canonical(body).encode("utf-8"))
    return digest.hexdigest()


def as_stored(value):
    """A JSON value as a JSON column will read it back (tuples as lists, other types as text)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def append(db: Session, model: type[Row], make: Callable[[str], Row]) -> Row:
    """Add `make(prev_hash)` at the end of `model`'s chain, inside the caller's transaction."""
    db.flush()  # the caller's pending rows first: their errors are theirs, not a lost race
    for _ in range(MAX_TRIES):
        prev = db.scalar(select(model.hash).order_by(model.id.desc()).limit(1)) or GENESIS
        row = make(prev)
        try:
            with db.begin_nested():
                db.add(row)
                db.flush()
            return row
        except IntegrityError:
            continue  # another append took that predecessor first: follow the new end
    raise RuntimeError(f"could not append to the {model.__tablename__} chain (too much contention)")


@dataclass(frozen=True)
class VerifyReport:
    count: int
    broken_id: int | None = None
    reason: str | None = None
    head: str = GENESIS  # the hash of the last row that holds: kept outside the database, it
    # shows later that no one rewrote the chain from some row on (hashes recomputed)

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify(db: Session, model: type[Row], body_of: Callable[[Row], dict], batch: int = 500) -> VerifyReport:
    """Walk the whole chain in id order; the first row whose link or content does not hold is named."""
    prev, last_id, count = GENESIS, 0, 0
    while True:
        rows = db.scalars(select(model).where(model.id > last_id).order_by(model.id).limit(batch)).all()
        if not rows:
            return VerifyReport(count, head=prev)
        for row in rows:
            if row.prev_hash != prev:
                what = "链的开头" if prev == GENESIS else "上一条记录"
                return VerifyReport(count, row.id, f"前序哈希与{what}不符（有记录被删除、插入或改动）", prev)
            if row.hash != link_hash(row.prev_hash, body_of(row)):
                return VerifyReport(count, row.id, "内容与其哈希不符（记录被改动）", prev)
            prev, last_id, count = row.hash, row.id, count + 1
