"""The FAQ index is built once per content and loaded from its artifact everywhere else.

A small FAQ (built in well under a second) in temporary directories; nothing is written
under the repository's `var/`.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

import knowledge.faq.index_store as index_store
from knowledge.desk import KnowledgeDesk
from knowledge.faq.editor import FaqEditor
from knowledge.faq.index_store import IndexStore, load_retriever

FAQ = """\
- id: lost
  question: 银行卡丢了怎么挂失？
  similar: [卡丢了咋办, 借记卡被偷了怎么办, 卡找不到了]
  answer: 请尽快通过手机银行或客服热线办理挂失。
  category: 银行卡
  tags: [挂失, 丢卡]
- id: swallowed
  question: ATM 吞卡了怎么办？
  similar: [取款机把卡吃了, 卡被机器吞了, 吞卡后怎么取回]
  answer: 请持身份证到该 ATM 所属网点领取。
  category: 银行卡
  tags: [吞卡]
- id: fee
  question: 信用卡年费多少？
  similar: [年费怎么收, 信用卡要交年费吗]
  answer: 普卡首年免年费，刷卡满 6 次免次年年费。
  category: 信用卡
- id: limit
  question: 信用卡额度怎么提升？
  similar: [怎么提额, 额度太低了能调高吗]
  answer: 可在手机银行申请临时或永久提额。
  category: 信用卡
  tags: [提额]
- id: rate
  question: 房贷利率是多少？
  similar: [买房贷款利息多少, 房贷利息怎么算]
  answer: 以贷款合同约定的利率为准。
  category: 贷款
"""
TRAINING = """\
lost:
  - 钱包被偷了卡也在里面
swallowed:
  - 机器不吐卡
"""
QUESTIONS = ["卡丢了", "取款机吞了我的卡", "年费", "信用卡年费怎么收", "提额", "房贷利息", "今天天气怎么样",
             "我的卡被机器吃了怎么办", "钱包丢了"]


@pytest.fixture
def faq(tmp_path) -> Path:
    path = tmp_path / "faq" / "faq.yaml"
    path.parent.mkdir()
    path.write_text(FAQ, encoding="utf-8")
    path.with_name("faq.training.yaml").write_text(TRAINING, encoding="utf-8")
    return path


@pytest.fixture
def index_dir(tmp_path) -> Path:
    return tmp_path / "models" / "faq_index"


def results(retriever) -> list:
    return [[(hit.entry.id, hit.score, hit.matched) for hit in retriever.search(q, 5)] for q in QUESTIONS] + \
        [(d.kind, [h.entry.id for h in d.options]) for d in map(retriever.decide, QUESTIONS)]


def artifacts(index_dir: Path) -> list[Path]:
    return sorted(index_dir.glob("*.npz"))


def test_a_warm_load_answers_exactly_as_a_fresh_build(faq, index_dir):
    built = load_retriever(faq, index_dir)
    loaded = load_retriever(faq, index_dir)
    fresh = load_retriever(faq, None)
    assert built.built and not loaded.built and fresh.built
    assert len(artifacts(index_dir)) == 1 and not list(index_dir.glob(".*"))  # no temporary left
    assert results(loaded.retriever) == results(fresh.retriever) == results(built.retriever)
    # Loaded lazily, but the same phrasings' analyses as a build's.
    assert loaded.retriever.index.phrasings == fresh.retriever.index.phrasings


def test_the_real_faq_round_trips_exactly(tmp_path, retriever):
    """The shipped FAQ (342 entries with their training phrasings): same ids and scores."""
    from chatbot.settings import DATA_DIR
    from knowledge.faq.index_store import FaqSource

    source = FaqSource.read(DATA_DIR / "faq.yaml")
    store = IndexStore(tmp_path)
    store.save(source.key, retriever.index)
    loaded = load_retriever(DATA_DIR / "faq.yaml", tmp_path, source=source)
    assert not loaded.built
    questions = ["ATM吞卡了怎么办", "信用卡年费多少", "怎么挂失", "房贷利率", "转帐限额", "年费", "有没有活人"]
    assert results_for(loaded.retriever, questions) == results_for(retriever, questions)


def results_for(retriever, questions) -> list:
    return [[(h.entry.id, h.score) for h in retriever.search(q, 10)] for q in questions]


@pytest.mark.parametrize("change", ["faq", "training", "training_removed", "format"])
def test_a_change_of_what_the_index_depends_on_rebuilds(faq, index_dir, monkeypatch, change):
    first = load_retriever(faq, index_dir)
    if change == "faq":
        faq.write_text(FAQ.replace("普卡首年免年费", "金卡年费 800 元"), encoding="utf-8")
    elif change == "training":
        faq.with_name("faq.training.yaml").write_text(TRAINING + "fee:\n  - 年费能免吗\n", encoding="utf-8")
    elif change == "training_removed":
        faq.with_name("faq.training.yaml").unlink()
    else:
        monkeypatch.setattr(index_store, "FORMAT_VERSION", index_store.FORMAT_VERSION + 1)
    second = load_retriever(faq, index_dir)
    assert second.built and second.key != first.key
    assert len(artifacts(index_dir)) == 2
    assert results(second.retriever) == results(load_retriever(faq, None).retriever)
    assert not load_retriever(faq, index_dir).built  # and the new one is loaded next time


def test_an_artifact_under_another_key_is_never_loaded(faq, index_dir, caplog):
    first = load_retriever(faq, index_dir)
    faq.write_text(FAQ.replace("普卡首年免年费", "金卡年费 800 元"), encoding="utf-8")
    key = index_store.FaqSource.read(faq).key
    os.replace(index_store.IndexStore(index_dir).path(first.key), index_store.IndexStore(index_dir).path(key))
    with caplog.at_level(logging.WARNING, logger="knowledge.faq.index_store"):
        second = load_retriever(faq, index_dir)
    assert second.built and "does not fit" in caplog.text
    assert second.retriever.get("fee").answer == "金卡年费 800 元，刷卡满 6 次免次年年费。"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "flipped"])
def test_a_corrupt_artifact_is_logged_and_rebuilt(faq, index_dir, caplog, damage):
    first = load_retriever(faq, index_dir)
    path = IndexStore(index_dir).path(first.key)
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x93NUMPY not really" * 100)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    with caplog.at_level(logging.WARNING, logger="knowledge.faq.index_store"):
        again = load_retriever(faq, index_dir)
    assert again.built
    assert str(path) in caplog.text and "building it again" in caplog.text
    assert results(again.retriever) == results(first.retriever)
    assert not load_retriever(faq, index_dir).built  # the rebuilt one replaced it


def test_an_unwritable_directory_still_serves(faq, tmp_path, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="knowledge.faq.index_store"):
        loaded = load_retriever(faq, blocker / "faq_index")
    assert loaded.built and "could not be saved" in caplog.text
    assert loaded.retriever.search("卡丢了", 1)[0].entry.id == "lost"


def test_two_builders_at_once_leave_one_valid_artifact(faq, index_dir, monkeypatch):
    """Both build and write (a barrier holds them until both have built); the last rename
    wins and what is left loads and answers like a fresh build."""
    barrier = threading.Barrier(2, timeout=60)
    save = IndexStore.save

    def save_together(self, key, index, **details):
        barrier.wait()
        return save(self, key, index, **details)

    monkeypatch.setattr(IndexStore, "save", save_together)
    found, errors = [], []

    def build():
        try:
            found.append(load_retriever(faq, index_dir))
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.setattr(IndexStore, "save", save)
    assert errors == [] and [loaded.built for loaded in found] == [True, True]
    assert len(artifacts(index_dir)) == 1 and not list(index_dir.glob(".*"))
    loaded = load_retriever(faq, index_dir)
    assert not loaded.built and results(loaded.retriever) == results(found[0].retriever)


def test_a_reader_never_sees_a_half_written_artifact(faq, index_dir, monkeypatch):
    """While one process writes, the final name holds the previous complete file or nothing."""
    first = load_retriever(faq, index_dir)
    store = IndexStore(index_dir)
    target = store.path(first.key)
    seen = []
    replace = os.replace

    def observing_replace(source, destination):
        seen.append((Path(source).name.startswith("."), Path(destination) == target,
                     target.read_bytes() == before))
        return replace(source, destination)

    before = target.read_bytes()
    monkeypatch.setattr(index_store.os, "replace", observing_replace)
    store.save(first.key, first.retriever.index)
    assert seen == [(True, True, True)]


def test_only_the_newest_artifacts_are_kept(faq, index_dir):
    for n in range(index_store.KEEP + 2):
        faq.write_text(FAQ.replace("普卡首年免年费", f"普卡首年免年费（{n}）"), encoding="utf-8")
        latest = load_retriever(faq, index_dir)
    assert len(artifacts(index_dir)) == index_store.KEEP
    assert IndexStore(index_dir).path(latest.key).exists()


def test_the_desk_loads_from_the_environment_directory_and_warm_loads_answer_alike(faq, index_dir, monkeypatch):
    monkeypatch.setenv(index_store.ENVIRONMENT_VARIABLE, str(index_dir))
    cold = KnowledgeDesk.load(faq, None)
    warm = KnowledgeDesk.load(faq, None)
    assert len(artifacts(index_dir)) == 1
    assert results(warm.retriever) == results(cold.retriever)
    monkeypatch.delenv(index_store.ENVIRONMENT_VARIABLE)
    plain = KnowledgeDesk.load(faq, None)
    assert plain.index_store is None and results(plain.retriever) == results(cold.retriever)


def test_an_admin_edit_reindexes_and_other_workers_load_its_index(faq, index_dir):
    editing = KnowledgeDesk.load(faq, None, index_dir=index_dir)
    other = KnowledgeDesk.load(faq, None, index_dir=index_dir)
    other.check_every = 0
    assert not other.refresh()  # nothing changed yet
    FaqEditor(editing, faq).update("fee", {"question": "信用卡年费多少？", "similar": ["年费怎么收"],
                                           "answer": "金卡年费 800 元。", "category": "信用卡", "tags": ["年费"]})
    assert editing.retriever.search("信用卡年费怎么收", 1)[0].entry.answer == "金卡年费 800 元。"
    assert len(artifacts(index_dir)) == 2  # the editor saved the edited index

    loads = []
    original = IndexStore.load
    IndexStore.load = lambda self, *a, **k: loads.append(found := original(self, *a, **k)) or found
    try:
        os.utime(faq, ns=(faq.stat().st_atime_ns, faq.stat().st_mtime_ns + 1))  # in case of a coarse clock
        assert other.refresh()
    finally:
        IndexStore.load = original
    assert loads and loads[-1] is not None  # the other worker loaded the editor's index, no rebuild
    assert other.retriever.search("信用卡年费怎么收", 1)[0].entry.answer == "金卡年费 800 元。"
    assert results(other.retriever) == results(editing.retriever) == results(load_retriever(faq, None).retriever)
    # A worker starting now loads it too.
    assert not load_retriever(faq, index_dir).built


def test_an_edit_after_a_warm_load_reanalyzes_only_what_changed(faq, index_dir):
    load_retriever(faq, index_dir)
    desk = KnowledgeDesk.load(faq, None, index_dir=index_dir)
    analyzer = desk.retriever.analyzer
    analyzed = []
    analyze = analyzer.analyze
    analyzer.analyze = lambda text: analyzed.append(text) or analyze(text)
    FaqEditor(desk, faq).update("rate", {"question": "房贷利率是多少？", "similar": ["房贷利息怎么算", "公积金贷款利率"],
                                         "answer": "以贷款合同约定的利率为准。", "category": "贷款"})
    assert analyzed == ["公积金贷款利率"]
    assert results(desk.retriever) == results(load_retriever(faq, None).retriever)


def test_a_refresh_to_a_broken_file_keeps_the_last_index(faq, index_dir, caplog):
    desk = KnowledgeDesk.load(faq, None, index_dir=index_dir)
    desk.check_every = 0
    faq.write_text(FAQ + "- id: lost\n  question: 重复\n  answer: 重复\n  category: 银行卡\n", encoding="utf-8")
    os.utime(faq, ns=(faq.stat().st_atime_ns, faq.stat().st_mtime_ns + 1))
    with caplog.at_level(logging.ERROR, logger="knowledge.desk"):
        assert not desk.refresh()
    assert "duplicate id" in caplog.text
    assert desk.retriever.search("卡丢了", 1)[0].entry.id == "lost"


# --- what `chatbot serve` runs before its workers start ---------------------------------------

def test_serve_check_builds_when_missing_and_then_only_looks(faq, index_dir, monkeypatch):
    first = index_store.ensure_saved(faq, index_dir)
    assert first.built and first.path.exists() and first.path == IndexStore(index_dir).path(first.key)
    # Saved for exactly these files: nothing is parsed, loaded or built.
    monkeypatch.setattr(index_store, "load_retriever", lambda *a, **k: pytest.fail("loaded the index"))
    monkeypatch.setattr(index_store.FaqSource, "entries", lambda self: pytest.fail("parsed the FAQ"))
    second = index_store.ensure_saved(faq, index_dir)
    assert not second.built and second.key == first.key
    monkeypatch.undo()
    assert not load_retriever(faq, index_dir).built  # what a worker then loads


def test_serve_check_rebuilds_a_changed_faq_or_a_truncated_artifact(faq, index_dir, caplog):
    first = index_store.ensure_saved(faq, index_dir)
    first.path.write_bytes(first.path.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING, logger="knowledge.faq.index_store"):
        again = index_store.ensure_saved(faq, index_dir)
    assert again.built and "building it again" in caplog.text
    assert not load_retriever(faq, index_dir).built
    faq.write_text(FAQ.replace("普卡首年免年费", "金卡年费 800 元"), encoding="utf-8")
    changed = index_store.ensure_saved(faq, index_dir)
    assert changed.built and changed.key != first.key


def test_serve_check_refuses_a_malformed_faq(faq, index_dir):
    from knowledge.faq.store import FaqFileError

    faq.write_text("- id: fee-1\n  question: 年费多少\n  answer: ''\n  category: 信用卡\n", encoding="utf-8")
    with pytest.raises(FaqFileError):
        index_store.ensure_saved(faq, index_dir)
