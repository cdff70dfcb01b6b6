"""Admin edits of the FAQ: create, update, delete; saved to the FAQ file and live at once.

The file stays the source of truth (`CHATBOT_FAQ_PATH`): every edit rewrites it atomically
and swaps the running index (`KnowledgeDesk.install`), and saves the new index where the desk keeps
built ones. Other workers on the same host pick the new file up through `KnowledgeDesk.refresh`,
which loads that saved index instead of indexing again.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import yaml

from chatbot.errors import Conflict, NotFound
from knowledge.desk import KnowledgeDesk
from knowledge.faq.store import FaqEntry, validate_entry

HEADER = ("# 示例银行 FAQ（由管理后台维护）。文中的费用、利率、限额等数字均为示例数据。\n"
          "# 格式：列表，每项 {id, question, similar: [...], answer, category, tags?, offers?}\n"
          "# tags 是编辑维护的检索关键词：别名、口语说法、所问的方面（收费/多久/材料…），与问法一起参与检索。\n"
          "# offers 是答案所讲的业务（意图名，如 card.repay）：回答后主动提出可在对话中直接办理。\n")


class FaqEditor:
    def __init__(self, desk: KnowledgeDesk, path: Path) -> None:
        self.desk = desk
        self.path = Path(path)
        self._lock = threading.Lock()

    def create(self, raw: dict) -> FaqEntry:
        entry = validate_entry(raw)
        with self._lock:
            entries = list(self.desk.retriever.entries)
            if any(e.id == entry.id for e in entries):
                raise Conflict(f"FAQ id 已存在：{entry.id}", "faq_id_exists")
            self._commit(entries + [entry])
        return entry

    def update(self, entry_id: str, raw: dict) -> FaqEntry:
        entry = validate_entry({**raw, "id": entry_id})
        with self._lock:
            entries = list(self.desk.retriever.entries)
            position = self._position(entries, entry_id)
            entries[position] = entry
            self._commit(entries)
        return entry

    def delete(self, entry_id: str) -> None:
        with self._lock:
            entries = list(self.desk.retriever.entries)
            del entries[self._position(entries, entry_id)]
            self._commit(entries)

    def _position(self, entries: list[FaqEntry], entry_id: str) -> int:
        for position, entry in enumerate(entries):
            if entry.id == entry_id:
                return position
        raise NotFound(f"没有 id 为 {entry_id} 的 FAQ", "faq_not_found")

    def _commit(self, entries: list[FaqEntry]) -> None:
        """Index first (a bad edit fails before the file changes), then save, then swap."""
        fresh = self.desk.retriever.with_entries(entries)
        text = HEADER + yaml.safe_dump([e.to_dict() for e in entries], allow_unicode=True, sort_keys=False)
        data = text.encode("utf-8")
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, self.path)
        self.desk.install(fresh, self.path.stat().st_mtime_ns)
        self.desk.keep(fresh, data)  # other workers load this index instead of rebuilding it
