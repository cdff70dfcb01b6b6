"""`chatbot keys rotate`: every customer's ID number and phone re-encrypted under the new data
key (and found by the new keyed hash), in batches, carried on after a stop; customers are found
throughout; a live worker that lacks the new key stops it before it starts."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from chatbot.errors import Conflict
from chatbot.security.data_keys import DataKey, DataKeyMissing, DataKeys, sandbox_keys
from chatbot.settings import SANDBOX_DATA_KEY
from chatbot.storage import customers, key_rotation, serving_workers
from chatbot.storage.db import Database
from chatbot.storage.models import Customer
from chatbot.tools.sql_bank import SqlBank
from tests.conftest import FIXED_NOW

NEW = "rotated-data-key-0123456789-abcdefgh"
DEMO = {"张伟": ("110105199003071239", "13800138000"), "王芳": ("310115198806152046", "13900139000"),
        "李娜": ("440305199511203311", "13700137000")}


def _database(url: str, *keys: str) -> Database:
    current, *previous = [DataKey.from_secret(key) for key in keys]
    return Database(url, data_keys=DataKeys(current, previous[0] if previous else None))


def _everyone_readable_and_found(database: Database) -> None:
    with database.read() as db:
        for name, (id_number, phone) in DEMO.items():
            found = SqlBank(db).find_customer(name, id_number)
            assert found is not None and (found.id_number, found.phone) == (id_number, phone)


def test_every_row_is_re_encrypted_and_customers_are_found_under_the_new_key_alone(backend, database_url):
    rotating = _database(database_url, NEW, SANDBOX_DATA_KEY)
    try:
        assert key_rotation.pending(rotating) == len(DEMO)
        _everyone_readable_and_found(rotating)  # before: values and hashes under the old key
        report = key_rotation.rotate(rotating, batch=2)
        assert (report.rotated, report.batches, report.remaining) == (3, 2, 0)
        with rotating.read() as db:
            assert all(rotating.data_keys.is_current(row.id_number_encrypted) and
                       rotating.data_keys.is_current(row.phone_encrypted) for row in db.query(Customer))
    finally:
        rotating.dispose()
    new_only, old_only = _database(database_url, NEW), Database(database_url)  # the sandbox's key
    try:
        _everyone_readable_and_found(new_only)
        with old_only.read() as db, pytest.raises(DataKeyMissing):
            customers.personal(db, db.query(Customer).first())
    finally:
        new_only.dispose()
        old_only.dispose()


def test_a_rotation_stopped_half_way_carries_on_where_it_stopped(database_url):
    rotating = _database(database_url, NEW, SANDBOX_DATA_KEY)

    def crash(_report):
        raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            key_rotation.rotate(rotating, batch=1, on_batch=crash)
        assert key_rotation.pending(rotating) == 2  # the first batch committed, whole
        _everyone_readable_and_found(rotating)  # rows under either key
        report = key_rotation.rotate(rotating, batch=1)
        assert (report.rotated, report.remaining) == (2, 0)
        assert key_rotation.rotate(rotating).rotated == 0  # nothing left: again does nothing
    finally:
        rotating.dispose()


def test_a_value_under_a_key_nobody_gave_names_the_customer(database_url):
    stranger = _database(database_url, NEW)  # the old key is not configured
    try:
        with pytest.raises(DataKeyMissing, match=r"客户 #\d+.*CHATBOT_DATA_KEY_OLD"):
            key_rotation.rotate(stranger)
        assert key_rotation.pending(stranger) == len(DEMO)  # nothing half-written
    finally:
        stranger.dispose()


def test_a_live_worker_without_the_new_key_stops_the_rotation(database_url):
    rotating = _database(database_url, NEW, SANDBOX_DATA_KEY)
    new_id, old_id = rotating.data_keys.current.key_id, sandbox_keys().current.key_id
    try:
        with rotating.write() as db:
            serving_workers.beat(db, "host:1:a", "host", 1, None, FIXED_NOW, FIXED_NOW, old_id)
        with pytest.raises(Conflict, match="host:1:a"):
            key_rotation.refuse_if_a_worker_lacks_the_key(rotating, FIXED_NOW, 5)
        key_rotation.refuse_if_a_worker_lacks_the_key(rotating, FIXED_NOW + timedelta(minutes=1), 5)  # long gone
        with rotating.write() as db:
            serving_workers.beat(db, "host:1:a", "host", 1, None, FIXED_NOW, FIXED_NOW, f"{new_id},{old_id}")
        key_rotation.refuse_if_a_worker_lacks_the_key(rotating, FIXED_NOW, 5)  # restarted with both keys
    finally:
        rotating.dispose()


def _cli(args, url, **env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update({"CHATBOT_DATABASE_URL": url, "CHATBOT_ENV": "sandbox", **env_extra})
    return subprocess.run([sys.executable, "-m", "chatbot.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_the_cli_rotates_then_has_nothing_to_do(database_url):
    keys = {"CHATBOT_DATA_KEY": NEW, "CHATBOT_DATA_KEY_OLD": SANDBOX_DATA_KEY}
    done = _cli(["keys", "rotate", "--batch", "2"], database_url, **keys)
    assert done.returncode == 0 and "待重新加密：3 位客户" in done.stdout and "轮换完成：3 位客户" in done.stdout, \
        done.stdout + done.stderr
    again = _cli(["keys", "rotate"], database_url, CHATBOT_DATA_KEY=NEW)
    assert again.returncode == 0 and "无需轮换" in again.stdout, again.stdout + again.stderr
    assert NEW not in done.stdout + done.stderr + again.stdout + again.stderr
