"""The regression gate of a promotion: refuses a version that answers the held-out data worse,
names what dropped and by how much; `force` promotes anyway (also when the promoted version
cannot be scored); every promotion is audited, with version names the audit's masking leaves
whole; concurrent promotions take turns."""
from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from chatbot.errors import Conflict, NotFound
from chatbot.nlu import model_store
from chatbot.settings import Settings
from chatbot.storage.db import Database
from chatbot.storage.models import AuditLog
from tests.conftest import FIXED_NOW
from tests.training.model_pairs import train_pair
from training import compare, gate, registry

ROOT = Path(__file__).resolve().parents[2]

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_pair(tmp_path_factory.mktemp("pair"))


@pytest.fixture
def pair(trained, tmp_path):
    return trained.copy(tmp_path / "models")


@pytest.fixture
def database(empty_database_url):
    db = Database(empty_database_url)
    yield db
    db.dispose()


def _settings(pair, database, **limits) -> Settings:
    return Settings(env="sandbox", database_url=database.url.render_as_string(hide_password=False),
                    model_dir=pair.model_dir, data_dir=pair.data_dir, **{"promote_min_support": 5, **limits})


def _audit(database) -> list[AuditLog]:
    with database.read() as db:
        return list(db.scalars(select(AuditLog).order_by(AuditLog.id)))


def test_with_nothing_promoted_there_is_no_gate(pair, database):
    announced = []
    result = gate.promote(_settings(pair, database), database, pair.bad, "cli:tester", FIXED_NOW,
                          announce=announced.append)
    assert result.passed and result.baseline is None and result.comparison is None
    assert model_store.promoted_version(pair.model_dir) == pair.bad and announced == [pair.bad]
    [entry] = _audit(database)
    assert (entry.actor, entry.action, entry.target) == ("cli:tester", "model.promote", f"model:{pair.bad}")
    assert entry.detail["forced"] is False and entry.detail["previous"] is None


def test_a_drop_is_refused_naming_what_dropped_and_by_how_much(pair, database):
    registry.promote(pair.model_dir, pair.good)
    announced = []
    with pytest.raises(gate.RegressionRefused) as refused:
        gate.promote(_settings(pair, database), database, pair.bad, "staff:admin", FIXED_NOW,
                     announce=announced.append)
    message = refused.value.message
    assert refused.value.code == "regression_gate"
    assert "整体准确率 1.0000 → 0.6667（下降 0.3333，允许 0.0100）" in message
    assert "意图 thanks 的准确率 1.0000 → 0.0000（下降 1.0000，允许 0.0500，n=5）" in message
    assert "--force" in message
    drops = refused.value.gate.to_dict()["drops"]
    assert [(d["intent"], d["drop"]) for d in drops] == [(None, 0.3333), ("thanks", 1.0)]
    assert model_store.promoted_version(pair.model_dir) == pair.good and announced == []
    [entry] = _audit(database)
    assert entry.action == "model.promote_refused" and entry.detail["gate"]["passed"] is False


def test_force_promotes_anyway_and_the_audit_says_who_and_what_the_gate_said(pair, database):
    registry.promote(pair.model_dir, pair.good)
    result = gate.promote(_settings(pair, database), database, pair.bad, "cli:ops", FIXED_NOW, force=True)
    assert not result.passed and model_store.promoted_version(pair.model_dir) == pair.bad
    [entry] = _audit(database)
    assert (entry.actor, entry.action, entry.target) == ("cli:ops", "model.promote", f"model:{pair.bad}")
    assert entry.detail["forced"] is True
    assert [d["intent"] for d in entry.detail["gate"]["drops"]] == [None, "thanks"]
    assert entry.detail["gate"]["accuracy"]["delta"] == pytest.approx(-0.3333)


def test_a_better_version_passes(pair, database):
    registry.promote(pair.model_dir, pair.bad)
    result = gate.promote(_settings(pair, database), database, pair.good, "cli:ops", FIXED_NOW)
    assert result.passed and result.baseline == pair.bad and result.drops == ()
    assert model_store.promoted_version(pair.model_dir) == pair.good


def test_margins_and_support_come_from_the_settings(pair, database):
    registry.promote(pair.model_dir, pair.good)
    few = gate.check(_settings(pair, database, promote_min_support=6), database, pair.bad)
    assert [d.intent for d in few.drops] == [None]  # thanks has 5 held-out examples: too few to judge alone
    lenient = gate.check(_settings(pair, database, promote_min_support=6, promote_max_drop=0.34), database, pair.bad)
    assert lenient.passed


def test_defaults(tmp_path):
    settings = Settings(env="sandbox", database_url=f"sqlite:///{tmp_path / 'x.db'}")
    assert gate.Limits.of(settings) == gate.Limits(0.01, 0.05, 10)


def test_promoting_twice_reuses_the_cached_predictions(pair, database, monkeypatch):
    registry.promote(pair.model_dir, pair.good)
    settings = _settings(pair, database)
    gate.promote(settings, database, pair.bad, "cli:ops", FIXED_NOW, force=True)
    registry.promote(pair.model_dir, pair.good)

    def refuse(*_args):
        raise AssertionError("a pipeline was loaded again")

    monkeypatch.setattr(compare.model_store, "load_pipeline", refuse)
    with pytest.raises(gate.RegressionRefused):
        gate.promote(settings, database, pair.bad, "cli:ops", FIXED_NOW)


def test_unknown_version_and_no_held_out_data(pair, database, tmp_path):
    with pytest.raises(NotFound):
        gate.check(_settings(pair, database), database, "20200101-000000-deadbeef")
    registry.promote(pair.model_dir, pair.good)
    empty = Settings(env="sandbox", database_url=_settings(pair, database).database_url, model_dir=pair.model_dir,
                     data_dir=tmp_path)
    result = gate.check(empty, None, pair.bad)
    assert not result.passed and "没有留出数据" in result.message()


# --- the command ---------------------------------------------------------------------------------

def _cli(args, pair, database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env |= {"CHATBOT_MODEL_DIR": str(pair.model_dir), "CHATBOT_DATA_DIR": str(pair.data_dir),
            "CHATBOT_DATABASE_URL": database_url, "CHATBOT_PROMOTE_MIN_SUPPORT": "5", "COLUMNS": "300"}
    return subprocess.run([sys.executable, "-m", "chatbot.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_the_command_refuses_in_one_line_then_forces_with_the_os_user_audited(pair, database, empty_database_url):
    registry.promote(pair.model_dir, pair.good)
    refused = _cli(["models", "promote", pair.bad], pair, empty_database_url)
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"错误：回归门禁拒绝发布 {pair.bad}") and "意图 thanks 的准确率" in line
    forced = _cli(["models", "promote", pair.bad, "--force"], pair, empty_database_url)
    assert forced.returncode == 0, forced.stderr
    assert f"已发布模型 {pair.bad}（已强制发布" in forced.stdout
    assert model_store.promoted_version(pair.model_dir) == pair.bad
    actions = [(e.actor, e.action, e.detail.get("forced")) for e in _audit(database)]
    assert actions == [(f"cli:{getpass.getuser()}", "model.promote_refused", None),
                       (f"cli:{getpass.getuser()}", "model.promote", True)]
    listing = _cli(["models", "list"], pair, empty_database_url)
    assert listing.returncode == 0 and pair.bad in listing.stdout


# --- a promoted version that cannot be scored -------------------------------------------------------

def _break(pair, version, how: str) -> None:
    if how == "unreadable":  # as after a scikit-learn upgrade: the pickle no longer loads
        (pair.model_dir / version / model_store.MODEL_FILE).write_bytes(b"not a pickle")
    else:
        shutil.rmtree(pair.model_dir / version)


@pytest.mark.parametrize("how", ["unreadable", "deleted"])
def test_a_promoted_version_that_cannot_be_scored_refuses_clearly_and_force_overrides_it(pair, database, how):
    registry.promote(pair.model_dir, pair.good)
    _break(pair, pair.good, how)
    settings, announced = _settings(pair, database), []
    with pytest.raises(gate.RegressionRefused) as refused:
        gate.promote(settings, database, pair.bad, "staff:admin", FIXED_NOW, announce=announced.append)
    message = refused.value.message
    assert refused.value.code == "gate_not_evaluated" and "\n" not in message
    assert message.startswith(f"回归门禁无法评估 {pair.bad}：已发布的版本 {pair.good} 无法评分（")
    assert message.endswith("确认仍要发布请加 --force") and pair.bad not in message.split("：", 1)[1]
    assert model_store.promoted_version(pair.model_dir) == pair.good and announced == []

    result = gate.promote(settings, database, pair.bad, "staff:admin", FIXED_NOW, force=True,
                          announce=announced.append)
    assert not result.evaluated and not result.passed and result.baseline == pair.good
    assert model_store.promoted_version(pair.model_dir) == pair.bad and announced == [pair.bad]
    refusal, promotion = _audit(database)
    assert refusal.action == "model.promote_refused" and refusal.detail["gate"]["evaluated"] is False
    assert promotion.action == "model.promote" and promotion.detail["forced"] is True
    assert promotion.detail["previous"] == gate.audit_versions(pair.good)
    assert promotion.detail["gate"]["summary"].startswith("回归门禁未评估：已发布的版本")
    assert promotion.detail["gate"]["evaluated"] is False


@pytest.mark.parametrize("promoted_first", [True, False])
def test_a_candidate_that_cannot_be_loaded_is_refused_in_one_line_even_forced(pair, database, promoted_first):
    """Not blamed on the promoted version, and never promoted: no worker could load it."""
    if promoted_first:
        registry.promote(pair.model_dir, pair.good)
    _break(pair, pair.bad, "unreadable")
    (pair.model_dir / pair.bad / model_store.COMPILED_FILE).unlink(missing_ok=True)
    for force in (False, True):
        with pytest.raises(Conflict) as failed:
            gate.promote(_settings(pair, database), database, pair.bad, "staff:admin", FIXED_NOW, force=force)
        assert failed.value.code == "model_unloadable" and "\n" not in failed.value.message
        assert failed.value.message.startswith(f"模型版本 {pair.bad} 无法载入，不能发布（")
    assert model_store.promoted_version(pair.model_dir) == (pair.good if promoted_first else None)
    assert _audit(database) == []


def test_the_command_refuses_an_unscorable_baseline_in_one_line_and_force_promotes(pair, database,
                                                                                  empty_database_url):
    registry.promote(pair.model_dir, pair.good)
    _break(pair, pair.good, "unreadable")
    refused = _cli(["models", "promote", pair.bad], pair, empty_database_url)
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"错误：回归门禁无法评估 {pair.bad}") and line.endswith("--force")
    forced = _cli(["models", "promote", pair.bad, "--force"], pair, empty_database_url)
    assert forced.returncode == 0, forced.stderr
    assert "回归门禁未评估" in forced.stdout and model_store.promoted_version(pair.model_dir) == pair.bad


# --- concurrent promotions -----------------------------------------------------------------------

def _copy_version(pair, source: str, name: str) -> str:
    shutil.copytree(pair.model_dir / source, pair.model_dir / name, ignore=shutil.ignore_patterns("heldout"))
    return name


def test_concurrent_promotions_take_turns_and_each_is_compared_with_what_it_replaces(pair, database, monkeypatch):
    registry.promote(pair.model_dir, pair.good)
    twins = [_copy_version(pair, pair.good, name) for name in ("20300101-000000-0000000a", "20300101-000000-0000000b")]
    real_compare = gate.compare

    def slow_compare(*args):
        time.sleep(0.5)  # scoring takes seconds: both promotions check at the same time
        return real_compare(*args)

    monkeypatch.setattr(gate, "compare", slow_compare)
    settings, results, errors = _settings(pair, database), {}, []

    def promote(version):
        try:
            results[version] = gate.promote(settings, database, version, f"cli:{version}", FIXED_NOW)
        except Exception as exc:  # noqa: BLE001 (fails the test below)
            errors.append(repr(exc))

    threads = [threading.Thread(target=promote, args=(v,)) for v in twins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    first, second = (e for e in _audit(database) if e.action == "model.promote")
    assert first.detail["previous"] == gate.audit_versions(pair.good)
    first_version = first.target.removeprefix("model:")
    assert second.detail["previous"] == gate.audit_versions(first_version)  # not the one both started from
    second_version = second.target.removeprefix("model:")
    assert results[second_version].baseline == first_version
    assert model_store.promoted_version(pair.model_dir) == second_version


def test_a_promotion_waits_for_one_in_another_process(pair, database):
    registry.promote(pair.model_dir, pair.good)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom training import registry\n"
         "with registry.promotion_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(1.0)\n",
         str(pair.model_dir)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Conflict) as busy, registry.promotion_lock(pair.model_dir, timeout=0.2):
            pass
        assert busy.value.code == "promotion_in_progress"
        started = time.monotonic()
        gate.promote(_settings(pair, database), database, pair.bad, "cli:ops", FIXED_NOW, force=True)
        assert time.monotonic() - started > 0.5
    finally:
        holder.wait(timeout=30)
        holder.stdout.close()
    assert model_store.promoted_version(pair.model_dir) == pair.bad


def test_threads_of_one_process_promoting_at_once_never_trip_over_a_shared_temporary_file(pair):
    errors = []

    def promote_many(offset):
        for n in range(50):
            try:
                registry.promote(pair.model_dir, pair.good if (n + offset) % 2 else pair.bad)
            except Exception as exc:  # noqa: BLE001 (fails the test below)
                errors.append(repr(exc))

    threads = [threading.Thread(target=promote_many, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert model_store.promoted_version(pair.model_dir) in (pair.good, pair.bad)
    assert not [p.name for p in pair.model_dir.iterdir() if p.name.endswith(".tmp")]


# --- the audit keeps version names whole ---------------------------------------------------------------

def test_a_version_whose_hash_starts_with_digits_is_not_masked_in_the_audit(pair, database):
    digits = _copy_version(pair, pair.good, "20261207-122251-12345678")  # to the masker: a 22-digit card
    mixed = _copy_version(pair, pair.good, "20261207-122251-12a45678")
    settings = _settings(pair, database)
    gate.promote(settings, database, digits, "cli:ops", FIXED_NOW)
    gate.promote(settings, database, mixed, "cli:ops", FIXED_NOW)
    first, second = _audit(database)
    assert first.target == f"model:{digits}" and second.target == f"model:{mixed}"
    assert second.detail["previous"] == "20261207-122251-(12345678)"
    assert second.detail["gate"]["candidate"] == "20261207-122251-(12a45678)"
    assert second.detail["gate"]["baseline"] == "20261207-122251-(12345678)"
    assert "****" not in json.dumps([first.detail, second.detail], ensure_ascii=False)
    assert gate.audit_versions({"a": [f"路径 /m/{digits}/model.joblib"], "n": 3}) == {
        "a": ["路径 /m/20261207-122251-(12345678)/model.joblib"], "n": 3}
