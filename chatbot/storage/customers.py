"""Customers' personal data at rest: the one place ID numbers and phones are written and read.

Both are stored encrypted under the data key (`chatbot/security/data_keys.py`); the customer is
found by the keyed hash of the ID number (`id_number_hash`). The keys ride on the session
(`Database(data_keys=…)`, `session.info`), so whoever holds a session of the service's
database reads them the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.security.data_keys import DataKeys
from chatbot.storage.db import DATA_KEYS
from chatbot.storage.models import Customer

ID_NUMBER, PHONE = "customers.id_number", "customers.phone"


@dataclass(frozen=True, repr=False)
class PersonalData:
    id_number: str
    phone: str

    def __repr__(self) -> str:  # never in the clear in a log or a traceback
        return "PersonalData(…)"


def keys(db: Session) -> DataKeys:
    """The data keys of the database this session belongs to."""
    return db.info[DATA_KEYS]


def add(db: Session, name: str, id_number: str, phone: str, now: datetime) -> Customer:
    """A new customer, ID number and phone encrypted (flushed: it has its id)."""
    k = keys(db)
    row = Customer(name=name, id_number_encrypted=k.encrypt(ID_NUMBER, id_number),
                   id_number_hash=k.index(ID_NUMBER, id_number),
                   phone_encrypted=k.encrypt(PHONE, phone), created_at=now)
    db.add(row)
    db.flush()
    return row


def by_id_number(db: Session, id_number: str) -> Customer | None:
    """The customer with this ID number (under the current key, or the previous one during a
    rotation), or None."""
    hashes = keys(db).lookup_indexes(ID_NUMBER, id_number)
    return db.scalars(select(Customer).where(Customer.id_number_hash.in_(hashes))).first()


def personal(db: Session, row: Customer) -> PersonalData:
    """The customer's ID number and phone in the clear (for the flows that need them; mask
    before showing them anywhere)."""
    k = keys(db)
    return PersonalData(k.decrypt(ID_NUMBER, row.id_number_encrypted), k.decrypt(PHONE, row.phone_encrypted))


def id_number(db: Session, row: Customer) -> str:
    return keys(db).decrypt(ID_NUMBER, row.id_number_encrypted)


def phone(db: Session, row: Customer) -> str:
    return keys(db).decrypt(PHONE, row.phone_encrypted)
