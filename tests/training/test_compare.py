"""`chatbot evaluate --compare V1 V2`: two versions trained on different data, scored on the
same held-out data (the test file plus the analysts' held-out annotations)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import pytest

from chatbot.errors import InvalidInput, NotFound
from chatbot.storage.db import Database
from tests.training.model_pairs import HELD_OUT, train_pair
from training import compare, heldout, report
from training.datasets import Example

THANKS = HELD_OUT["thanks"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return train_pair(tmp_path_factory.mktemp("pair"))


@pytest.fixture(scope="module")
def held_out(pair):
    return heldout.load(pair.data_dir)


@pytest.fixture(scope="module")
def result(pair, held_out):
    return compare.compare(pair.model_dir, pair.good, pair.bad, held_out)


def test_overall_figures_of_both_versions_and_the_delta(result, held_out):
    assert len(held_out.examples) == 15 and held_out.sources == {"intents_test.tsv": 15, "annotations": 0}
    assert result.before.metrics.accuracy == 1.0  # the good model gets the held-out set right
    assert result.after.metrics.accuracy == pytest.approx(10 / 15, abs=1e-4)
    assert result.accuracy_delta == pytest.approx(-5 / 15, abs=1e-4)
    assert result.macro_f1_delta < 0


def test_only_changed_intents_are_listed_largest_drop_first(result):
    moved = result.changed_intents()
    assert moved[0].intent == "thanks" and moved[0].support == 5
    assert (moved[0].before.recall, moved[0].after.recall, moved[0].accuracy_delta) == (1.0, 0.0, -1.0)
    assert all(d.accuracy_delta or d.f1_delta for d in moved)
    assert [d.accuracy_delta for d in moved] == sorted(d.accuracy_delta for d in moved)


def test_a_version_compared_with_itself_changes_nothing(pair, held_out):
    same = compare.compare(pair.model_dir, pair.good, pair.good, held_out)
    assert same.changed_intents() == [] and same.changed == () and same.accuracy_delta == 0


def test_examples_whose_prediction_changed_in_both_directions(pair, held_out, result):
    assert {c.text for c in result.changed} == set(THANKS)
    assert all(c.kind == "broken" and c.truth == c.before == "thanks" and c.after != "thanks" for c in result.changed)
    back = compare.compare(pair.model_dir, pair.bad, pair.good, held_out)
    assert {c.text for c in back.changed} == set(THANKS) and {c.kind for c in back.changed} == {"fixed"}
    assert back.accuracy_delta == pytest.approx(5 / 15, abs=1e-4)


def test_plain_metrics_agree_with_scikit_learn(result, held_out):
    run = report.Predictions("test", tuple(e.text for e in held_out.examples),
                             tuple(e.intent for e in held_out.examples), result.after.predicted,
                             result.after.confidence)
    labels = list(dict.fromkeys(e.intent for e in held_out.examples))
    assert compare.split_metrics(run, labels) == report.split_metrics(run, labels)


def test_predictions_are_cached_per_held_out_set(pair, held_out, tmp_path, monkeypatch):
    own = pair.copy(tmp_path / "models")
    first = compare.score(own.model_dir, own.good, held_out)
    assert not first.cached and list((own.model_dir / own.good / "heldout").glob("*.json"))
    monkeypatch.setattr(compare.model_store, "load_pipeline", _no_pipeline)
    again = compare.score(own.model_dir, own.good, held_out)
    assert again.cached and again.predicted == first.predicted and again.metrics == first.metrics
    other = heldout.HeldOut(held_out.examples[:3], {"intents_test.tsv": 3})
    with pytest.raises(AssertionError, match="pipeline loaded"):
        compare.score(own.model_dir, own.good, other)  # another set: not from the cache


def _no_pipeline(*_args):
    raise AssertionError("pipeline loaded")


def test_cached_predictions_follow_the_preprocessing_resources(pair, held_out, tmp_path, monkeypatch):
    from chatbot.nlu import resources

    own = pair.copy(tmp_path / "models")
    compare.score(own.model_dir, own.good, held_out)
    monkeypatch.setattr(compare.model_store, "load_pipeline", _no_pipeline)
    original, data = resources.DEFAULT_DATA_DIR, tmp_path / "nlu-data"
    data.mkdir()

    def copy_resources() -> None:
        for name in (resources.SYNONYMS_FILE, resources.BANKING_DICT_FILE):
            (data / name).write_bytes((original / name).read_bytes())

    copy_resources()
    monkeypatch.setattr(resources, "DEFAULT_DATA_DIR", data)  # where `prepare`'s normalizer reads them
    assert compare.score(own.model_dir, own.good, held_out).cached  # the same files: the same predictions
    with (data / resources.SYNONYMS_FILE).open("a", encoding="utf-8") as handle:
        handle.write("\n# an analyst added a synonym\n")
    with pytest.raises(AssertionError, match="pipeline loaded"):
        compare.score(own.model_dir, own.good, held_out)  # predictions may differ now: not from the cache
    copy_resources()
    assert compare.score(own.model_dir, own.good, held_out).cached
    with (data / resources.BANKING_DICT_FILE).open("a", encoding="utf-8") as handle:
        handle.write("新词 100 n\n")
    with pytest.raises(AssertionError, match="pipeline loaded"):
        compare.score(own.model_dir, own.good, held_out)  # the jieba dictionary (and homophone terms) too


def test_unknown_version_is_not_found_before_any_work(pair, held_out):
    with pytest.raises(NotFound, match="no-such"):
        compare.compare(pair.model_dir, pair.good, "no-such", held_out)
    with pytest.raises(NotFound):
        compare.compare(pair.model_dir, "../models", pair.good, held_out)


def test_report_files_hold_every_change(result, tmp_path):
    json_path, md_path = compare.write_report(result, tmp_path / "out")
    saved = json.loads(json_path.read_text(encoding="utf-8"))
    assert saved["before"] == result.before.version and saved["after"] == result.after.version
    assert saved["held_out"]["sources"] == {"intents_test.tsv": 15, "annotations": 0}
    assert saved["intents"][0]["intent"] == "thanks" and saved["intents"][0]["accuracy"]["delta"] == -1.0
    assert saved["changed_predictions"]["broken"] == 5 and len(saved["changed_predictions"]["examples"]) == 5
    text = md_path.read_text(encoding="utf-8")
    assert "| `thanks` | 5 | 1.00 → 0.00 | -1.00" in text and all(t in text for t in THANKS)


def test_terminal_summary_caps_the_examples_and_counts_the_rest(result):
    lines = compare.summary_lines(result, limit=2)
    assert lines[0].startswith("留出数据 15 条：测试文件 intents_test.tsv 15 条，分析师留出标注 0 条")
    assert sum(line.startswith("  [变错]") for line in lines) == 2
    assert lines[-1].strip().startswith("……另有 3 条")


# --- the analysts' held-out annotations ----------------------------------------------------------

def test_without_the_annotation_store_the_file_alone_is_used_and_said(pair, empty_database_url, monkeypatch):
    monkeypatch.setitem(sys.modules, "training.annotations.store", None)  # the module is not there
    database = Database(empty_database_url)
    try:
        loaded = heldout.load(pair.data_dir, database)
    finally:
        database.dispose()
    assert loaded.sources == {"intents_test.tsv": 15, "annotations": 0}
    assert "标注库尚未启用" in loaded.describe()


def test_held_out_annotations_join_the_file_and_are_counted(pair, empty_database_url, monkeypatch):
    seen = []

    def overlay_split(db):
        seen.append(db)
        return [Example("thanks", "训练用的")], [Example("thanks", "谢谢侬"), Example("greet", "侬好")]

    monkeypatch.setitem(sys.modules, "training.annotations.store", types.SimpleNamespace(overlay_split=overlay_split))
    database = Database(empty_database_url)
    try:
        loaded = heldout.load(pair.data_dir, database)
    finally:
        database.dispose()
    assert seen and loaded.sources == {"intents_test.tsv": 15, "annotations": 2}
    assert loaded.examples[-2:] == (Example("thanks", "谢谢侬"), Example("greet", "侬好"))
    assert "分析师留出标注 2 条" in loaded.describe() and not loaded.notes


def _load_with_annotations(pair, empty_database_url, monkeypatch, held):
    store = types.SimpleNamespace(overlay_split=lambda db: ([], held))
    monkeypatch.setitem(sys.modules, "training.annotations.store", store)
    database = Database(empty_database_url)
    try:
        return heldout.load(pair.data_dir, database)
    finally:
        database.dispose()


def test_held_out_annotations_are_deduplicated_against_both_files(pair, empty_database_url, monkeypatch):
    held = [Example("greet", "谢谢！", annotation_id=1),        # the training file has 谢谢 (as thanks): trained now
            Example("thanks", "謝謝您", annotation_id=2),      # the test file has 谢谢您: the test file wins
            Example("greet", "侬好", annotation_id=3),
            Example("greet", "儂好！", annotation_id=4)]      # the same phrasing as 3 after t2s: once
    loaded = _load_with_annotations(pair, empty_database_url, monkeypatch, held)
    assert loaded.sources == {"intents_test.tsv": 15, "annotations": 1}
    assert loaded.examples[-1] == Example("greet", "侬好") and loaded.examples[-1].annotation_id == 3
    texts = [e.text for e in loaded.examples]
    assert texts.count("谢谢您") == 1 and "谢谢！" not in texts and "儂好！" not in texts
    described = loaded.describe()
    assert "1 条留出标注的说法已在训练文件中" in described and "1 条留出标注与前面的是同一说法" in described
    assert "1 条留出标注的说法在测试文件中，以测试文件为准" in described


def _trained_on(pair, version: str, ids: list[int]) -> None:
    path = pair.model_dir / version / "metadata.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(meta | {"overlay_annotation_ids": ids}), encoding="utf-8")


def test_held_out_annotations_a_compared_version_trained_on_are_left_out(pair, empty_database_url, monkeypatch,
                                                                       tmp_path):
    own = pair.copy(tmp_path / "models")
    held = [Example("thanks", "谢谢侬", annotation_id=7), Example("greet", "侬好", annotation_id=8),
            Example("thanks", "谢天谢地", annotation_id=9)]
    loaded = _load_with_annotations(pair, empty_database_url, monkeypatch, held)
    assert loaded.sources["annotations"] == 3
    _trained_on(own, own.bad, [1, 7])  # labelled when 7 was on the train side, say
    _trained_on(own, own.good, [8])
    for before, after in [(own.good, own.bad), (own.bad, own.good)]:
        result = compare.compare(own.model_dir, before, after, loaded)
        texts = [e.text for e in result.held_out.examples]
        assert "谢谢侬" not in texts and "侬好" not in texts and "谢天谢地" in texts and len(texts) == 16
        assert result.held_out.sources == {"intents_test.tsv": 15, "annotations": 1}
        assert result.before.metrics.examples == result.after.metrics.examples == 16
        assert "2 条留出标注已被所比较的版本训练过，未计入" in compare.summary_lines(result)[0]
    _trained_on(own, own.good, [9])
    only = heldout.HeldOut(tuple(held), {"intents_test.tsv": 0, "annotations": 3})
    with pytest.raises(InvalidInput, match="没有两个版本都未训练过的留出数据"):
        compare.compare(own.model_dir, own.good, own.bad, only.without_annotations([8]))


def test_an_unmigrated_database_leaves_the_annotations_out_and_says_why(pair, tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'blank.db'}")
    try:
        loaded = heldout.load(pair.data_dir, database)
    finally:
        database.dispose()
    assert loaded.sources["annotations"] == 0 and "chatbot db upgrade" in loaded.describe()


# --- the command ---------------------------------------------------------------------------------

def _cli(args, pair, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env |= {"CHATBOT_MODEL_DIR": str(pair.model_dir), "CHATBOT_DATA_DIR": str(pair.data_dir),
            "CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'absent.db'}", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "chatbot.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_the_command_prints_the_comparison_and_writes_the_report(pair, tmp_path):
    out = tmp_path / "report"
    done = _cli(["evaluate", "--compare", pair.good, pair.bad, "--out", str(out)], pair, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "留出数据 15 条：测试文件 intents_test.tsv 15 条，分析师留出标注 0 条" in done.stdout
    assert "变化：准确率 -0.3333" in done.stdout and "thanks（n=5）：准确率 1.00 → 0.00（-1.00）" in done.stdout
    assert "[变错] 谢谢您（标注 thanks）：thanks → " in done.stdout
    assert (out / "compare.json").exists() and (out / "compare.md").exists()
    assert not (tmp_path / "absent.db").exists()  # no database was created to look for annotations


def test_the_command_names_an_unknown_version_in_one_line(pair, tmp_path):
    done = _cli(["evaluate", "--compare", pair.good, "20200101-000000-deadbeef"], pair, tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["错误：模型版本不存在：20200101-000000-deadbeef"]
