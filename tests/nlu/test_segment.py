"""chatbot.nlu.segment: jieba with the bank's dictionary, on a private tokenizer."""

import subprocess
import sys
import warnings

import pytest

from chatbot.nlu.resources import DEFAULT_DATA_DIR, load_dictionary_terms
from chatbot.nlu.segment import Segmenter, default_segmenter


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return default_segmenter()


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("我要挂失", "挂失"),
        ("我想办理账单分期", "账单分期"),
        ("信用卡最低还款是多少", "最低还款"),
        ("帮我转人工", "转人工"),
        ("大额存单利率多少", "大额存单"),
        ("等额本息和等额本金的区别", "等额本金"),
        ("预留手机号怎么改", "预留手机号"),
        ("我要做风险测评", "风险测评"),
        ("临时额度能提吗", "临时额度"),
        ("查一下交易明细", "交易明细"),
    ],
)
def test_banking_terms_are_single_tokens(segmenter, text, term):
    assert term in segmenter.cut(text)


def test_whitespace_tokens_are_dropped(segmenter):
    tokens = segmenter.cut("转账 500 给 李娜")
    assert all(token.strip() for token in tokens)
    assert "".join(tokens) == "转账500给李娜"


def test_initialization_is_lazy_and_idempotent():
    fresh = Segmenter()
    assert fresh._tokenizer is None  # nothing loaded by the constructor
    fresh.initialize()
    tokenizer = fresh._tokenizer
    fresh.initialize()
    assert fresh._tokenizer is tokenizer


def test_initializing_raises_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Segmenter().cut("我要挂失")


def test_a_fresh_process_imports_and_initializes_jieba_without_warnings():
    # In this process jieba is already imported; only a new one sees its import-time warnings.
    code = "from chatbot.nlu.segment import Segmenter; print(Segmenter().cut('我要挂失'))"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "挂失" in result.stdout
    assert result.stderr == ""  # jieba's "Building prefix dict" chatter is silenced


def test_the_global_jieba_tokenizer_is_untouched(segmenter):
    import jieba

    segmenter.cut("账单分期")
    assert segmenter._tokenizer is not jieba.dt
    assert "账单分期" not in jieba.dt.FREQ


def test_dictionary_has_at_least_150_terms():
    terms = load_dictionary_terms(DEFAULT_DATA_DIR / "banking_dict.txt")
    assert len(terms) >= 150
    assert len(set(terms)) == len(terms)
    for required in ("挂失", "解挂", "大额存单", "账单分期", "人工客服", "免息期", "净值型"):
        assert required in terms


def test_dictionary_lines_are_jieba_format():
    for line in (DEFAULT_DATA_DIR / "banking_dict.txt").read_text(encoding="utf-8").splitlines():
        word, freq, tag = line.split(" ")
        assert word and int(freq) > 0 and tag.isalpha()
