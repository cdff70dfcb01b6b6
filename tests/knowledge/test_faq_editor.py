"""FAQ edits from several workers at once: every edit takes the FAQ file's lock, applies to the
file as it is then (not to the editor's own, possibly stale, copy) and writes it whole.

Two `KnowledgeDesk` + `FaqEditor` pairs over one file stand for two serving workers, each of
which loaded the FAQ at its start; a subprocess stands for another process holding the lock.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from chatbot.errors import Conflict, NotFound, ServiceUnavailable
from knowledge.desk import KnowledgeDesk
from knowledge.faq.editor import FaqEditor, lock_path
from knowledge.faq.store import load_faq
from tests.faq_samples import SMALL_FAQ as FAQ


def entry(entry_id: str, question: str, answer: str = "请咨询网点。", category: str = "服务") -> dict:
    return {"id": entry_id, "question": question, "similar": [], "answer": answer, "category": category}


@pytest.fixture
def faq(tmp_path) -> Path:
    path = tmp_path / "faq.yaml"
    path.write_text(FAQ, encoding="utf-8")
    return path


@pytest.fixture
def workers(faq):
    """Two workers' editors, both started (FAQ loaded) before any edit."""
    return [FaqEditor(KnowledgeDesk.load(faq, None, index_dir=None), faq) for _ in range(2)]


def ids(path: Path) -> list[str]:
    return [e.id for e in load_faq(path)]


def test_a_create_on_a_stale_worker_keeps_the_other_workers_entry(faq, workers):
    first, second = workers
    first.create(entry("safe-001", "保管箱怎么租？"))
    second.create(entry("safe-002", "保管箱钥匙丢了怎么办？"))
    assert ids(faq) == ["lost", "fee", "rate", "safe-001", "safe-002"]
    # The stale worker's own index now has both (it edited the file as it was).
    assert {e.id for e in second.desk.retriever.entries} == set(ids(faq))
    assert second.desk.retriever.decide("保管箱怎么租").entry.id == "safe-001"


def test_update_and_delete_apply_to_the_file_as_it_is(faq, workers):
    first, second = workers
    first.update("fee", {**entry("fee", "信用卡年费多少？", "金卡年费 800 元。", "信用卡")})
    second.update("rate", {**entry("rate", "房贷利率是多少？", "首套房贷利率以合同为准。", "贷款")})
    answers = {e.id: e.answer for e in load_faq(faq)}
    assert answers["fee"] == "金卡年费 800 元。" and answers["rate"] == "首套房贷利率以合同为准。"
    first.create(entry("safe-001", "保管箱怎么租？"))
    second.delete("safe-001")  # an entry its desk never saw
    assert "safe-001" not in ids(faq)
    with pytest.raises(NotFound):
        first.delete("safe-001")  # gone for everyone, though first's copy had it
    second.create(entry("safe-001", "保管箱怎么租？"))
    with pytest.raises(Conflict):
        first.create(entry("safe-001", "另一个问题？"))  # the id exists in the file now


def test_a_hand_edit_of_the_file_is_not_overwritten(faq, workers):
    first, _ = workers
    first.create(entry("safe-001", "保管箱怎么租？"))
    text = faq.read_text(encoding="utf-8") + "- id: hand\n  question: 手工加的问题？\n  answer: 手工答案。\n  category: 服务\n"
    faq.write_text(text, encoding="utf-8")  # rewritten in place: same inode, maybe the same mtime tick
    first.create(entry("safe-002", "保管箱钥匙丢了怎么办？"))
    assert ids(faq) == ["lost", "fee", "rate", "safe-001", "hand", "safe-002"]


def test_edits_from_many_threads_and_two_workers_all_land(faq, workers):
    errors = []

    def edit(editor: FaqEditor, worker: int) -> None:
        try:
            for n in range(4):
                editor.create(entry(f"w{worker}-{n}", f"第{worker}个工作进程的第{n}个问题？"))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=edit, args=(workers[n % 2], n)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(ids(faq)[3:]) == sorted(f"w{w}-{n}" for w in range(4) for n in range(4))
    assert not [p for p in faq.parent.iterdir() if p.name.endswith(".tmp")]  # no temporary left


HOLD = """\
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
if len(sys.argv) > 3:  # another process's edit, made while it holds the lock
    with open(sys.argv[3], "a", encoding="utf-8") as faq:
        faq.write("- id: other\\n  question: 另一个进程加的？\\n  answer: 是的。\\n  category: 服务\\n")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_lock(faq: Path, seconds: float, *, append: bool = False) -> subprocess.Popen:
    args = [sys.executable, "-c", HOLD, str(lock_path(faq)), str(seconds)] + ([str(faq)] if append else [])
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "locked"
    finally:
        process.stdout.close()
    return process


def test_an_edit_waits_for_another_process_holding_the_lock(faq):
    editor = FaqEditor(KnowledgeDesk.load(faq, None, index_dir=None), faq, lock_timeout=0.3)
    holder = hold_lock(faq, 30)
    try:
        with pytest.raises(ServiceUnavailable) as busy:
            editor.create(entry("safe-001", "保管箱怎么租？"))
        assert busy.value.code == "faq_busy"
    finally:
        holder.kill()
        holder.wait()
    assert "safe-001" not in ids(faq)

    editor.lock_timeout = 30
    holder = hold_lock(faq, 0.5, append=True)
    started = time.monotonic()
    try:
        editor.create(entry("safe-001", "保管箱怎么租？"))
    finally:
        holder.wait()
    assert time.monotonic() - started >= 0.3  # it waited for the other process
    assert ids(faq) == ["lost", "fee", "rate", "other", "safe-001"]  # and kept that process's edit
    assert lock_path(faq).exists() and lock_path(faq).parent == faq.parent


def test_a_failed_edit_leaves_the_file_and_the_index(faq, workers, monkeypatch):
    first, _ = workers
    before, index = faq.read_bytes(), first.desk.retriever
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        first.create(entry("safe-001", "保管箱怎么租？"))
    monkeypatch.undo()
    assert faq.read_bytes() == before and first.desk.retriever is index
    assert not [p for p in faq.parent.iterdir() if p.name.endswith(".tmp")]
