"""Personal data at rest: customers' ID numbers and phones are encrypted (AES-GCM) and found by a
keyed hash; after seeding and a binding conversation no plaintext ID number or phone of a demo
customer is anywhere in the database files (SQLite's bytes, a PostgreSQL dump); migration 0013
converts rows written in the clear."""
from __future__ import annotations

import hashlib
import re
import subprocess
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.engine import make_url

from chatbot.security.data_keys import DataKey, DataKeyMissing, DataKeys, PersonalDataBroken
from chatbot.storage import audit, backup_pg, customers, migrate
from chatbot.storage.db import Database
from chatbot.storage.models import Customer, OneTimeCode, SmsMessage, UTCDateTime
from tests.conftest import _pg_execute, _pg_url, postgres_admin_url

DEMO = {"张伟": ("110105199003071239", "13800138000"), "王芳": ("310115198806152046", "13900139000"),
        "李娜": ("440305199511203311", "13700137000")}
KEYS = DataKeys(DataKey.from_secret("test-data-key-0123456789-abcdefghij"))
OTHER = DataKeys(DataKey.from_secret("another-data-key-9876543210-zyxwvut"))


def test_values_round_trip_and_name_their_key():
    sealed = KEYS.encrypt(customers.ID_NUMBER, "11010519900307123x")
    assert sealed.startswith(f"d1.{KEYS.current.key_id}.") and "110105" not in sealed
    assert KEYS.decrypt(customers.ID_NUMBER, sealed) == "11010519900307123X"  # stored normalized
    assert KEYS.encrypt(customers.PHONE, "13800138000") != KEYS.encrypt(customers.PHONE, "13800138000")  # nonce


def test_a_value_opens_only_as_its_own_field_unaltered_and_under_a_known_key():
    sealed = KEYS.encrypt(customers.ID_NUMBER, DEMO["张伟"][0])
    with pytest.raises(PersonalDataBroken):
        KEYS.decrypt(customers.PHONE, sealed)  # an ID number's ciphertext is no phone
    with pytest.raises(PersonalDataBroken):
        KEYS.decrypt(customers.ID_NUMBER, sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1])
    with pytest.raises(PersonalDataBroken):
        KEYS.decrypt(customers.ID_NUMBER, DEMO["张伟"][0])  # plaintext is not an encrypted value
    with pytest.raises(DataKeyMissing, match=KEYS.current.key_id):
        OTHER.decrypt(customers.ID_NUMBER, sealed)
    rotating = DataKeys(OTHER.current, KEYS.current)
    assert rotating.decrypt(customers.ID_NUMBER, sealed) == DEMO["张伟"][0]
    assert not rotating.is_current(sealed) and KEYS.is_current(sealed)


def test_the_keyed_hash_needs_the_key():
    id_number = DEMO["张伟"][0]
    assert KEYS.index(customers.ID_NUMBER, id_number) == KEYS.index(customers.ID_NUMBER, f" {id_number} ")
    assert KEYS.index(customers.ID_NUMBER, id_number) != OTHER.index(customers.ID_NUMBER, id_number)
    assert KEYS.index(customers.ID_NUMBER, id_number) != hashlib.sha256(id_number.encode()).hexdigest()
    assert DataKeys(OTHER.current, KEYS.current).lookup_indexes(customers.ID_NUMBER, id_number) == [
        OTHER.index(customers.ID_NUMBER, id_number), KEYS.index(customers.ID_NUMBER, id_number)]


# --- no plaintext in the database files -----------------------------------------------------------

def _needles() -> dict[str, bytes]:
    return {f"{name} {what}": value.encode() for name, numbers in DEMO.items()
            for what, value in zip(("ID number", "phone"), numbers)}


def _database_bytes(url: str) -> bytes:
    """Everything the database holds: SQLite's files (after a checkpoint, the WAL too), or a
    PostgreSQL plain-text dump of schema and rows."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = Database(url)
        with database.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        database.dispose()
        return b"".join(Path(parsed.database + suffix).read_bytes()
                        for suffix in ("", "-wal", "-journal") if Path(parsed.database + suffix).exists())
    dump = subprocess.run([backup_pg.binary("pg_dump"), "--no-password", "--format=plain"],
                          env=backup_pg.environment(parsed), capture_output=True, check=True, timeout=120)
    return dump.stdout


def _code(client, phone: str) -> str:
    (latest, *_) = client.get("/v1/sandbox/sms", params={"phone": phone}).json()["messages"]
    return re.search(r"验证码 (\d{6})", latest["text"]).group(1)


def _bind_and_talk(client) -> None:
    """A binding conversation, the numbers typed again in the clear, a handoff an agent views."""
    id_number, phone = DEMO["张伟"]
    for said in ("查一下余额", "张伟", id_number):
        assert client.post("/v1/chat", json={"user_id": "at-rest-1", "text": said}).status_code == 200
    bound = client.post("/v1/chat", json={"user_id": "at-rest-1", "text": _code(client, phone)}).json()
    assert "绑定成功" in bound["replies"][0]["text"]
    for said in (f"我的手机号是{phone}，身份证 {id_number}", "王芳 310115 19880615 2046 电话 139-0013-9000", "转人工"):
        answer = client.post("/v1/chat", json={"user_id": "at-rest-1", "text": said})
        assert answer.status_code == 200, answer.text
    token = client.post("/v1/auth/login", json={"username": "agent1", "password": "agent1-sandbox"}).json()["token"]
    agent = {"Authorization": f"Bearer {token}"}
    session_id = bound["session_id"]
    assert client.post(f"/v1/agent/sessions/{session_id}/accept", headers=agent).status_code == 200
    view = client.get(f"/v1/agent/sessions/{session_id}", headers=agent).json()
    assert id_number not in str(view) and phone not in str(view)


def test_no_plaintext_id_number_or_phone_in_the_database_files(backend, client, services, database_url):
    _bind_and_talk(client)
    with services.database.read() as db:
        assert audit.verify(db).count >= 3  # logins and the agent's view are in the audit log
        zhang = customers.by_id_number(db, DEMO["张伟"][0])
        assert customers.phone(db, zhang) == DEMO["张伟"][1]
    stored = _database_bytes(database_url)
    assert b"customers" in stored and len(stored) > 10_000  # the files were read, not nothing
    found = [what for what, needle in _needles().items() if needle in stored]
    assert found == [], f"plaintext in the database: {found}"


# --- migration 0013 -----------------------------------------------------------------------------

@pytest.fixture
def database_at_0012(backend, tmp_path):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'before.db'}"
    else:
        admin = postgres_admin_url()
        if not admin:
            pytest.skip("PostgreSQL is not running: run the tests through `make test`")
        name = f"m0013_{uuid.uuid4().hex[:12]}"
        _pg_execute(admin, f"DROP DATABASE IF EXISTS {name}")
        _pg_execute(admin, f"CREATE DATABASE {name}")
        url = _pg_url(admin, name)
    database = Database(url, data_keys=KEYS)
    migrate.upgrade(database, "0012")
    yield database
    database.dispose()


def _old_table(name: str, *columns: str):
    types = {"created_at": UTCDateTime, "sent_at": UTCDateTime, "expires_at": UTCDateTime, "detail": sa.JSON,
             "attempts": sa.Integer}
    return sa.table(name, *(sa.column(c, types.get(c, sa.String)) for c in columns))


def test_the_migration_encrypts_rows_written_in_the_clear(database_at_0012):
    database = database_at_0012
    at = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
    with database.engine.begin() as conn:
        conn.execute(_old_table("customers", "name", "id_number", "phone", "created_at").insert(), [
            {"name": name, "id_number": i, "phone": p, "created_at": at} for name, (i, p) in DEMO.items()])
        conn.execute(_old_table("sms_messages", "phone", "text", "sent_at").insert(),
                     {"phone": "13800138000", "text": "v1.x", "sent_at": at})
        conn.execute(_old_table("one_time_codes", "subject", "purpose", "code_hash", "phone", "attempts",
                                "expires_at", "created_at").insert(),
                     {"subject": "customer:1", "purpose": "bind", "code_hash": "h", "phone": "13800138000",
                      "attempts": 2, "expires_at": at, "created_at": at})
        conn.execute(_old_table("audit_log", "actor", "action", "target", "detail", "created_at").insert(), [
            {"actor": "agent1", "action": action, "target": None, "detail": {"ip": "10.0.0.1"}, "created_at": at}
            for action in ("auth.login", "fraud_stop")])
    migrate.upgrade(database)
    with database.read() as db:
        rows = {row.name: customers.personal(db, row) for row in db.scalars(select(Customer))}
        assert {name: (p.id_number, p.phone) for name, p in rows.items()} == DEMO
        assert customers.by_id_number(db, DEMO["李娜"][0]).name == "李娜"
        assert db.scalars(select(SmsMessage)).all() == []  # the sandbox inbox starts afresh
        code = db.scalars(select(OneTimeCode)).one()
        assert (code.phone_hash, code.attempts) == ("", 2)  # the code and its tries are kept
        report = audit.verify(db)
        assert report.ok and report.count == 2
    stored = _database_bytes(database.url.render_as_string(hide_password=False))
    assert [what for what, needle in _needles().items() if needle in stored] == []
