"""`training.evaluate`: report files on a tiny dataset, and bad test files named by line."""
from __future__ import annotations

import csv
import json

import pytest

from chatbot.errors import InvalidInput
from training import heatmap
from training.evaluate import evaluate

EXAMPLES = {
    "account.balance": ["余额", "查余额", "卡里还有多少钱", "余额多少", "帮我查下余额", "我还剩多少钱",
                        "账户余额", "看看余额", "储蓄卡余额", "查一下卡里的钱", "余额查询", "还有多少钱"],
    "greet": ["你好", "您好", "在吗", "hello", "hi", "早上好", "晚上好", "哈喽", "嗨", "有人吗",
              "你好呀", "下午好"],
    "thanks": ["谢谢", "多谢", "感谢", "谢谢你", "非常感谢", "太感谢了", "谢啦", "thanks", "thank you",
               "辛苦了", "感谢感谢", "谢了"],
}
LABELS = list(EXAMPLES)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def intents_file(tmp_path):
    path = tmp_path / "intents.yaml"
    lines = []
    for intent, texts in EXAMPLES.items():
        lines.append(f"{intent}:")
        lines += [f'  - "{text}"' for text in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def test_file(tmp_path):
    path = tmp_path / "test.tsv"
    path.write_text("account.balance\t卡上余额多少\ngreet\t你好啊\n\nthanks\t谢谢你啦\ngreet\t谢谢\n",
                    encoding="utf-8")
    return path


@pytest.fixture
def summary(intents_file, test_file, tmp_path):
    return evaluate(intents_file, tmp_path / "report", test_path=test_file, folds=3)


def test_every_report_file_is_written(summary, tmp_path):
    names = {"report.json", "report.md", "confusion_cv.csv", "confusion_test.csv", "confusion_cv.png",
             "confusion_test.png", "misclassified_cv.tsv", "misclassified_test.tsv"}
    assert set(summary.files) == names
    assert all(summary.files[name] == tmp_path / "report" / name for name in names)
    assert all(path.stat().st_size > 0 for path in summary.files.values())


def test_report_json_has_per_intent_scores_for_both_splits(summary):
    report = json.loads(summary.files["report.json"].read_text(encoding="utf-8"))
    cv, test = report["splits"]["cv"], report["splits"]["test"]
    assert list(cv["per_intent"]) == LABELS
    assert sum(m["support"] for m in cv["per_intent"].values()) == 36 == cv["examples"]
    assert sum(m["support"] for m in test["per_intent"].values()) == 4 == test["examples"]
    for split in (cv, test):
        assert 0.0 <= split["accuracy"] <= 1.0 and 0.0 <= split["macro_f1"] <= 1.0
        assert all(set(m) == {"precision", "recall", "f1", "support"} for m in split["per_intent"].values())
    assert summary.cv.accuracy == cv["accuracy"] and summary.test_accuracy == test["accuracy"]


def test_confusion_csv_has_labels_on_both_axes(summary):
    with summary.files["confusion_cv.csv"].open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][1:] == LABELS
    assert [row[0] for row in rows[1:]] == LABELS
    assert [sum(int(n) for n in row[1:]) for row in rows[1:]] == [12, 12, 12]


def test_misclassified_tsv_lists_the_wrong_held_out_answer(summary):
    lines = summary.files["misclassified_test.tsv"].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "true\tpredicted\tconfidence\ttext"
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(row) == 4 and row[0] != row[1] and 0.0 <= float(row[2]) <= 1.0 for row in rows)
    assert ["greet", "谢谢"] in [[row[0], row[3]] for row in rows]  # labelled greet, plainly thanks


def test_heatmaps_are_png_files(summary):
    for name in ("confusion_cv.png", "confusion_test.png"):
        assert summary.files[name].read_bytes()[:8] == PNG_MAGIC


def test_markdown_report_has_a_row_per_intent(summary):
    text = summary.files["report.md"].read_text(encoding="utf-8")
    assert all(f"| `{label}` |" in text for label in LABELS)


def test_without_a_chinese_font_the_heatmap_is_still_drawn_with_a_warning(intents_file, tmp_path, monkeypatch):
    monkeypatch.setattr(heatmap, "find_cjk_font", lambda: None)
    result = evaluate(intents_file, tmp_path / "plain", folds=3)
    assert result.warnings == (heatmap.NO_CJK_FONT,)
    assert result.files["confusion_cv.png"].read_bytes()[:8] == PNG_MAGIC
    assert result.test is None and "confusion_test.csv" not in result.files


@pytest.mark.parametrize("content, line", [
    ("greet\t你好\naccount.unknown\t查余额\n", 2),
    ("greet\t你好\n\n没有制表符的一行\n", 3),
    ("greet\t你好\ngreet\t\n", 2),
])
def test_a_bad_test_file_fails_with_its_line_before_training(intents_file, tmp_path, content, line):
    bad = tmp_path / "bad.tsv"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        evaluate(intents_file, tmp_path / "out", test_path=bad, folds=3)
    assert f"第 {line} 行" in caught.value.message
    assert not (tmp_path / "out").exists()


def test_too_few_examples_for_the_folds_names_the_intent(intents_file, tmp_path):
    with pytest.raises(InvalidInput, match="account.balance"):
        evaluate(intents_file, tmp_path / "out", folds=13)


def test_real_customers_phrasings_are_reported_by_kind_with_a_reliability_diagram(intents_file, tmp_path):
    from training.datasets import load_tsv

    real = tmp_path / "real.tsv"
    real.write_text("account.balance\t卡里钱还剩多少\tmy_vs_how\ngreet\t哈喽哈喽\tterse\n"
                    "thanks\t多谢晒\tregional\naccount.balance\t谢谢\tterse\n", encoding="utf-8")
    assert [e.kind for e in load_tsv(real, LABELS)] == ["my_vs_how", "terse", "regional", "terse"]
    result = evaluate(intents_file, tmp_path / "report", folds=3, real_path=real)
    figures = result.real
    assert figures.examples == 4 and figures.per_kind["terse"][0] == 2
    right = {kind: accuracy for kind, (_, accuracy) in figures.per_kind.items()}
    assert right["terse"] <= 0.5  # "谢谢" labelled as a balance question cannot be right
    assert figures.accuracy == pytest.approx(sum(n * a for n, a in figures.per_kind.values()) / 4)
    assert sum(b.count for b in figures.bins) == 4
    saved = json.loads((tmp_path / "report" / "real.json").read_text(encoding="utf-8"))
    assert saved["examples"] == 4 and set(saved["per_kind"]) == {"my_vs_how", "terse", "regional"}
    assert (tmp_path / "report" / "reliability_real.png").read_bytes()[:8] == PNG_MAGIC
    assert "真实说法集" in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")


def test_the_confident_precision_counts_only_sure_answers():
    from training.real_set import summarize
    from training.report import Predictions

    predictions = Predictions("real", ("a", "b", "c", "d"), ("x", "x", "y", "y"), ("x", "y", "y", "x"),
                              (0.95, 0.9, 0.5, 0.3))
    figures = summarize(predictions, ["terse", "terse", None, "regional"])
    assert figures.confident_answers == 2 and figures.confident_precision == 0.5
    assert figures.per_kind == {"terse": (2, 0.5), "other": (1, 1.0), "regional": (1, 0.0)}
    # Bins: 0.9-1.0 holds two answers, half right, mean confidence 0.925.
    top = figures.bins[-1]
    assert top.count == 2 and top.accuracy == 0.5 and top.mean_confidence == pytest.approx(0.925)
    assert figures.expected_calibration_error == pytest.approx((2 * 0.425 + 1 * 0.5 + 1 * 0.3) / 4)


def test_a_real_file_line_with_an_empty_kind_is_refused(intents_file, tmp_path):
    bad = tmp_path / "real.tsv"
    bad.write_text("greet\t你好\tterse\nthanks\t谢谢\t \n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="第 2 行格式错误"):
        evaluate(intents_file, tmp_path / "out", folds=3, real_path=bad)
