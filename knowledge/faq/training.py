"""Training phrasings: more ways customers ask each FAQ entry, used only to train retrieval.

The FAQ file keeps 3-8 ``similar`` phrasings per entry: what an editor reads and
maintains. Retrieval learns better from many more, in the words customers really use
(situations, slang, Traditional characters, typos), so a second file beside the FAQ
holds them, keyed by entry id::

    # data/faq.training.yaml (beside data/faq.yaml)
    card-001:
      - 卡没了咋整
      - 钱包被偷了卡也在里面

They are indexed like ``similar`` phrasings of their entry and never shown to anyone.
An id the FAQ no longer has (an admin deleted the entry) is ignored, so deleting an
entry never stops the service from starting. The file is optional; a malformed one
fails at start with the id and the line, like the FAQ file.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from knowledge.faq.store import FaqFileError, parse_yaml

_MAPPING_TAG = "tag:yaml.org,2002:map"

TrainingPhrasings = Mapping[str, tuple[str, ...]]
NO_TRAINING: TrainingPhrasings = MappingProxyType({})


def training_path(faq_path: str | Path) -> Path:
    """Where the training phrasings of ``faq_path`` live: ``faq.yaml`` -> ``faq.training.yaml``."""
    faq_path = Path(faq_path)
    return faq_path.with_name(f"{faq_path.stem}.training{faq_path.suffix or '.yaml'}")


def load_training_for(faq_path: str | Path) -> TrainingPhrasings:
    """The training phrasings beside ``faq_path``, or none when that file does not exist."""
    path = training_path(faq_path)
    return load_training(path) if path.exists() else NO_TRAINING


def load_training(path: str | Path, text: str | None = None) -> TrainingPhrasings:
    """Read and validate a training file; raise :class:`FaqFileError` naming the id and line.

    ``text``: the file's content, already read (``path`` then only names it in messages).
    """
    path = Path(path)
    root = parse_yaml(path, "training phrasings file", text)
    if root is None:
        return NO_TRAINING
    if root.tag != _MAPPING_TAG:
        raise FaqFileError(f"{path}: expected a mapping of FAQ id to a list of phrasings", path)
    training: dict[str, tuple[str, ...]] = {}
    # The strict loader refuses repeated keys, so nodes and constructed items pair up in order.
    for (key_node, _), (entry_id, phrasings) in zip(root.value, root.data.items()):
        line = key_node.start_mark.line + 1
        if not isinstance(entry_id, str) or not entry_id.strip():
            raise FaqFileError(f"{path}: line {line}: a key must be a FAQ id", path, line=line)
        training[entry_id.strip()] = _phrasings(path, entry_id.strip(), phrasings, line)
    return MappingProxyType(training)


def _phrasings(path: Path, entry_id: str, value, line: int) -> tuple[str, ...]:
    def fail(problem: str) -> FaqFileError:
        return FaqFileError(f"{path}: id '{entry_id}' at line {line}: {problem}", path,
                            entry_id=entry_id, line=line)

    if not isinstance(value, list):
        raise fail("expected a list of phrasings")
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str) or not item.strip():
            raise fail(f"item {position} must be non-empty text")
    return tuple(dict.fromkeys(item.strip() for item in value))

