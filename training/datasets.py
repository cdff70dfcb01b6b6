"""Training data: `data/intents.yaml` examples, `intent<TAB>text` test files, and how the
analysts' overlay (training/annotations/store.py) joins the file's examples."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from chatbot.errors import InvalidInput
from training.annotations.keys import text_key


@dataclass(frozen=True)
class Example:
    intent: str
    text: str
    # The annotation an overlay example came from (None: from a file); not part of equality.
    annotation_id: int | None = field(default=None, compare=False)
    # What kind of message a test example is (the third column of data/intents_real.tsv:
    # terse, regional, prefixed, ...), for per-kind accuracy; not part of equality.
    kind: str | None = field(default=None, compare=False)


def load_intents(path: Path) -> list[Example]:
    """Examples of `{intent: [text, ...]}`; refuses non-string or empty examples."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"无法读取意图数据 {path}：{exc}", "bad_intents_file") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} 应为 {{意图: [例句...]}} 的映射", "bad_intents_file")
    examples = []
    for intent, texts in data.items():
        if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise InvalidInput(f"{path}: 意图 {intent} 的例句必须是非空字符串列表", "bad_intents_file")
        examples += [Example(str(intent), t.strip()) for t in texts]
    return examples


def load_tsv(path: Path, known_intents: Iterable[str]) -> list[Example]:
    """A held-out test file, `intent<TAB>text` and optionally `<TAB>kind` per line; a malformed
    line or unknown intent fails with its line number."""
    known = set(known_intents)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInput(f"无法读取测试文件 {path}：{exc.strerror}", "bad_test_file") from exc
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) not in (2, 3) or not parts[1].strip() or (len(parts) == 3 and not parts[2].strip()):
            raise InvalidInput(f"{path} 第 {number} 行格式错误：应为“意图<TAB>文本”（可再加“<TAB>类别”）",
                               "bad_test_file")
        if parts[0] not in known:
            raise InvalidInput(f"{path} 第 {number} 行：未知意图 {parts[0]}", "bad_test_file")
        kind = parts[2].strip() if len(parts) == 3 else None
        examples.append(Example(parts[0], parts[1].strip(), kind=kind))
    return examples


def data_hash(examples: Iterable[Example]) -> str:
    digest = hashlib.sha256()
    for example in examples:
        digest.update(f"{example.intent}\t{example.text}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Overlay:
    """The overlay examples a training run uses, and those it leaves out (and why)."""

    used: list[Example]
    in_file: int          # the same phrasing is in the intents file: the file's label wins
    unknown_intent: int   # labelled with an intent the intents file no longer has
    in_test: int = 0      # the same phrasing is in the test file: it is measured there, never trained


def join_overlay(examples: Sequence[Example], overlay: Iterable[Example],
                 measured: Iterable[Example] = ()) -> Overlay:
    """Overlay examples that add to the file's: deduplicated by text key against the file
    (and among themselves), phrasings of the test file `measured` left out (training on them
    would inflate every measurement on that file), intents the file does not know left out."""
    seen = {text_key(e.text) for e in examples}
    tested = {text_key(e.text) for e in measured}
    intents = {e.intent for e in examples}
    used, in_file, in_test, unknown = [], 0, 0, 0
    for example in overlay:
        key = text_key(example.text)
        if key in seen:
            in_file += 1
        elif key in tested:
            in_test += 1
        elif example.intent not in intents:
            unknown += 1
        else:
            seen.add(key)
            used.append(example)
    return Overlay(used, in_file, unknown, in_test)
