"""FAQ entries: the data type, strict validation and loading from YAML.

The file (``data/faq.yaml``, or ``CHATBOT_FAQ_PATH``) is a list of mappings::

    - id: card-001                 # required, unique, non-empty string
      question: 银行卡丢了怎么挂失？  # required, non-empty string
      similar: [卡丢了咋办, ...]     # optional list of non-empty strings
      answer: 请您尽快挂失……          # required, non-empty string
      category: 银行卡               # required, non-empty string
      tags: [挂失, 借记卡]           # optional list of non-empty strings

Anything else is refused at start rather than half-loaded: a YAML syntax error
(with its line), an unknown or duplicated key, a missing or empty field, a wrong
type, a duplicate id. The message names the file, the entry (position, id, line)
and the field, so whoever edited the file can fix it without reading code.
:func:`validate_entry` applies the same rules to one entry (admin create/update).
"""
from __future__ import annotations

import re

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chatbot.errors import ChatbotError, InvalidInput

REQUIRED_TEXT_FIELDS = ("id", "question", "answer", "category")
LIST_FIELDS = ("similar", "tags")
# `offers` names the business an answer is about (an intent such as card.repay): after the
# answer the bot offers to do it ("需要我现在帮您还信用卡吗？") when it can in chat.
OPTIONAL_TEXT_FIELDS = ("offers",)
KNOWN_FIELDS = frozenset(REQUIRED_TEXT_FIELDS + LIST_FIELDS + OPTIONAL_TEXT_FIELDS)
INTENT_NAME = re.compile(r"[a-z]+\.[a-z_]+")
# An entry's `similar` phrasings as the admin API (api/routes/faq.py) accepts them and as
# analysts' labels extend them (training/annotations/faq_entries.py): one limit for both, so
# an entry learned from labels can always be saved from the admin API. A phrasing is a
# question, capped as the question is. (Not checked when the file is loaded: a hand-edited
# file with more still loads.)
MAX_SIMILAR = 200
MAX_PHRASING_LENGTH = 200
_SEQUENCE_TAG = "tag:yaml.org,2002:seq"


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ: the canonical question, its paraphrases and the answer."""

    id: str
    question: str
    similar: tuple[str, ...]
    answer: str
    category: str
    tags: tuple[str, ...] = ()
    offers: str | None = None

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its paraphrases (what retrieval indexes)."""
        return (self.question, *self.similar)

    def to_dict(self) -> dict[str, Any]:
        """The entry in the file's format (for admin export and rewriting the file)."""
        data = {"id": self.id, "question": self.question, "similar": list(self.similar),
                "answer": self.answer, "category": self.category, "tags": list(self.tags)}
        return data | ({"offers": self.offers} if self.offers else {})


class FaqEntryError(InvalidInput):
    """One entry breaks the format; ``field`` names the offending key."""

    default_code = "faq_entry_invalid"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class FaqFileError(ChatbotError):
    """The FAQ file cannot be used; the message says where and why."""

    default_code = "faq_file_invalid"

    def __init__(self, message: str, path: Path, *, index: int | None = None,
                 entry_id: str | None = None, field: str | None = None,
                 line: int | None = None) -> None:
        super().__init__(message)
        self.path, self.index, self.entry_id = path, index, entry_id
        self.field, self.line = field, line


def validate_entry(raw: Any) -> FaqEntry:
    """Check one entry mapping and build the :class:`FaqEntry`; raise :class:`FaqEntryError`."""
    if not isinstance(raw, Mapping):
        raise FaqEntryError(f"an entry must be a mapping, got {_kind(raw)}")
    unknown = sorted(str(key) for key in raw if key not in KNOWN_FIELDS)
    if unknown:
        raise FaqEntryError(f"unknown field '{unknown[0]}' (allowed: {', '.join(sorted(KNOWN_FIELDS))})",
                            field=unknown[0])
    texts = {name: _required_text(raw, name) for name in REQUIRED_TEXT_FIELDS}
    lists = {name: _optional_texts(raw, name) for name in LIST_FIELDS}
    offers = _required_text(raw, "offers") if raw.get("offers") is not None else None
    if offers is not None and not INTENT_NAME.fullmatch(offers):
        raise FaqEntryError(f"field 'offers' must be an intent name such as card.repay, got '{offers}'",
                            field="offers")
    return FaqEntry(id=texts["id"], question=texts["question"], similar=lists["similar"],
                    answer=texts["answer"], category=texts["category"], tags=lists["tags"], offers=offers)


def load_faq(path: str | Path, text: str | None = None) -> list[FaqEntry]:
    """Read and validate a FAQ file; raise :class:`FaqFileError` naming file, entry and field.

    ``text``: the file's content, already read (the FAQ index cache parses exactly the bytes
    it hashed); ``path`` then only names the file in messages.
    """
    path = Path(path)
    root = parse_yaml(path, text=text)
    if root is None or root.tag != _SEQUENCE_TAG:
        raise FaqFileError(f"{path}: expected a list of FAQ entries at the top level", path)
    entries: list[FaqEntry] = []
    first_seen: dict[str, int] = {}
    for index, (node, raw) in enumerate(zip(root.value, root.data), start=1):
        entry = _validate_in_file(path, index, node, raw)
        if entry.id in first_seen:
            raise _file_error(path, index, node, raw, "id",
                              f"duplicate id (first used by entry {first_seen[entry.id]})")
        first_seen[entry.id] = index
        entries.append(entry)
    return entries


def _validate_in_file(path: Path, index: int, node: yaml.Node, raw: Any) -> FaqEntry:
    try:
        return validate_entry(raw)
    except FaqEntryError as error:
        raise _file_error(path, index, node, raw, error.field, error.message) from None


def _file_error(path: Path, index: int, node: yaml.Node, raw: Any,
                field: str | None, problem: str) -> FaqFileError:
    entry_id = raw.get("id") if isinstance(raw, Mapping) else None
    entry_id = entry_id if isinstance(entry_id, str) and entry_id.strip() else None
    line = node.start_mark.line + 1
    where = f"entry {index}" + (f" (id '{entry_id}')" if entry_id else "") + f" at line {line}"
    # The field is usually part of the problem text already; only add it when it is not.
    detail = problem if field is None or f"'{field}'" in problem else f"field '{field}': {problem}"
    return FaqFileError(f"{path}: {where}: {detail}", path, index=index,
                        entry_id=entry_id, field=field, line=line)


def _required_text(raw: Mapping, name: str) -> str:
    if name not in raw or raw[name] is None:
        raise FaqEntryError(f"field '{name}' is missing", field=name)
    value = raw[name]
    if not isinstance(value, str):
        raise FaqEntryError(f"field '{name}' must be text, got {_kind(value)}", field=name)
    if not value.strip():
        raise FaqEntryError(f"field '{name}' is empty", field=name)
    return value.strip()


def _optional_texts(raw: Mapping, name: str) -> tuple[str, ...]:
    value = raw.get(name)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise FaqEntryError(f"field '{name}' must be a list of strings, got {_kind(value)}", field=name)
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            raise FaqEntryError(f"field '{name}' item {position} must be a string, got {_kind(item)}",
                                field=name)
        if not item.strip():
            raise FaqEntryError(f"field '{name}' item {position} is empty", field=name)
    # Order is kept (the first paraphrases are the editor's best ones); repeats add nothing.
    return tuple(dict.fromkeys(item.strip() for item in value))


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


# --- YAML with positions ------------------------------------------------------------------

@dataclass(frozen=True)
class YamlRoot:
    """The top-level node (for line numbers) beside its constructed Python value."""

    node: yaml.Node
    data: Any

    @property
    def tag(self) -> str:
        return self.node.tag

    @property
    def value(self) -> list:
        """Child nodes of a list or (key, value) node pairs of a mapping; empty for a scalar."""
        return self.node.value if isinstance(self.node.value, list) else []


# libyaml's parser (when PyYAML was built with it) reads the file ~7x faster; same nodes and marks.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice in one mapping (first at line {seen[key]})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def parse_yaml(path: Path, what: str = "FAQ file", text: str | None = None) -> YamlRoot | None:
    """Parse ``path`` (or ``text``, its content) strictly (no repeated keys); errors name the file and the line."""
    try:
        text = path.read_text(encoding="utf-8") if text is None else text
    except (OSError, UnicodeDecodeError) as error:
        raise FaqFileError(f"{path}: cannot read the {what} ({error})", path) from None
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        raise FaqFileError(f"{path}: invalid YAML{_yaml_position(error)}: {_yaml_problem(error)}",
                           path, line=_yaml_line(error)) from None
    finally:
        loader.dispose()
    if node is None:
        return None
    return YamlRoot(node, data)


def _yaml_line(error: yaml.YAMLError) -> int | None:
    mark = getattr(error, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def _yaml_position(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _yaml_problem(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None)
    context = getattr(error, "context", None)
    return " ".join(part for part in (context, problem) if part) or str(error)
