"""`chatbot train` learns from the analysts' labels: the overlay joins data/intents.yaml."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatbot.nlu.model_store import PromotedModel
from chatbot.nlu.parser import Parser
from chatbot.settings import Settings
from chatbot.storage.db import Database
from training.annotations.keys import text_key
from training.annotations.store import is_held_out, overlay_split
from training.datasets import Example, data_hash, load_intents
from training.logs.table_file import write_table
from training.train import train
from tests.unknown_phrasings import data_dir_without

# Asking to be called back: a model trained on data/intents.yaml without its call-back examples
# (tests/unknown_phrasings.py) places these elsewhere (checked, so none can pass by accident).
CALL_ME_BACK = ["请回电", "请给我回个电话", "打电话给我", "麻烦回电", "回电话给我", "能不能打给我",
                "请尽快回电", "可以打我电话吗", "给我回电", "你们回个电话给我"]
FAQ = """\
- id: fee
  question: 信用卡年费多少？
  similar: [年费怎么收]
  answer: 普卡首年免年费，刷卡满 6 次免次年年费。
  category: 信用卡
"""


def intents_of(model_dir: Path, texts) -> dict[str, str]:
    parser = Parser(PromotedModel(model_dir))
    return {text: parser.parse(text, date(2026, 11, 24)).intent.name for text in texts}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """data/ whose intents.yaml has no call-back examples (CHATBOT_DATA_DIR)."""
    return data_dir_without(tmp_path_factory.mktemp("data") / "data")


@pytest.fixture(scope="module")
def intents(data_dir) -> Path:
    return data_dir / "intents.yaml"


@pytest.fixture(scope="module")
def base_model(intents, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("base-models")
    train(intents, directory)
    return directory


@pytest.fixture
def wrong_before(base_model) -> list[str]:
    """The call-back phrasings the model trained without the overlay gets wrong."""
    wrong = [text for text, intent in intents_of(base_model, CALL_ME_BACK).items() if intent != "human.request"]
    assert len(wrong) >= 6, "the base model already knows these phrasings: pick others"
    return wrong


def test_train_with_an_overlay_learns_its_phrasings(tmp_path, wrong_before, intents):
    overlay = [Example("human.request", text, annotation_id=n) for n, text in enumerate(CALL_ME_BACK, start=10)]
    overlay += [Example("complaint", "你好！", annotation_id=90),   # "你好" is in the file: the file wins
                Example("no.such_intent", "某句话", annotation_id=91),  # an intent the file no longer has
                # In the test file (with other punctuation): measured there, so never trained.
                Example("human.request", "帮我接通人工客服吧！", annotation_id=92),
                Example("complaint", "帮我接通人工客服吧", annotation_id=93)]
    test_file = tmp_path / "intents_test.tsv"
    test_file.write_text("human.request\t帮我接通人工客服吧\ngreet\t下午好呀，在吗\n", encoding="utf-8")
    steps = []
    result = train(intents, tmp_path / "models", test_file, overlay=overlay, progress=steps.append)
    assert result.promoted
    after = intents_of(tmp_path / "models", wrong_before)
    assert after == {text: "human.request" for text in wrong_before}
    meta = json.loads((result.path / "metadata.json").read_text(encoding="utf-8"))
    assert meta["overlay_examples"] == len(CALL_ME_BACK)
    assert meta["overlay_annotation_ids"] == list(range(10, 10 + len(CALL_ME_BACK)))
    assert meta["overlay_in_test_file"] == 2 and meta["metrics"]["held_out_examples"] == 2
    assert meta["metrics"]["training_examples"] == len(load_intents(intents)) + len(CALL_ME_BACK)
    assert any("使用 10 条" in s and "1 条已在训练文件中" in s and "2 条在测试文件中" in s
               and "1 条的意图已不在训练文件中" in s for s in steps), steps
    # The version name covers the overlay: the same file alone hashes differently.
    file_only = load_intents(intents)
    used = [Example("human.request", text) for text in CALL_ME_BACK]
    assert result.version.endswith(data_hash(file_only + used)[:8])
    assert not result.version.endswith(data_hash(file_only)[:8])


# --- the CLI, end to end ------------------------------------------------------------------------

@pytest.fixture
def cli(monkeypatch, tmp_path, empty_database_url, data_dir):
    """`chatbot ...` in this process, on a migrated database, a small FAQ and an empty model
    directory (the variables the CLI sets for its workers are restored afterwards)."""
    faq = tmp_path / "faq.yaml"
    faq.write_text(FAQ, encoding="utf-8")
    env = {"CHATBOT_ENV": "sandbox", "CHATBOT_DATABASE_URL": empty_database_url,
           "CHATBOT_MODEL_DIR": str(tmp_path / "models"), "CHATBOT_FAQ_PATH": str(faq),
           "CHATBOT_FAQ_INDEX_DIR": str(tmp_path / "faq-index"), "CHATBOT_NLU_CACHE_DIR": str(tmp_path / "nlu"),
           "CHATBOT_DATA_DIR": str(data_dir)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def invoke(*args: str):
        from chatbot.cli import app

        return CliRunner().invoke(app, list(args))

    invoke.env, invoke.faq = env, faq
    return invoke


def test_annotate_import_then_train_uses_the_labels(cli, tmp_path, wrong_before):
    labelled = tmp_path / "labelled.xlsx"
    rows = [{"turn_id": str(n), "text": text, "label": "human.request"} for n, text in enumerate(CALL_ME_BACK, 1)]
    rows += [{"text": "信用卡年费能免吗", "label": "faq", "faq_question": "信用卡年费能不能免？",
              "faq_answer": "刷卡满 6 次免次年年费。"},
             {"text": "今天天气不错", "label": ""}]
    write_table(labelled, rows)
    imported = cli("annotate", "import", str(labelled))
    assert imported.exit_code == 0, imported.output
    assert "新增 11" in imported.output and "跳过未标注 1" in imported.output and "新建 FAQ 1 条" in imported.output
    assert "learned-0001" in cli.faq.read_text(encoding="utf-8")

    trained = cli("train")
    assert trained.exit_code == 0, trained.output
    assert "标注叠加层：使用" in trained.output and "（已发布）" in trained.output
    database = Database(cli.env["CHATBOT_DATABASE_URL"])
    with database.read() as session:
        train_part, held_out = overlay_split(session)
    database.dispose()
    labelled = [*CALL_ME_BACK, "信用卡年费能免吗"]  # the call-backs and the faq phrasing
    # Held out, for evaluation: the phrasings whose own key says so (about 1 in 5).
    assert [e.text for e in held_out] == [t for t in labelled if is_held_out(text_key(t))]
    assert [e.text for e in train_part] == [t for t in labelled if not is_held_out(text_key(t))]
    model_dir = Path(cli.env["CHATBOT_MODEL_DIR"])
    version = json.loads((model_dir / "promoted.json").read_text())["version"]
    meta = json.loads((model_dir / version / "metadata.json").read_text(encoding="utf-8"))
    assert meta["overlay_annotation_ids"] == sorted(e.annotation_id for e in train_part)
    assert meta["overlay_examples"] == len(train_part)
    trained_texts = {e.text for e in train_part} & set(wrong_before)
    assert intents_of(model_dir, trained_texts) == {text: "human.request" for text in trained_texts}


def test_annotate_import_refuses_a_bad_file_naming_the_line(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    write_table(bad, [{"text": "请回电", "label": "human.request"}, {"text": "火大", "label": "complain"}])
    result = cli("annotate", "import", str(bad))
    assert result.exit_code == 1
    assert "bad.csv 第 3 行：未知的标注 complain，是不是 complaint" in result.exception.message
    # Through the console script: one line on stderr, exit status 1, nothing stored.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")} | cli.env
    done = subprocess.run([sys.executable, "-m", "chatbot.cli", "annotate", "import", str(bad)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"错误：{result.exception.message}"]
    database = Database(cli.env["CHATBOT_DATABASE_URL"])
    with database.read() as session:
        assert overlay_split(session) == ([], [])
    database.dispose()


def test_train_without_the_annotations_table_trains_on_the_file_and_says_so(tmp_path, capsys):
    from chatbot.cli import _training_overlay

    missing = tmp_path / "not-there.db"
    assert _training_overlay(Settings(env="sandbox", database_url=f"sqlite:///{missing}")) == []
    assert "数据库尚无标注表" in capsys.readouterr().out and not missing.exists()  # not created either
    bare = tmp_path / "never-migrated.db"
    probe = Database(f"sqlite:///{bare}")
    probe.check()  # the file exists, without any table
    probe.dispose()
    assert _training_overlay(Settings(env="sandbox", database_url=f"sqlite:///{bare}")) == []
    assert "数据库尚无标注表" in capsys.readouterr().out
