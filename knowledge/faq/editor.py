"""Admin edits of the FAQ: create, update, delete; saved to the FAQ file and live at once.

The file stays the source of truth (`CHATBOT_FAQ_PATH`): every edit rewrites it atomically
and swaps the running index (`KnowledgeDesk.install`), and saves the new index where the desk keeps
built ones. Other workers on the same host pick the new file up through `KnowledgeDesk.refresh`,
which loads that saved index instead of indexing again.

Several processes edit the one file (every serving worker's admin routes, `chatbot annotate
import`), and each keeps its own copy of the entries. So every edit (`FaqEditor.edit`, which
create, update, delete and the learned entries of training/annotations/faq_entries.py go
through):

1. takes an exclusive `flock` on `.<faq file name>.lock` beside the FAQ file (waiting up to
   `LOCK_TIMEOUT` seconds for another process's edit);
2. reads the file again when it is not the version this editor last read or wrote (its
   inode, size, mtime or ctime differ), so the edit applies to what is there now, never to
   a copy that misses another process's edit;
3. builds the index over the edited entries, writes the file (a temporary file beside it,
   fsynced, renamed over it) and installs the index; then releases the lock.
"""
from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import yaml

from chatbot import file_lock
from chatbot.artifact_files import write_whole
from chatbot.errors import Conflict, NotFound, ServiceUnavailable
from knowledge.desk import KnowledgeDesk
from knowledge.faq.store import FaqEntry, load_faq, validate_entry

log = logging.getLogger(__name__)

HEADER = ("# 示例银行 FAQ（由管理后台维护）。文中的费用、利率、限额等数字均为示例数据。\n"
          "# 格式：列表，每项 {id, question, similar: [...], answer, category, tags?, offers?}\n"
          "# tags 是编辑维护的检索关键词：别名、口语说法、所问的方面（收费/多久/材料…），与问法一起参与检索。\n"
          "# offers 是答案所讲的业务（意图名，如 card.repay）：回答后主动提出可在对话中直接办理。\n")

# How long an edit waits for another process's edit of the same file (an edit holds the
# lock while it indexes the FAQ: seconds).
LOCK_TIMEOUT = 120.0

T = TypeVar("T")
# What `FaqEditor.edit` applies: the current entries -> (the new entries, or None to leave the
# file alone; and a result handed back to the caller).
Change = Callable[[list[FaqEntry]], tuple[Sequence[FaqEntry] | None, T]]


def lock_path(faq_path: Path) -> Path:
    """The lock file every writer of `faq_path` takes (beside it, so every process finds it)."""
    faq_path = Path(faq_path)
    return faq_path.with_name(f".{faq_path.name}.lock")


def render(entries: Sequence[FaqEntry]) -> bytes:
    """The FAQ file's content for `entries`."""
    text = HEADER + yaml.safe_dump([e.to_dict() for e in entries], allow_unicode=True, sort_keys=False)
    return text.encode("utf-8")


def _signature(path: Path, status: os.stat_result) -> tuple:
    """What tells one version of the file from another: a rewrite is a new inode (renamed over
    the old one), and size, mtime and ctime besides (an inode number can be reused)."""
    return (str(path), status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


class FaqEditor:
    def __init__(self, desk: KnowledgeDesk, path: Path, *, lock_timeout: float | None = None) -> None:
        self.desk = desk
        self.path = Path(path)  # tests point an app's editor at a copy of the file
        self.lock_timeout = LOCK_TIMEOUT if lock_timeout is None else lock_timeout
        self._lock = threading.Lock()
        # The entries of the version of the file this editor last read or wrote, and that version.
        self._entries: tuple[FaqEntry, ...] | None = None
        self._seen: tuple | None = None

    # --- the admin API's edits -------------------------------------------------------------------
    def create(self, raw: dict) -> FaqEntry:
        entry = validate_entry(raw)

        def change(entries: list[FaqEntry]):
            if any(e.id == entry.id for e in entries):
                raise Conflict(f"FAQ id 已存在：{entry.id}", "faq_id_exists")
            return entries + [entry], entry

        return self.edit(change)

    def update(self, entry_id: str, raw: dict) -> FaqEntry:
        entry = validate_entry({**raw, "id": entry_id})

        def change(entries: list[FaqEntry]):
            entries[self._position(entries, entry_id)] = entry
            return entries, entry

        return self.edit(change)

    def delete(self, entry_id: str) -> None:
        def change(entries: list[FaqEntry]):
            del entries[self._position(entries, entry_id)]
            return entries, None

        self.edit(change)

    # --- every edit --------------------------------------------------------------------------------
    def edit(self, change: Change[T]) -> T:
        """Apply `change` to the file's current entries under the cross-process lock, and
        write, index and install what it returns (nothing when it returns None as entries).
        `change` runs while the lock is held: whatever else it must decide with no other
        writer in between (a new learned id) it decides there."""
        with self._lock, self.locked():
            entries, result = change(list(self._current()))
            if entries is not None:
                self._commit(list(entries))
            return result

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The exclusive lock of the FAQ file among processes (and editors of one process:
        each acquisition opens the lock file anew, and `flock` locks of two opens exclude
        each other)."""
        with file_lock.held(lock_path(self.path), self.lock_timeout, _busy, mode=0o644):
            yield

    def _current(self) -> tuple[FaqEntry, ...]:
        """The entries of the file as it is now: the ones this editor last read or wrote when
        the file is still that version, else read again (another process edited it)."""
        with open(self.path, "rb") as handle:
            status = os.fstat(handle.fileno())
            seen = _signature(self.path, status)
            if self._entries is not None and seen == self._seen:
                return self._entries
            data = handle.read()
        entries = tuple(load_faq(self.path, data.decode("utf-8")))
        if self._seen is not None:
            log.info("%s changed since this process last read or wrote it: editing the new version", self.path)
        self._entries, self._seen = entries, seen
        return entries

    def _position(self, entries: list[FaqEntry], entry_id: str) -> int:
        for position, entry in enumerate(entries):
            if entry.id == entry_id:
                return position
        raise NotFound(f"没有 id 为 {entry_id} 的 FAQ", "faq_not_found")

    def _commit(self, entries: list[FaqEntry]) -> None:
        """Index first (a bad edit fails before the file changes), then save, then swap."""
        fresh = self.desk.retriever.with_entries(entries)
        data = render(entries)
        self._write(data)
        status = self.path.stat()
        self._entries, self._seen = tuple(entries), _signature(self.path, status)
        self.desk.install(fresh, status.st_mtime_ns)
        self.desk.keep(fresh, data)  # other workers load this index instead of rebuilding it

    def _write(self, data: bytes) -> None:
        """The whole file or nothing, keeping the file's permissions."""
        try:
            mode = stat.S_IMODE(self.path.stat().st_mode)
        except OSError:
            mode = 0o644
        write_whole(self.path, lambda handle: handle.write(data), mode=mode)


def _busy() -> ServiceUnavailable:
    return ServiceUnavailable("FAQ 正在被另一处修改（管理后台或标注导入），请稍后重试", "faq_busy")
