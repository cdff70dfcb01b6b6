"""Serving processes and the intent model version each answers with (`serving_workers`).

Each worker writes its own row (`beat`) every few seconds and when it swaps models, and
removes it when it stops (`forget`); a row of a worker that died stays until `prune`.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chatbot.storage.models import ServingWorker


def beat(db: Session, worker_id: str, host: str, pid: int, model_version: str | None,
         started_at: datetime, now: datetime, data_keys: str | None = None) -> None:
    """Insert or update this worker's row (a worker id is only ever written by its process).
    `data_keys`: the ids of the data keys it reads, comma-separated (`chatbot keys rotate`)."""
    row = db.get(ServingWorker, worker_id)
    if row is None:
        db.add(ServingWorker(worker_id=worker_id, host=host[:128], pid=pid, model_version=model_version,
                             data_keys=data_keys, started_at=started_at, seen_at=now))
        return
    row.model_version, row.data_keys, row.seen_at = model_version, data_keys, now


def forget(db: Session, worker_id: str) -> None:
    db.execute(delete(ServingWorker).where(ServingWorker.worker_id == worker_id))


def prune(db: Session, seen_before: datetime) -> int:
    """Remove the rows of workers not seen since `seen_before`; how many went."""
    return db.execute(delete(ServingWorker).where(ServingWorker.seen_at < seen_before)).rowcount or 0


def all_workers(db: Session) -> list[ServingWorker]:
    return list(db.scalars(select(ServingWorker).order_by(ServingWorker.host, ServingWorker.pid,
                                                          ServingWorker.started_at)))
