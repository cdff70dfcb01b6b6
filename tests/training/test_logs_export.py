"""`chatbot logs export`: real turns through the engine, selected by kind, grouped, written
and read back; the command's errors; masking; grouping time on thousands of turns."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from chatbot.clock import BANK_TZ
from chatbot.errors import InvalidInput
from chatbot.nlu.intents import IntentScore
from chatbot.security.staff_auth import Staff
from chatbot.settings import DATA_DIR
from chatbot.storage.models import Annotation, StaffUser, TurnLog
from training.annotations.keys import comparable, text_key
from training.datasets import load_intents
from training.logs import grouping
from training.logs.export import export_turns, format_candidates, format_top3
from training.logs.grouping import group_turns
from training.logs.select import KINDS, UNSCORED, LoggedTurn, select_turns
from training.logs import table_file
from training.logs import export as export_module
from training.logs.table_file import COLUMNS, read_table

DAY1 = datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)  # tests/conftest.py FIXED_NOW
DAY2 = datetime(2026, 11, 25, 10, 0, tzinfo=BANK_TZ)
LATE_DAY2 = datetime(2026, 11, 25, 23, 30, tzinfo=BANK_TZ)  # 15:30 UTC: still the 25th at the bank
DAY3 = datetime(2026, 11, 27, 10, 0, tzinfo=BANK_TZ)
SECRETS = ("110105199003071239", "13800138000", "6222021234567890")
MASKED_ID = "1101**********1239"
MASKED_U9 = f"阿巴 我的身份证{MASKED_ID} 手机138****8000 卡号**** 7890"  # as the turn log keeps it


@pytest.fixture(scope="module")
def training():
    return load_intents(DATA_DIR / "intents.yaml")


@pytest.fixture(scope="module")
def known_intents(training):
    return {e.intent for e in training}


class UnsureModel:
    """The promoted model, except that it cannot place anything with 阿巴 in it (a test
    double for the phrasings a real model fails on)."""

    def __init__(self, model) -> None:
        self.model = model

    def rank(self, text, tokens):
        if "阿巴" in text:
            return [IntentScore("out_of_scope", 0.21), IntentScore("greet", 0.15), IntentScore("faq", 0.1)]
        return self.model.rank(text, tokens)


@pytest.fixture
def bank(settings, clock, intent_model, knowledge_desk):
    from chatbot.service import build_services

    built = build_services(settings, clock=clock, classifier=UnsureModel(intent_model), knowledge=knowledge_desk)
    yield built
    built.close()


def _agent(database) -> Staff:
    with database.read() as db:
        row = db.scalars(select(StaffUser).where(StaffUser.username == "agent1")).one()
        return Staff(row.id, row.username, row.display_name, row.role)


def _say(bank, user, text, at=None):
    if at is not None:
        bank.clock._at = at
    reply = bank.engine.handle("web", user, text)
    bank.clock.advance(seconds=20)
    return reply


def _serve_and_rate(bank, session_id, rating: str, user: str):
    agent = _agent(bank.database)
    bank.handoff.desk.accept(agent, session_id)
    bank.handoff.desk.close(agent, session_id)
    assert "感谢您的评价" in _say(bank, user, rating).text


@pytest.fixture
def scenario(bank):
    """A few days of real turns; returns the bank (its clock ends on day 3)."""
    _say(bank, "u1", "阿巴阿巴咕噜", DAY1)                          # not understood
    _say(bank, "u2", "火星银行的外星人开户要几个触手")              # FAQ miss, with candidates
    _say(bank, "u3", "卡")                                         # FAQ asks which entry
    complaint = _say(bank, "u4", "我要投诉")                        # handoff
    _say(bank, "u4", "你们好烂")                                   # while queued: the desk's
    _serve_and_rate(bank, complaint.session_id, "5", "u4")          # rated well
    person = _say(bank, "u5", "转人工")                             # handoff, rated badly
    _serve_and_rate(bank, person.session_id, "1", "u5")
    _say(bank, "u6", "你好")                                       # nothing to label
    _say(bank, "u7", "余额多少", DAY2)                              # sure (0.98)
    _say(bank, "u8", "我的余额多少钱")                              # less sure (0.80)
    _say(bank, "u9", f"阿巴 我的身份证{SECRETS[0]} 手机{SECRETS[1]} 卡号{SECRETS[2]}", LATE_DAY2)
    _say(bank, "u10", "阿巴阿巴咕噜", DAY3)
    return bank


def _select(bank, **options):
    with bank.database.read() as db:
        return select_turns(db, **options)


def _by_text(turns):
    return {t.text: t for t in turns}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kinds_are_read_from_what_the_bot_did(scenario, backend):
    turns = _select(scenario)
    kinds = [(t.text, t.kind) for t in turns]
    assert kinds[0] == ("阿巴阿巴咕噜", "not_understood")  # newest first
    assert [t.at for t in turns] == sorted((t.at for t in turns), reverse=True)
    found = _by_text(turns)
    assert found["火星银行的外星人开户要几个触手"].kind == "faq_not_found"
    assert found["卡"].kind == "clarify"
    assert found["我要投诉"].kind == "handoff" and found["转人工"].kind == "low_rating"  # rated 1
    assert found[MASKED_U9].kind == "not_understood"
    # The desk's turns (a message while queued, a rating) and plain answers are not selected.
    assert not {"你们好烂", "5", "1", "你好", "余额多少", "我的余额多少钱"} & set(found)
    miss = found["火星银行的外星人开户要几个触手"]
    assert miss.faq_candidates[0][:2] == ("account-021", "外国人怎么在示例银行开户？")
    assert 0 < miss.faq_candidates[0][2] < 0.36
    assert [c[2] for c in miss.faq_candidates] == sorted((c[2] for c in miss.faq_candidates), reverse=True)
    assert len(miss.top3) == 3 and miss.top3[0] == (miss.intent, pytest.approx(miss.confidence, abs=1e-4))
    assert {c[2] for c in found["卡"].faq_candidates} == {UNSCORED} and len(found["卡"].faq_candidates) >= 1


def test_low_rating_is_the_turn_that_queued_the_badly_rated_handoff(scenario):
    turns = _select(scenario, kinds=["low_rating"])
    assert [(t.text, t.kind) for t in turns] == [("转人工", "low_rating")]
    # Among all kinds, the first that applies wins: a low rating before a handoff.
    assert _by_text(_select(scenario))["转人工"].kind == "low_rating"
    assert _by_text(_select(scenario, kinds=["handoff"]))["转人工"].kind == "handoff"


def test_a_time_window_is_since_inclusive_until_exclusive(scenario):
    day2 = _select(scenario, since=DAY2.replace(hour=0), until=DAY3.replace(day=26, hour=0))
    assert [t.text for t in day2] == [MASKED_U9]
    at_start = _select(scenario, since=LATE_DAY2)
    assert len(at_start) == 2  # the turn logged exactly at `since` is in
    assert _select(scenario, until=DAY1) == []


def test_uncertain_turns_come_with_a_threshold(scenario):
    turns = _by_text(_select(scenario, kinds=["uncertain"], uncertain_below=0.9))
    assert turns["我的余额多少钱"].kind == "uncertain" and "余额多少" not in turns
    assert turns["阿巴阿巴咕噜"].kind == "uncertain"  # only the kinds asked for are considered
    with_all = _by_text(_select(scenario, uncertain_below=0.9))
    assert with_all["我的余额多少钱"].kind == "uncertain" and with_all["阿巴阿巴咕噜"].kind == "not_understood"
    assert [t.text for t in _select(scenario, intent="complaint")] == ["我要投诉"]
    everything = _by_text(_select(scenario, uncertain_below=1.0))
    assert "余额多少" in everything and not {"你们好烂", "5", "1"} & set(everything)  # the desk's turns
    with pytest.raises(InvalidInput, match="--uncertain"):
        _select(scenario, kinds=["uncertain"])
    with pytest.raises(InvalidInput) as error:
        _select(scenario, kinds=["handoff", "angry"])
    assert "angry" in error.value.message and all(kind in error.value.message for kind in KINDS)


def test_labelled_phrasings_are_left_out(scenario):
    with scenario.database.write() as db:  # labelled with other punctuation: the same phrasing
        db.add(Annotation(text_key=text_key("火星银行的外星人 开户要几个触手？"), text="火星银行的外星人开户要几个触手",
                          label="ignore", source="import", annotated_by="analyst", annotated_at=DAY3))
    assert "火星银行的外星人开户要几个触手" not in _by_text(_select(scenario))
    assert "火星银行的外星人开户要几个触手" in _by_text(_select(scenario, include_labelled=True))


def test_a_row_logged_before_rankings_shows_its_intent_alone(scenario):
    with scenario.database.write() as db:
        db.execute(update(TurnLog).where(TurnLog.text == "我要投诉").values(ranking=None))
    turn = _by_text(_select(scenario))["我要投诉"]
    assert turn.top3 == (("complaint", pytest.approx(turn.confidence)),)


def test_limit_keeps_the_newest(scenario):
    assert [t.text for t in _select(scenario, limit=1)] == ["阿巴阿巴咕噜"]
    assert _select(scenario, limit=1)[0].at == DAY3


# --- grouping and suggestions ------------------------------------------------------------------

def _turn(number, text, *, intent=None, confidence=None, kind="not_understood", candidates=()):
    at = datetime(2026, 11, 24, tzinfo=timezone.utc) + timedelta(minutes=number)
    return LoggedTurn(number, at, "web", text, intent, confidence, (), tuple(candidates), kind)


def test_similar_phrasings_are_one_group_and_a_complaint_another(training, known_intents):
    texts = ["余额多少", "我要投诉", "我的余额多少钱", "余额是多少", "余额多少？", "余额 多少!", "我要投诉",
             "外汇牌价在哪看"]
    groups = group_turns([_turn(i, t) for i, t in enumerate(texts)], known_intents, training)
    by_text = {t.text: g for g in groups for t in g.turns}
    balance = by_text["余额多少"]
    assert {t.text for t in balance.turns} == {"余额多少", "我的余额多少钱", "余额是多少", "余额多少？", "余额 多少!"}
    assert by_text["我要投诉"] is not balance and len(by_text["我要投诉"].turns) == 2
    assert [g.id for g in groups] == [1, 2, 3] and groups[0] is balance  # biggest first
    assert balance.suggested == "account.balance" and by_text["我要投诉"].suggested == "complaint"


def test_suggestions_prefer_the_faq_and_training_over_the_model(training, known_intents):
    near_faq = [_turn(1, "信用卡可以晚几天还吗", intent="card.repay", confidence=0.3, kind="uncertain",
                      candidates=[("credit-010", "", 0.62)])]
    assert group_turns(near_faq, known_intents, training)[0].suggested == "faq"
    # The model said greet, unsure; the training examples say a balance question.
    wrong_model = [_turn(2, "卡里还剩多少钱", intent="greet", confidence=0.3)]
    assert group_turns(wrong_model, known_intents, training)[0].suggested == "account.balance"
    gibberish = [_turn(3, "阿巴阿巴咕噜", intent="out_of_scope", confidence=0.2)]
    assert group_turns(gibberish, known_intents, training)[0].suggested is None
    assert group_turns([], known_intents, training) == []


def test_duplicates_stay_together_across_blocks(monkeypatch, known_intents):
    monkeypatch.setattr(grouping, "BLOCK", 5)
    sizes = []
    block = grouping._cluster_block
    monkeypatch.setattr(grouping, "_cluster_block", lambda v, d: sizes.append(v.shape[0]) or block(v, d))
    texts = [f"第{i}号问题怎么办" for i in range(12)] + ["余额多少", "余额多少？"]
    turns = [_turn(i, t, intent="faq" if i % 2 else "greet") for i, t in enumerate(texts)]
    groups = group_turns(turns, known_intents)
    assert max(sizes) <= 5 and sum(sizes) == 13  # 13 distinct phrasings, never more than 5 at once
    assert [len(g.turns) for g in groups if "余额多少" in {t.text for t in g.turns}] == [2]


def test_distances_are_scipys_cosine_without_the_square_matrix(monkeypatch):
    import numpy as np
    from scipy.spatial.distance import pdist

    monkeypatch.setattr(grouping, "_ROWS", 7)  # several row blocks, the last one short
    texts = ["余额多少", "我的余额多少钱", "我要投诉", "信用卡怎么还款", "卡丢了", "转人工", "外汇牌价在哪看",
             "余额是多少", "手续费", "开户", "好像不行啊", "阿巴阿巴", "卡", "我要挂失", "理财收益多少", "你好"]
    vectors = grouping.text_vectorizer().fit_transform(texts)
    assert np.allclose(grouping.condensed_distances(vectors), pdist(vectors.toarray(), "cosine"))


def test_thousands_of_turns_group_whole_biggest_first(training, known_intents):
    """(How fast grouping is belongs in bench/, not in a test: the machine may be busy.)"""
    random.seed(19)
    bases = [e for e in training if len(e.text) >= 4]
    turns = []
    for number in range(2000):
        example = random.choice(bases)
        text = random.choice(["{}", "请问{}", "{}啊", "{}？？", "你好，{}", "{}呢"]).format(example.text)
        turns.append(_turn(number, text, intent=example.intent, confidence=0.4, kind="uncertain"))
    groups = group_turns(turns, known_intents, training)
    assert sum(len(g.turns) for g in groups) == 2000
    assert len(groups) < len({comparable(t.text) for t in turns})  # similar phrasings were merged
    sizes = [len(g.turns) for g in groups]
    assert sizes == sorted(sizes, reverse=True)


# --- the file --------------------------------------------------------------------------------

def test_cells_are_readable():
    assert format_top3((("card.repay", 0.41), ("faq", 0.2234))) == "card.repay 0.41 | faq 0.22"
    cells = format_candidates((("credit-012", "信用卡怎么还款", 0.634), ("card-016", "", UNSCORED)),
                              {"card-016": "银行卡突然不能用了是什么原因？"})
    assert cells == "credit-012 信用卡怎么还款 0.63 | card-016 银行卡突然不能用了是什么原因？"


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_round_trips_through_read_table(scenario, tmp_path, suffix, training, known_intents):
    out = tmp_path / f"turns{suffix}"
    seen = []
    with scenario.database.read() as db:
        result = export_turns(db, out, since=None, until=None, kinds=None, uncertain_below=0.9,
                              known_intents=known_intents, training=training,
                              progress=lambda done, total: seen.append((done, total)))
    rows = read_table(out)
    assert (result.rows, result.path) == (len(rows), out) and result.rows == 8
    assert seen[0] == (0, 8) and seen[-1] == (8, 8)
    assert list(rows[0].values) == list(COLUMNS)
    groups = [int(r.values["group"]) for r in rows]
    assert groups == sorted(groups) and result.groups == len(set(groups))
    assert all(r.values["label"] == r.values["faq_question"] == r.values["faq_answer"] == "" for r in rows)
    by_text = {r.values["text"]: r.values for r in rows}
    miss = by_text["火星银行的外星人开户要几个触手"]
    assert miss["kind"] == "faq_not_found" and miss["faq_candidates"].startswith("account-021 外国人怎么在示例银行开户？ 0.")
    assert miss["top3"].startswith("faq 0.") and miss["top3"].count(" | ") == 2
    assert miss["at"] == "2026-11-24 10:00:20" and miss["channel"] == "web"
    same = [r.values["group"] for r in rows if r.values["text"] == "阿巴阿巴咕噜"]
    assert len(same) == 2 and len(set(same)) == 1  # the same words twice: one group
    raw = out.read_bytes()
    for secret in SECRETS:
        assert secret not in raw.decode("utf-8-sig", "replace") and all(secret not in v for r in rows for v in r.values.values())
    assert any(MASKED_ID in r.values["text"] for r in rows)


def test_an_export_says_whether_the_cap_was_hit(scenario, tmp_path, training, known_intents):
    def export(limit):
        with scenario.database.read() as db:
            return export_turns(db, tmp_path / "capped.csv", since=None, until=None, kinds=None, uncertain_below=0.9,
                                known_intents=known_intents, training=training, limit=limit)

    capped = export(3)
    assert (capped.rows, capped.capped, capped.limit) == (3, True, 3)
    texts = [r.values["text"] for r in read_table(tmp_path / "capped.csv")]
    assert texts.count("阿巴阿巴咕噜") == 1  # of its two turns, the newest was kept
    assert (export(8).rows, export(8).capped) == (8, False)  # exactly all of them: not capped
    assert export(None).capped is False and export(None).limit == export_module.LIMIT == 20_000


# --- reading an edited file: refused before parsing when too big ---------------------------------

def _never_parsed(*_args):
    raise AssertionError("parsed")


def test_a_csv_over_the_size_limit_is_refused_before_parsing(tmp_path, monkeypatch):
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:
        handle.truncate(table_file.MAX_FILE_BYTES + 1024 * 1024)  # sparse: 51 MB of nothing, written at once
    monkeypatch.setattr(table_file, "_read_csv", _never_parsed)
    with pytest.raises(InvalidInput) as refused:
        read_table(big)
    assert refused.value.message.startswith("big.csv 有 51.0 MB，超过 50.0 MB 的上限")
    assert "\n" not in refused.value.message
    assert table_file.MAX_FILE_BYTES == 50 * 1024 * 1024


def test_an_xlsx_that_unpacks_too_big_is_refused_before_parsing(tmp_path, monkeypatch):
    import zipfile

    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(table_file.MAX_XLSX_UNPACKED_BYTES // len(block) + 1):
                member.write(block)
    assert bomb.stat().st_size < 1024 * 1024  # small on disk
    monkeypatch.setattr(table_file, "_read_xlsx", _never_parsed)
    with pytest.raises(InvalidInput) as refused:
        read_table(bomb)
    assert refused.value.message.startswith("bomb.xlsx 解压后有 201.0 MB，超过 200.0 MB 的上限")
    assert "\n" not in refused.value.message
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK not really a zip")
    with pytest.raises(InvalidInput, match="broken.xlsx 不是可读的 .xlsx 文件"):
        read_table(broken)


# --- the command ---------------------------------------------------------------------------------

def _run(settings, *args):
    from typer.testing import CliRunner

    from chatbot.cli import app

    env = {"CHATBOT_DATABASE_URL": settings.database_url, "CHATBOT_ENV": "sandbox",
           "CHATBOT_MODEL_DIR": str(settings.model_dir)}
    return CliRunner().invoke(app, ["logs", "export", *args], env=env)


def test_the_command_exports_bank_days(scenario, settings, tmp_path):
    out = tmp_path / "out" / "day2.csv"
    result = _run(settings, "--since", "2026-11-25", "--until", "2026-11-25", "--uncertain", "0.9", "--out", str(out))
    assert result.exit_code == 0, result.output
    texts = [r.values["text"] for r in read_table(out)]
    # 23:30 at the bank is still the 25th (15:30 UTC); --until is inclusive.
    assert sorted(texts) == sorted(["我的余额多少钱", MASKED_U9])
    assert result.output.strip().splitlines()[-1] == f"已导出 2 条对话，2 组：{out}"
    only = tmp_path / "handoffs.xlsx"
    result = _run(settings, "--since", "2026-11-24", "--until", "2026-11-24", "--kind", "handoff",
                  "--kind", "low_rating", "--out", str(only))
    assert result.exit_code == 0, result.output
    assert sorted((r.values["text"], r.values["kind"]) for r in read_table(only)) == [
        ("我要投诉", "handoff"), ("转人工", "low_rating")]


@pytest.mark.parametrize(("args", "words"), [
    (["--kind", "angry"], ["angry", "not_understood", "low_rating"]),
    (["--since", "2026-11-31"], ["--since"]),
    (["--since", "24.11.2026"], ["--since", "YYYY-MM-DD"]),
    (["--since", "2026-11-26", "--until", "2026-11-25"], ["--since", "--until"]),
    (["--uncertain", "0"], ["--uncertain"]),
    (["--uncertain", "1.01"], ["--uncertain"]),
    (["--kind", "uncertain"], ["--uncertain"]),
])
def test_the_command_refuses_bad_options(settings, tmp_path, args, words):
    result = _run(settings, *args, "--out", str(tmp_path / "x.csv"))
    assert result.exit_code != 0 and isinstance(result.exception, InvalidInput)
    assert all(word in result.exception.message for word in words), result.exception.message
    assert not (tmp_path / "x.csv").exists()


def test_the_command_warns_when_the_cap_was_hit(scenario, settings, tmp_path, monkeypatch):
    out = tmp_path / "all.csv"
    monkeypatch.setattr(export_module, "LIMIT", 3)
    result = _run(settings, "--since", "2026-11-24", "--until", "2026-11-27", "--uncertain", "0.9", "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-2].startswith("已导出 3 条对话")
    assert "上限 3 条" in lines[-1] and "--since/--until" in lines[-1]
    monkeypatch.setattr(export_module, "LIMIT", 8)
    result = _run(settings, "--since", "2026-11-24", "--until", "2026-11-27", "--uncertain", "0.9", "--out", str(out))
    assert result.output.strip().splitlines()[-1].startswith("已导出 8 条对话") and "上限" not in result.output


def test_the_command_refuses_files_it_cannot_write(settings, tmp_path):
    for out, word in [(tmp_path / "x.txt", ".txt"), (tmp_path / "dir.csv", "目录")]:
        (tmp_path / "dir.csv").mkdir(exist_ok=True)
        result = _run(settings, "--out", str(out))
        assert isinstance(result.exception, InvalidInput) and word in result.exception.message
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = _run(settings, "--out", str(blocker / "x.csv"))  # its folder is a file
    assert isinstance(result.exception, InvalidInput) and "无法写入" in result.exception.message


def test_an_error_is_one_line_and_exit_1(settings, tmp_path, monkeypatch, capsys):
    import sys

    from chatbot import cli

    monkeypatch.setenv("CHATBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setattr(sys, "argv", ["chatbot", "logs", "export", "--kind", "angry", "--out", str(tmp_path / "x.csv")])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误：未知的类型 angry")
