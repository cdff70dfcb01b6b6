"""The evidence chain: a real chain verifies; a changed or removed row is named (also by the CLI)."""
import os
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import text

from chatbot.clock import BANK_TZ  # noqa: F401
from chatbot.storage.models import EvidenceRecord
from chatbot.wealth import evidence
from tests.conftest import FIXED_NOW


def _chain(database, n=5):
    ids = []
    with database.write() as db:
        for i in range(n):
            record = evidence.append(db, 1, "wealth_purchase",
                                     {"product": "wm_anxin30", "amount": f"{1000 + i}.00", "shown": "理财非存款"},
                                     FIXED_NOW + timedelta(seconds=i))
            ids.append(record.id)
    return ids


def test_a_real_chain_verifies(database):
    ids = _chain(database)
    with database.read() as db:
        report = evidence.verify(db)
        records = db.query(EvidenceRecord).order_by(EvidenceRecord.id).all()
    assert report.ok and report.count == len(ids)
    assert records[0].prev_hash == evidence.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(records, records[1:]))


def test_a_changed_payload_is_named(database):
    ids = _chain(database)
    with database.write() as db:
        db.execute(text("UPDATE evidence_records SET payload = :p WHERE id = :id"),
                   {"p": '{"product": "wm_anxin30", "amount": "9999.00", "shown": "理财非存款"}', "id": ids[2]})
    with database.read() as db:
        report = evidence.verify(db)
    assert not report.ok and report.broken_id == ids[2] and report.count == 2
    assert "改动" in report.reason


def test_a_deleted_middle_row_names_the_next(database):
    ids = _chain(database)
    with database.write() as db:
        db.execute(text("DELETE FROM evidence_records WHERE id = :id"), {"id": ids[1]})
    with database.read() as db:
        report = evidence.verify(db)
    assert not report.ok and report.broken_id == ids[2]


def _cli(url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update({"CHATBOT_DATABASE_URL": url, "CHATBOT_ENV": "sandbox"})
    return subprocess.run([sys.executable, "-m", "chatbot.cli", "evidence", "verify"], capture_output=True,
                          text=True, env=env, timeout=120)


def test_the_cli_says_ok_or_names_the_broken_record(database, database_url):
    ids = _chain(database, 3)
    ok = _cli(database_url)
    assert ok.returncode == 0 and "共 3 条" in ok.stdout, ok.stdout + ok.stderr
    with database.write() as db:
        db.execute(text("UPDATE evidence_records SET kind = 'risk_assessment' WHERE id = :id"), {"id": ids[0]})
    broken = _cli(database_url)
    lines = [line for line in broken.stderr.splitlines() if line.strip()]
    assert broken.returncode == 1 and len(lines) == 1 and f"第 {ids[0]} 号记录" in lines[0], broken.stderr
