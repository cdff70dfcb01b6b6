"""The held-out data models are compared on: the test file plus the analysts' held-out labels.

Sources, in this order:

- `intents_test.tsv` in the data directory (`intent<TAB>text`, checked against the intents of
  `intents.yaml` beside it);
- the held-out part of the annotation overlay, `training.annotations.store.overlay_split(db)`,
  when that module is installed and the database is migrated to it. Otherwise the set is the
  file alone and `notes` says why, so a report never hides that a source was missing.

Held-out annotations are deduplicated by text key (training/annotations/keys.py): one whose
phrasing is in `intents.yaml` is dropped (it is trained now), and one whose phrasing the test
file has is dropped too (the test file wins). `training/compare.py` further leaves out, with
`without_annotations`, those a compared version trained on (its metadata lists them: a label
that was on the train side when that version was trained). Each drop is counted in `notes`.

The `digest` names the set (texts and labels, in order); `texts_digest` only the texts,
which, with the preprocessing, is all predictions depend on (`training/compare.py` caches
them under both).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from chatbot.errors import ChatbotError
from training.annotations.keys import text_key
from training.datasets import Example, data_hash, load_intents, load_tsv

log = logging.getLogger(__name__)

TEST_FILE = "intents_test.tsv"
FILE_SOURCE = TEST_FILE
ANNOTATION_SOURCE = "annotations"
SOURCE_NAMES = {FILE_SOURCE: "测试文件 intents_test.tsv", ANNOTATION_SOURCE: "分析师留出标注"}


@dataclass(frozen=True)
class HeldOut:
    examples: tuple[Example, ...]
    sources: dict[str, int]  # source -> examples it gave
    notes: tuple[str, ...] = field(default=())

    @property
    def digest(self) -> str:
        return data_hash(self.examples)

    @property
    def texts_digest(self) -> str:
        digest = hashlib.sha256()
        for example in self.examples:
            digest.update(example.text.encode("utf-8") + b"\n")
        return digest.hexdigest()

    def without_annotations(self, annotation_ids) -> "HeldOut":
        """This set without the held-out annotations whose ids are in `annotation_ids` (those a
        compared version trained on), counted in `notes`."""
        drop = set(annotation_ids)
        kept = tuple(e for e in self.examples if e.annotation_id is None or e.annotation_id not in drop)
        dropped = len(self.examples) - len(kept)
        if not dropped:
            return self
        sources = dict(self.sources)
        sources[ANNOTATION_SOURCE] = sources.get(ANNOTATION_SOURCE, 0) - dropped
        return HeldOut(kept, sources, (*self.notes, f"{dropped} 条留出标注已被所比较的版本训练过，未计入"))

    def describe(self) -> str:
        """`留出数据 N 条：测试文件 … a 条，分析师留出标注 b 条` plus any note."""
        parts = "，".join(f"{SOURCE_NAMES.get(name, name)} {count} 条" for name, count in self.sources.items())
        line = f"留出数据 {len(self.examples)} 条：{parts}"
        return line + "".join(f"（{note}）" for note in self.notes)

    def to_dict(self) -> dict:
        return {"examples": len(self.examples), "sources": dict(self.sources), "notes": list(self.notes),
                "digest": self.digest}


def load(data_dir: Path, database=None, test_path: Path | None = None) -> HeldOut:
    """The held-out set of `data_dir` (or of `test_path` instead of its test file), with the
    annotations' held-out part when `database` has them."""
    notes: list[str] = []
    from_file = _from_file(Path(data_dir), test_path, notes)
    from_annotations = _deduplicated(_from_annotations(database, notes), Path(data_dir), from_file, notes)
    return HeldOut(tuple(from_file + from_annotations),
                   {FILE_SOURCE: len(from_file), ANNOTATION_SOURCE: len(from_annotations)}, tuple(notes))


def _from_file(data_dir: Path, test_path: Path | None, notes: list[str]) -> list[Example]:
    path = test_path or data_dir / TEST_FILE
    if not path.exists():
        notes.append(f"没有测试文件 {path}")
        return []
    intents_file = data_dir / "intents.yaml"
    known = {e.intent for e in load_intents(intents_file)} if intents_file.exists() else _labels_in(path)
    return load_tsv(path, known)


def _labels_in(path: Path) -> set[str]:
    # Without the intents file beside it, any label is accepted (the models simply miss unknown ones).
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.split("\t", 1)[0] for line in lines if line.strip()}


def _from_annotations(database, notes: list[str]) -> list[Example]:
    if database is None:
        notes.append("未连接数据库，未含分析师留出标注")
        return []
    try:
        from training.annotations.store import overlay_split
    except ImportError as exc:
        log.info("annotation store not available: %s", exc)
        notes.append("标注库尚未启用，未含分析师留出标注")
        return []
    problem = _schema_problem(database)
    if problem:
        notes.append(f"{problem}，未含分析师留出标注")
        return []
    with database.read() as db:
        _train, held_out = overlay_split(db)
    return [Example(e.intent, e.text, annotation_id=e.annotation_id) for e in held_out]


def _deduplicated(annotations: list[Example], data_dir: Path, from_file: list[Example],
                  notes: list[str]) -> list[Example]:
    """The held-out annotations whose phrasing neither the training file (it is trained now)
    nor the test file (it is measured there) has, one per phrasing; the drops noted."""
    if not annotations:
        return annotations
    intents_file = data_dir / "intents.yaml"
    trained = {text_key(e.text) for e in load_intents(intents_file)} if intents_file.exists() else set()
    measured = {text_key(e.text) for e in from_file}
    seen: set[str] = set()
    kept: list[Example] = []
    in_training = in_test = repeated = 0
    for example in annotations:
        key = text_key(example.text)
        if key in trained:
            in_training += 1
        elif key in measured:
            in_test += 1
        elif key in seen:
            repeated += 1
        else:
            seen.add(key)
            kept.append(example)
    if in_training:
        notes.append(f"{in_training} 条留出标注的说法已在训练文件中，未计入")
    if in_test:
        notes.append(f"{in_test} 条留出标注的说法在测试文件中，以测试文件为准")
    if repeated:
        notes.append(f"{repeated} 条留出标注与前面的是同一说法，只计一次")
    return kept


def _schema_problem(database) -> str | None:
    from chatbot.schema import ensure_schema_current

    try:
        ensure_schema_current(database)
    except ChatbotError as exc:
        return exc.message
    return None
