"""`chatbot keys rotate`: customers' ID numbers and phones re-encrypted under the current data key.

The operator first restarts every `chatbot serve` with the new key as `CHATBOT_DATA_KEY` and the
old one as `CHATBOT_DATA_KEY_OLD` (each worker then reads both and writes under the new one),
then runs the rotation; once it reports nothing left, `CHATBOT_DATA_KEY_OLD` goes
(docs/security.md, "Rotating the data key").

Rows whose values name another key are taken in batches, in id order, one transaction per batch:
each value is opened with the key it names and encrypted under the current one, and the keyed
hash is computed again (the hash key is derived from the data key, so it changes too). A run
stopped half-way leaves every row whole under one key or the other, each readable while the old
key is configured; running again carries on with the rows still left. Before the first batch it
refuses while a live worker does not know the current key (its heartbeat row names the keys it
reads), since such a worker could not read what the rotation writes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, not_, select, text

from chatbot.errors import Conflict
from chatbot.security.data_keys import PREFIX, DataKeyMissing, DataKeys
from chatbot.storage import customers, serving_workers
from chatbot.storage.db import Database
from chatbot.storage.models import Customer

DEFAULT_BATCH = 500


@dataclass
class RotationReport:
    rotated: int = 0
    batches: int = 0
    remaining: int = 0


def _under_current(keys: DataKeys):
    current = f"{PREFIX}{keys.current.key_id}.%"
    return and_(Customer.id_number_encrypted.like(current), Customer.phone_encrypted.like(current))


def pending(database: Database) -> int:
    """Customers with a value under another key than the current one."""
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(Customer)
                         .where(not_(_under_current(database.data_keys)))) or 0


def refuse_if_a_worker_lacks_the_key(database: Database, now: datetime, heartbeat_seconds: float) -> None:
    """Conflict naming a live serving worker that cannot read values under the current key."""
    current = database.data_keys.current.key_id
    recent = now - timedelta(seconds=3 * heartbeat_seconds)
    with database.read() as db:
        behind = [w for w in serving_workers.all_workers(db)
                  if w.seen_at >= recent and current not in (w.data_keys or "").split(",")]
    if behind:
        raise Conflict(f"工作进程 {behind[0].worker_id} 还不认识新的数据密钥 {current}：先用新的 CHATBOT_DATA_KEY"
                       f"（旧密钥作 CHATBOT_DATA_KEY_OLD）重启每个 chatbot serve，再运行 chatbot keys rotate",
                       "worker_lacks_data_key")


def rotate(database: Database, *, batch: int = DEFAULT_BATCH,
           on_batch: Callable[[RotationReport], None] | None = None) -> RotationReport:
    """Re-encrypt every customer row not yet under the current key, `batch` rows per transaction."""
    keys, report = database.data_keys, RotationReport()
    while True:
        with database.write() as db:
            if database.is_sqlite:
                db.execute(text("PRAGMA secure_delete=ON"))  # the old ciphertexts' bytes are overwritten
            rows = db.scalars(select(Customer).where(not_(_under_current(keys))).order_by(Customer.id)
                              .limit(batch).with_for_update()).all()
            for row in rows:
                personal = _opened(db, row)
                row.id_number_encrypted = keys.encrypt(customers.ID_NUMBER, personal.id_number)
                row.id_number_hash = keys.index(customers.ID_NUMBER, personal.id_number)
                row.phone_encrypted = keys.encrypt(customers.PHONE, personal.phone)
        if not rows:
            break
        report.rotated += len(rows)
        report.batches += 1
        if on_batch is not None:
            on_batch(report)
    if database.is_sqlite:
        with database.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # no old page left in the WAL file
    report.remaining = pending(database)
    return report


def _opened(db, row: Customer) -> customers.PersonalData:
    try:
        return customers.personal(db, row)
    except DataKeyMissing as missing:
        raise DataKeyMissing(f"客户 #{row.id}：{missing.message}") from None
