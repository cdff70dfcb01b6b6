"""The annotation overlay: storing labels, `annotate import` (checked whole, all or nothing),
FAQ entries learned from faq labels, and the train / held-out split."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chatbot.errors import Conflict, InvalidInput
from chatbot.settings import DATA_DIR
from chatbot.storage.db import Database
from chatbot.storage.models import Annotation, AuditLog
from knowledge.desk import KnowledgeDesk
from knowledge.faq.store import load_faq
from training.annotations import importer
from training.annotations.faq_entries import BatchFaqEditor, new_faq_entry
from training.annotations.importer import check_rows, import_labels
from training.annotations.keys import comparable, text_key
from training.annotations.store import (
    is_held_out,
    label_texts,
    labelled_keys,
    list_annotations,
    overlay_examples,
    overlay_split,
    training_keys,
)
from training.logs.table_file import TableRow, write_table
from tests.faq_samples import SMALL_FAQ as FAQ

INTENTS = DATA_DIR / "intents.yaml"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
NEW_QUESTION = "外币现钞可以存进借记卡吗？"
NEW_ANSWER = "可以，请持身份证和外币现钞到网点办理外币存入。"


@pytest.fixture
def db(empty_database_url):
    database = Database(empty_database_url)
    yield database
    database.dispose()


@pytest.fixture
def faq_path(tmp_path) -> Path:
    path = tmp_path / "faq.yaml"
    path.write_text(FAQ, encoding="utf-8")
    return path


@pytest.fixture
def editors(faq_path):
    """Builds the FAQ editor as the CLI does (a desk over the file); remembers the desks."""
    built = []

    def make() -> BatchFaqEditor:
        editor = BatchFaqEditor(KnowledgeDesk.load(faq_path, None, index_dir=None), faq_path)
        built.append(editor)
        return editor

    make.built = built
    return make


def run_import(db, tmp_path, faq_path, editors, rows, *, suffix=".csv", now=NOW, name="labels"):
    path = tmp_path / f"{name}{suffix}"
    write_table(path, rows)
    return import_labels(path, db, intents_path=INTENTS, faq_path=faq_path, make_editor=editors,
                         by="cli:analyst", now=now)


def annotations(db) -> dict[str, Annotation]:
    with db.read() as session:
        return {row.text: row for row in session.scalars(select(Annotation))}


def audit_count(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "annotations.import"))


GOOD = [
    {"turn_id": "41", "text": "请回电", "label": "human.request", "intent": "faq", "confidence": "0.41"},
    {"turn_id": "42", "text": "火大", "label": "complaint"},
    {"turn_id": "43", "text": "没人理的一句话", "label": ""},
    {"turn_id": "44", "text": "asdfgh", "label": "ignore"},
    {"turn_id": "45", "text": "你好！", "label": "greet"},  # "你好" is a greet example already
    {"turn_id": "46", "text": "打电话给我，号码13812345678", "label": "human.request"},
]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_import_stores_masked_labels_once_and_records_who(backend, db, tmp_path, faq_path, editors, suffix):
    faq_before = faq_path.read_bytes()
    summary = run_import(db, tmp_path, faq_path, editors, GOOD, suffix=suffix)
    o = summary.labels
    assert (o.added, o.updated, o.unchanged, o.in_training) == (4, 0, 0, 1)
    assert (summary.skipped_empty, summary.faq_created) == (1, 0)
    line = summary.line()
    assert "新增 4" in line and "已在训练数据中 1" in line and "跳过未标注 1" in line and "新建 FAQ 0 条" in line
    stored = annotations(db)
    assert set(stored) == {"请回电", "火大", "asdfgh", "打电话给我，号码138****5678"}  # the phone re-masked
    call_back = stored["请回电"]
    assert (call_back.label, call_back.turn_id, call_back.source, call_back.annotated_by, call_back.faq_id) == \
        ("human.request", 41, "import", "cli:analyst", None)
    assert call_back.text_key == text_key("请回电")
    assert faq_path.read_bytes() == faq_before and editors.built == []  # no FAQ work without faq rows
    with db.read() as session:
        record = session.scalars(select(AuditLog).where(AuditLog.action == "annotations.import")).one()
    assert record.actor == "cli:analyst" and record.target == f"labels{suffix}"
    assert record.detail["added"] == 4 and record.detail["in_training"] == 1 and record.detail["file"] == f"labels{suffix}"


def test_relabelling_newest_wins_and_same_label_is_unchanged(backend, db, tmp_path, faq_path, editors):
    run_import(db, tmp_path, faq_path, editors, [{"text": "火大", "label": "complaint"},
                                                 {"text": "请回电", "label": "human.request"}])
    later = NOW + timedelta(hours=3)
    summary = run_import(db, tmp_path, faq_path, editors, [{"text": "火大！！", "label": "human.request"},
                                                           {"text": "请回电", "label": "human.request"}], now=later)
    assert (summary.labels.added, summary.labels.updated, summary.labels.unchanged) == (0, 1, 1)
    stored = annotations(db)
    assert len(stored) == 2
    relabelled = stored["火大！！"]  # the same phrasing (punctuation does not count), newest text kept
    assert relabelled.label == "human.request" and relabelled.annotated_at == later
    assert stored["请回电"].annotated_at == NOW  # unchanged rows keep who and when
    assert audit_count(db) == 2


def test_repeated_rows_in_one_file_count_once(db, tmp_path, faq_path, editors):
    summary = run_import(db, tmp_path, faq_path, editors, [
        {"text": "请回电", "label": "human.request"}, {"text": "请 回电。", "label": "Human.Request"},
        {"text": "请回电", "label": "human.request"}])
    assert summary.labels.added == 1 and summary.duplicates == 2
    assert "文件内重复 2 行" in summary.line()
    assert list(annotations(db)) == ["请回电"]


def test_faq_rows_of_one_question_become_one_live_entry(db, tmp_path, faq_path, editors):
    rows = [
        {"text": "美元现金能存到卡里吗", "label": "faq", "faq_question": NEW_QUESTION, "faq_answer": NEW_ANSWER},
        {"text": "外币现金怎么存进卡", "label": "faq", "faq_question": "外币现钞可以存进借记卡吗"},  # same question
        {"text": "火大", "label": "complaint"},
    ]
    summary = run_import(db, tmp_path, faq_path, editors, rows)
    assert summary.faq_created == 1 and summary.faq_ids == ("learned-0001",) and summary.labels.added == 3
    entry = next(e for e in load_faq(faq_path) if e.id == "learned-0001")
    assert entry.question == NEW_QUESTION and entry.answer == NEW_ANSWER
    assert entry.similar == ("美元现金能存到卡里吗", "外币现金怎么存进卡")
    assert entry.category in {"银行卡", "信用卡", "贷款"}  # the shelf of the closest existing entry
    desk = editors.built[0].desk  # live at once: the desk that edited answers with it
    for question in (NEW_QUESTION, "美元现金能存到卡里吗"):
        decision = desk.retriever.decide(question)
        assert decision.kind == "answer" and decision.entry.id == "learned-0001", question
    fresh = KnowledgeDesk.load(faq_path, None, index_dir=None)  # and every worker reading the file
    assert fresh.retriever.decide(NEW_QUESTION).entry.id == "learned-0001"
    stored = annotations(db)
    assert stored["美元现金能存到卡里吗"].faq_id == stored["外币现金怎么存进卡"].faq_id == "learned-0001"
    # The same file again: the entry exists (same question and answer), nothing is duplicated.
    again = run_import(db, tmp_path, faq_path, editors, rows)
    assert (again.faq_created, again.faq_extended, again.labels.unchanged) == (0, 0, 3)
    assert [e.id for e in load_faq(faq_path)].count("learned-0001") == 1 and len(load_faq(faq_path)) == 4


def test_faq_row_naming_an_existing_entry_adds_its_phrasing(db, tmp_path, faq_path, editors):
    summary = run_import(db, tmp_path, faq_path, editors, [
        {"text": "卡不见了咋整", "label": "faq", "faq_question": "银行卡丢了怎么挂失"},  # its question
        {"text": "年费贵不贵", "label": "faq", "faq_question": "fee"},                  # its id
        {"text": "年费怎么收？", "label": "faq", "faq_question": "fee"},               # has it already
    ])
    assert (summary.faq_created, summary.faq_extended) == (0, 2)
    entries = {e.id: e for e in load_faq(faq_path)}
    assert len(entries) == 3
    assert entries["lost"].similar[-1] == "卡不见了咋整"
    assert entries["fee"].similar == ("年费怎么收", "信用卡要交年费吗", "年费贵不贵")
    assert entries["fee"].answer == "普卡首年免年费，刷卡满 6 次免次年年费。"
    assert annotations(db)["年费贵不贵"].faq_id == "fee"


def test_new_faq_entry_numbers_learned_ids(faq_path):
    from knowledge.faq.editor import FaqEditor

    editor = FaqEditor(KnowledgeDesk.load(faq_path, None, index_dir=None), faq_path)
    first = new_faq_entry(editor, NEW_QUESTION, NEW_ANSWER, ["美元现金能存到卡里吗", NEW_QUESTION])
    second = new_faq_entry(editor, "支票怎么兑现？", "请持支票到出票行网点办理。", [])
    assert (first.id, second.id) == ("learned-0001", "learned-0002")
    assert first.similar == ("美元现金能存到卡里吗",)  # the question itself is not repeated
    assert editor.desk.retriever.decide("支票怎么兑现").entry.id == "learned-0002"


# --- refusals: one line with the line number, and nothing changes ---------------------------

FAQ_ROW = {"text": "美元现金能存到卡里吗", "label": "faq", "faq_question": NEW_QUESTION, "faq_answer": NEW_ANSWER}
GOOD_ROW = {"text": "请回电", "label": "human.request"}


@pytest.mark.parametrize(("bad", "message"), [
    ({"text": "我还不上了", "label": "card.repai"}, "未知的标注 card.repai，是不是 card.repay"),
    ({"text": "我还不上了", "label": "投诉"}, "未知的标注 投诉：应为 data/intents.yaml 中的意图名、faq 或 ignore"),
    ({"text": "支票怎么兑现", "label": "faq", "faq_question": "支票怎么兑现？"}, "faq 标注缺少 faq_answer"),
    ({"text": "支票怎么兑现", "label": "faq"}, "faq 标注需要 faq_question"),
    ({"text": "", "label": "complaint"}, "text 为空"),
    ({"text": "长" * 501, "label": "complaint"}, "text 过长（501 字，最多 500 字）"),
    ({"text": "支票怎么兑现", "label": "faq", "faq_question": "支票？", "faq_answer": "答" * 2001}, "faq_answer 过长"),
    ({"text": "响铃\x07了", "label": "complaint"}, "text 列含有无效字符 U+0007"),
    ({"text": "请回电！", "label": "complaint"}, "与第 2 行是同一句话，标注却不同（human.request / complaint）"),
    ({"text": "你好", "label": "complaint"}, "在 data/intents.yaml 中是 greet 的例句，不能标为 complaint"),
    ({"text": "👍👍", "label": "affirm"}, "没有可标注的文字"),
    ({"text": "外币怎么存", "label": "faq", "faq_question": NEW_QUESTION, "faq_answer": "不可以。"},
     f"同一 FAQ 问题「{NEW_QUESTION}」的 faq_answer 与第 3 行不同"),
    ({"text": "美元现金能存到卡里吗", "label": "faq", "faq_question": NEW_QUESTION, "faq_answer": "不可以。"},
     "faq_answer 与第 3 行不同"),  # a repeated row must agree too
    ({"text": "年费贵不贵", "label": "faq", "faq_question": "fee", "faq_answer": "免费。"}, "已存在（fee），但 faq_answer 与现有答案不同"),
    ({"text": "火大", "label": "complaint", "faq_answer": "请息怒"}, "标注为 complaint，却填了 faq_question / faq_answer"),
    ({"turn_id": "12a", "text": "火大", "label": "complaint"}, "turn_id 应为对话记录编号"),
])
def test_a_bad_row_refuses_the_whole_file(db, tmp_path, faq_path, editors, bad, message):
    run_import(db, tmp_path, faq_path, editors, [{"text": "早就标过的", "label": "complaint"}], name="earlier")
    before = (annotations(db).keys(), faq_path.read_bytes(), audit_count(db))
    rows = [GOOD_ROW, FAQ_ROW, bad, {"text": "后面的好行", "label": "complaint"}]  # lines 2, 3, 4, 5
    with pytest.raises(InvalidInput) as refused:
        run_import(db, tmp_path, faq_path, editors, rows)
    assert refused.value.message.startswith("labels.csv 第 4 行："), refused.value.message
    assert message in refused.value.message and "\n" not in refused.value.message
    assert (annotations(db).keys(), faq_path.read_bytes(), audit_count(db)) == before
    assert editors.built == []  # refused before the FAQ was touched


def test_the_first_bad_line_is_named_and_the_others_counted(db, tmp_path, faq_path, editors):
    rows = [GOOD_ROW, {"text": "", "label": "complaint"}, {"text": "x", "label": "nope"}]
    with pytest.raises(InvalidInput, match="第 3 行：text 为空.*另有 1 处问题"):
        run_import(db, tmp_path, faq_path, editors, rows)


def test_nul_and_lone_surrogates_are_refused():
    rows = [TableRow(2, {"text": "好的", "label": "affirm"}),
            TableRow(3, {"text": "半个\ud800字", "label": "complaint"}),
            TableRow(4, {"text": "空\x00字符", "label": "complaint"})]
    with pytest.raises(InvalidInput, match="第 3 行：text 列含有无效字符 U\\+D800"):
        check_rows("f.xlsx", rows, intents={"affirm", "complaint"}, training={}, faq_entries=list)
    with pytest.raises(InvalidInput, match="第 4 行：text 列含有无效字符 U\\+0000"):
        check_rows("f.xlsx", rows[2:], intents={"complaint"}, training={}, faq_entries=list)


def test_a_nul_in_a_csv_is_refused_with_its_line(db, tmp_path, faq_path, editors):
    path = tmp_path / "nul.csv"
    write_table(path, [GOOD_ROW, FAQ_ROW])
    path.write_bytes(path.read_bytes() + "坏\x00行,,,,,,,,,,,complaint,,\n".encode())
    with pytest.raises(InvalidInput, match="第 4 行含有空字符"):
        import_labels(path, db, intents_path=INTENTS, faq_path=faq_path, make_editor=editors, by="x", now=NOW)
    assert annotations(db) == {} and "learned" not in faq_path.read_text(encoding="utf-8")


def test_a_failure_after_the_faq_edit_puts_the_faq_back(backend, db, tmp_path, faq_path, editors, monkeypatch):
    before = load_faq(faq_path)

    def broken(*args, **kwargs):
        raise Conflict("同一句话正被同时标注，请重试", "annotation_race")

    monkeypatch.setattr(importer, "label_texts", broken)
    with pytest.raises(Conflict):
        run_import(db, tmp_path, faq_path, editors, [GOOD_ROW, FAQ_ROW])
    assert load_faq(faq_path) == before and annotations(db) == {} and audit_count(db) == 0
    assert editors.built[0].desk.retriever.entries == tuple(before)  # the live index too


def test_an_unmigrated_database_is_refused_before_anything(tmp_path, faq_path, editors):
    database = Database(f"sqlite:///{tmp_path / 'bare.db'}")
    try:
        with pytest.raises(Exception, match="chatbot db upgrade"):
            run_import(database, tmp_path, faq_path, editors, [GOOD_ROW, FAQ_ROW])
    finally:
        database.dispose()
    assert editors.built == []


# --- the store ----------------------------------------------------------------------------------

def label(db, texts, intent, **options):
    with db.write() as session:
        return label_texts(session, [(t, None) for t in texts], intent, by="page:ana", source="page", now=NOW,
                           **options)


def test_label_texts_dedupes_against_training_and_refuses_a_conflict(backend, db):
    training = training_keys(INTENTS)
    outcome = label(db, ["请回电", "请回电。"], "human.request", training_keys=training)
    assert (outcome.added, outcome.unchanged, outcome.in_training) == (1, 0, 0)
    same = label(db, ["你好!"], "greet", training_keys=training)
    assert (same.added, same.in_training) == (0, 1)
    with pytest.raises(Conflict, match="greet"):
        label(db, ["你好"], "complaint", training_keys=training)
    with pytest.raises(InvalidInput):
        label(db, ["没有条目"], "faq")  # a faq label names its entry
    assert set(annotations(db)) == {"请回电"}  # the training phrasing is not stored


def test_labelled_keys_and_the_admin_listing(db):
    label(db, ["请回电"], "human.request")
    label(db, ["asdf"], "ignore")
    label(db, ["卡不见了"], "faq", faq_id="lost")
    with db.read() as session:
        assert labelled_keys(session) == {text_key(t) for t in ("请回电", "asdf", "卡不见了")}
        listed = list_annotations(session, limit=2)
        only = list_annotations(session, label="faq")
        trainable = overlay_examples(session)
    assert [row["text"] for row in listed] == ["卡不见了", "asdf"]  # newest first
    assert only[0]["faq_id"] == "lost" and only[0]["source"] == "page" and only[0]["annotated_by"] == "page:ana"
    # "faq" is the classifier's intent for knowledge questions: it trains; "ignore" never does.
    assert [(e.intent, e.text) for e in trainable] == [("human.request", "请回电"), ("faq", "卡不见了")]


def _sides(db) -> tuple[dict[int, tuple[str, str]], dict[int, tuple[str, str]]]:
    """(train, held out) of overlay_split as annotation id -> (intent, text): `Example`
    equality ignores the annotation id, these do not."""
    with db.read() as session:
        train, held = overlay_split(session)
    return ({e.annotation_id: (e.intent, e.text) for e in train}, {e.annotation_id: (e.intent, e.text) for e in held})


def test_overlay_split_holds_out_one_in_five_by_key(backend, db):
    many = [f"回电话{n}次" for n in range(12)]
    few = [f"火大{n}" for n in range(4)]
    label(db, many, "human.request")
    label(db, few, "complaint")
    with db.read() as session:
        train, held = overlay_split(session)
        again = overlay_split(session)
    assert [(e.annotation_id, e.text) for e in train + held] == [(e.annotation_id, e.text) for e in again[0] + again[1]]
    # Each phrasing on its own: held out when its key is a multiple of 5, whatever its intent's size.
    assert {e.text for e in held} == {t for t in many + few if is_held_out(text_key(t))}
    assert [e.text for e in train] == [t for t in many + few if not is_held_out(text_key(t))]  # oldest first
    assert all(e.annotation_id for e in train + held)
    assert {e.annotation_id for e in train}.isdisjoint(e.annotation_id for e in held)


def test_a_phrasing_never_changes_side_as_more_are_labelled(db):
    first = [f"我想问问第{n}号网点几点开门" for n in range(40)]
    label(db, first, "faq", faq_id="lost")
    label(db, ["火大"], "complaint")
    train_before, held_before = _sides(db)
    assert held_before and train_before  # both sides in play
    for batch in range(3):  # more labels of the same intent, of another, and relabelled ones
        label(db, [f"第{batch}批说法{n}" for n in range(30)], "faq", faq_id="lost")
        label(db, [f"另一批{batch}-{n}" for n in range(7)], "complaint")
        train_after, held_after = _sides(db)
        assert {i: v for i, v in train_after.items() if i in train_before} == train_before
        assert {i: v for i, v in held_after.items() if i in held_before} == held_before
    label(db, first[:10], "complaint")  # relabelled: the phrasing stays where it was
    train_after, held_after = _sides(db)
    assert set(train_after) >= set(train_before) and set(held_after) >= set(held_before)


def test_about_one_in_five_is_held_out_over_many_phrasings(db):
    texts = [f"客户问法{n}：卡怎么了" for n in range(2000)]
    label(db, texts, "faq", faq_id="lost")
    train, held = _sides(db)
    assert len(train) + len(held) == 2000
    assert 0.17 <= len(held) / 2000 <= 0.23, len(held)
    small = [f"只有两句{n}" for n in range(300)]  # intents with few labels too: 1 in 5, not none
    for n, text in enumerate(small):
        label(db, [text], f"intent.n{n % 150}")
    _train, held = _sides(db)
    held_small = [t for _i, t in held.values() if t.startswith("只有两句")]
    assert 0.1 <= len(held_small) / 300 <= 0.3, len(held_small)


# --- keys ---------------------------------------------------------------------------------------

def test_keys_fold_width_script_case_and_punctuation_only():
    assert text_key("轉賬！") == text_key("转账") and text_key("轉帳") == text_key("转帐")  # the same after t2s
    assert text_key("ＡＢＣ 銀行？") == text_key("abc银行") and comparable("余额 多少!!") == "余额多少"
    assert text_key("转帐") != text_key("转账")  # a spelling variant of data/synonyms.yaml: two phrasings
    assert comparable("挂时") == "挂时" and comparable("啊啊啊啊") == "啊啊啊啊"  # no typo fix, no squeezing
    assert comparable("？？") == "??" and comparable("👍👍") == ""


def test_keys_do_not_change_with_the_synonyms_or_the_dictionary(tmp_path, monkeypatch):
    import yaml

    from chatbot.nlu import normalize

    texts = ["请回电", "转帐", "帐单", "我的卡挂时了", "mortgage rate多少", "余额多少？", "哈哈哈哈"]
    before = {t: text_key(t) for t in texts}
    synonyms = yaml.safe_load((DATA_DIR / "synonyms.yaml").read_text(encoding="utf-8"))
    synonyms["synonyms"]["回拨电话"] = ["回电"]
    synonyms["synonyms"].pop("转账", None)
    (tmp_path / "synonyms.yaml").write_text(yaml.safe_dump(synonyms, allow_unicode=True), encoding="utf-8")
    (tmp_path / "banking_dict.txt").write_text("回拨电话 100 n\n", encoding="utf-8")
    changed = normalize.Normalizer(tmp_path)
    assert changed.normalize("请回电").text != normalize.default_normalizer().normalize("请回电").text
    monkeypatch.setattr(normalize, "default_normalizer", lambda: changed)
    assert {t: text_key(t) for t in texts} == before


# --- FAQ edits from several processes, learned ids, masking, the similar cap ----------------------

def test_an_import_and_a_stale_workers_page_edit_keep_each_other(db, tmp_path, faq_path, editors):
    from knowledge.faq.editor import FaqEditor

    worker = FaqEditor(KnowledgeDesk.load(faq_path, None, index_dir=None), faq_path)  # started before
    summary = run_import(db, tmp_path, faq_path, editors, [FAQ_ROW])
    assert summary.faq_ids == ("learned-0001",)
    cheque = new_faq_entry(worker, "支票怎么兑现？", "请持支票到出票行网点办理。", ["支票能取现吗"])
    assert cheque.id == "learned-0002"  # not learned-0001 again: that one is the import's
    assert [e.id for e in load_faq(faq_path)] == ["lost", "fee", "rate", "learned-0001", "learned-0002"]
    assert annotations(db)["美元现金能存到卡里吗"].faq_id == "learned-0001"
    assert next(e for e in load_faq(faq_path) if e.id == "learned-0001").question == NEW_QUESTION
    assert worker.desk.retriever.decide(NEW_QUESTION).entry.id == "learned-0001"  # the worker has both now


def test_a_batch_editor_loaded_before_another_edit_applies_to_the_file_as_it_is(db, tmp_path, faq_path):
    from knowledge.faq.editor import FaqEditor

    stale = BatchFaqEditor(KnowledgeDesk.load(faq_path, None, index_dir=None), faq_path)
    worker = FaqEditor(KnowledgeDesk.load(faq_path, None, index_dir=None), faq_path)
    worker.create({"id": "safe-001", "question": "保管箱怎么租？", "answer": "请到网点申请。", "category": "服务"})
    summary = run_import(db, tmp_path, faq_path, lambda: stale, [
        FAQ_ROW, {"text": "保险箱能租吗", "label": "faq", "faq_question": "safe-001"}])  # names the worker's entry
    assert (summary.faq_created, summary.faq_extended) == (1, 1)
    entries = {e.id: e for e in load_faq(faq_path)}
    assert list(entries) == ["lost", "fee", "rate", "safe-001", "learned-0001"]
    assert entries["safe-001"].similar == ("保险箱能租吗",)


def test_learned_ids_are_never_given_again(db, tmp_path, faq_path, editors):
    from knowledge.faq.editor import FaqEditor
    from training.annotations.faq_entries import counter_path

    editor = FaqEditor(KnowledgeDesk.load(faq_path, None, index_dir=None), faq_path)
    first = new_faq_entry(editor, "支票怎么兑现？", "请持支票到出票行网点办理。", [])
    editor.delete(first.id)
    second = new_faq_entry(editor, "支票怎么兑现？", "请持支票到出票行网点办理。", [])
    assert (first.id, second.id) == ("learned-0001", "learned-0002")
    assert counter_path(faq_path).read_text(encoding="ascii").strip() == "2"
    # Without the counter (a restored directory), the labels in the database still count.
    editor.delete(second.id)
    counter_path(faq_path).unlink()
    label(db, ["旧的说法"], "faq", faq_id="learned-0009")
    summary = run_import(db, tmp_path, faq_path, editors, [FAQ_ROW])
    assert summary.faq_ids == ("learned-0010",)


def test_putting_back_after_a_failure_keeps_another_workers_edit(db, tmp_path, faq_path, editors, monkeypatch):
    from knowledge.faq.editor import FaqEditor

    worker = FaqEditor(KnowledgeDesk.load(faq_path, None, index_dir=None), faq_path)

    def broken(*args, **kwargs):  # meanwhile a worker's page edit lands, then the labels fail
        worker.create({"id": "safe-001", "question": "保管箱怎么租？", "answer": "请到网点申请。", "category": "服务"})
        raise Conflict("同一句话正被同时标注，请重试", "annotation_race")

    monkeypatch.setattr(importer, "label_texts", broken)
    with pytest.raises(Conflict):
        run_import(db, tmp_path, faq_path, editors, [
            FAQ_ROW, {"text": "年费贵不贵", "label": "faq", "faq_question": "fee"}])
    entries = {e.id: e for e in load_faq(faq_path)}
    assert list(entries) == ["lost", "fee", "rate", "safe-001"]  # the import's edit taken back, the worker's kept
    assert entries["fee"].similar == ("年费怎么收", "信用卡要交年费吗")
    assert annotations(db) == {} and audit_count(db) == 0
    assert {e.id for e in editors.built[0].desk.retriever.entries} == set(entries)


def test_faq_question_is_masked_and_an_answer_with_a_personal_number_is_refused(db, tmp_path, faq_path, editors):
    phone_question = "手机号13812345678换了怎么改绑定的卡？"
    summary = run_import(db, tmp_path, faq_path, editors, [
        {"text": "换手机号了卡怎么办", "label": "faq", "faq_question": phone_question,
         "faq_answer": "请拨打95588或到网点办理，手续费10元。"}])  # a hotline and a fee are not personal
    entry = next(e for e in load_faq(faq_path) if e.id == summary.faq_ids[0])
    assert entry.question == "手机号138****5678换了怎么改绑定的卡？" and "13812345678" not in faq_path.read_text("utf-8")
    assert entry.answer == "请拨打95588或到网点办理，手续费10元。"
    before = faq_path.read_bytes()
    for answer in ("请联系客户经理，电话 139 1234 5678。", "示例：身份证 110101199003071234 的客户请到网点。",
                   "退款到卡 6222021234567890123。"):
        with pytest.raises(InvalidInput) as refused:
            run_import(db, tmp_path, faq_path, editors, [GOOD_ROW, {**FAQ_ROW, "faq_answer": answer}])
        assert refused.value.message.startswith("labels.csv 第 3 行：faq_answer 含有身份证号、银行卡号或手机号")
    assert faq_path.read_bytes() == before


def test_learned_phrasings_stop_at_the_shared_limit(db, tmp_path, faq_path, editors):
    from knowledge.faq.store import MAX_PHRASING_LENGTH, MAX_SIMILAR

    full = [f"年费第{n}种问法" for n in range(MAX_SIMILAR - 1)]
    faq_path.write_text(FAQ.replace("similar: [年费怎么收, 信用卡要交年费吗]", f"similar: [{', '.join(full)}]"),
                        encoding="utf-8")
    long_text = "我想问一下" + "年费" * MAX_PHRASING_LENGTH  # a customer's long message: labelled, not a phrasing
    rows = [{"text": "年费贵不贵", "label": "faq", "faq_question": "fee"},
            {"text": "年费能不能免", "label": "faq", "faq_question": "fee"},
            {"text": "年费到底多少钱", "label": "faq", "faq_question": "fee"},
            {"text": long_text[:500], "label": "faq", "faq_question": NEW_QUESTION, "faq_answer": NEW_ANSWER},
            {"text": "美元现金能存到卡里吗", "label": "faq", "faq_question": NEW_QUESTION}]
    summary = run_import(db, tmp_path, faq_path, editors, rows)
    entries = {e.id: e for e in load_faq(faq_path)}
    assert len(entries["fee"].similar) == MAX_SIMILAR and entries["fee"].similar[-1] == "年费贵不贵"
    assert entries["learned-0001"].similar == ("美元现金能存到卡里吗",)
    assert summary.faq_left_out == 3 and summary.labels.added == 5
    assert f"3 句未加入 FAQ 问法（每条 FAQ 最多 {MAX_SIMILAR} 个问法" in summary.line()
    assert annotations(db)["年费到底多少钱"].faq_id == "fee"  # the label is kept all the same
