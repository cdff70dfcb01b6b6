"""Training data without one way of saying things, for tests of learning from labels.

Tests of the analysts' loop need phrasings the base model gets wrong. Phrasings the shipped
model gets wrong today are fixed by the next improvement of data/intents.yaml, so those tests
train their base model on a copy of the data without the examples of that way of saying it:
asking to be called back (human.request) and anger as 火大 (complaint).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from chatbot.settings import DATA_DIR

LEFT_OUT = {
    # Simplified and Traditional forms: the file has both (training normalizes them).
    "human.request": ("电话", "電話", "回电", "回電", "来电", "來電", "致电", "致電", "打给", "打給", "打我",
                      "打过来", "打過來", "打俾", "联系我", "聯繫我", "回我", "call"),
    "complaint": ("火大", "火冒", "恼火", "上火"),
}


def intents_without(target: Path, left_out: dict[str, tuple[str, ...]] = LEFT_OUT,
                    source: Path = DATA_DIR / "intents.yaml") -> Path:
    """`source` without the examples of each intent that contain one of its words."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for intent, words in left_out.items():
        data[intent] = [text for text in data[intent] if not any(word in text for word in words)]
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def data_dir_without(target: Path, left_out: dict[str, tuple[str, ...]] = LEFT_OUT) -> Path:
    """A copy of data/ (CHATBOT_DATA_DIR) whose intents.yaml leaves those examples out."""
    shutil.copytree(DATA_DIR, target)
    intents_without(target / "intents.yaml", left_out)
    return target


def model_without(directory: Path, left_out: dict[str, tuple[str, ...]] = LEFT_OUT):
    """A `PromotedModel` trained in `directory` on data/intents.yaml without those examples
    (override a test module's `intent_model` fixture with it)."""
    from chatbot.nlu.model_store import PromotedModel
    from training.train import train

    train(intents_without(directory / "intents.yaml", left_out), directory / "models")
    return PromotedModel(directory / "models")
