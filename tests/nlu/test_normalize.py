"""chatbot.nlu.normalize: canonical text and an exact map back to the original."""


import pytest

from chatbot.nlu.normalize import NormalizedText, Normalizer, default_normalizer, normalize


def _assert_offsets_consistent(result: NormalizedText) -> None:
    assert len(result.offsets) == len(result.text) + 1
    assert len(result.ends) == len(result.text)
    assert result.offsets[-1] == len(result.original)
    assert list(result.offsets) == sorted(result.offsets)
    for start, end in zip(result.offsets, result.ends):
        assert 0 <= start < end <= len(result.original)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("５０００元", "5000元"),
        ("ＡＴＭ取款", "atm取款"),
        ("我要转账，多少钱？", "我要转账,多少钱?"),
        ("￥800", "¥800"),
    ],
)
def test_full_width_becomes_half_width(raw, expected):
    assert normalize(raw).text == expected


def test_traditional_becomes_simplified():
    assert normalize("查詢餘額").text == "查询余额"
    assert normalize("我的銀行卡掛失了").text == "我的银行卡挂失了"


def test_latin_is_lowercased():
    assert normalize("Hello ATM").text == "hello atm"


def test_emoji_and_decorative_punctuation_are_removed():
    assert normalize("转账😀😀给李娜❤️").text == "转账给李娜"
    assert normalize("【余额】★查询★").text == "余额查询"
    assert normalize("“信用卡”账单").text == "信用卡账单"


def test_meaningful_punctuation_is_kept():
    assert normalize("利率3.5%，1,200元: 10-20?").text == "利率3.5%,1,200元: 10-20?"
    assert normalize("**** 1234").text == "* 1234"


@pytest.mark.parametrize("dash", ["\u2010", "\u2011", "\u2012", "\u2013", "\u2212", "\u2015", "\ufe63"])
def test_dashes_between_figures_stay_a_dash(dash):
    """"31–45 岁" was read as 3145 (the en dash dropped as decoration)."""
    assert normalize(f"31{dash}45 岁").text == "31-45 岁"


def test_whitespace_collapsed_and_dropped_between_chinese():
    assert normalize("  我 要  挂 失  ").text == "我要挂失"
    assert normalize("138   0013\t8000").text == "138 0013 8000"
    assert normalize("转 500").text == "转 500"


def test_runs_of_three_or_more_are_squeezed():
    assert normalize("啊啊啊啊我要挂失！！！").text == "啊我要挂失!"
    assert normalize("哈哈好的").text == "哈哈好的"  # two stay two


def test_digits_are_never_squeezed():
    assert normalize("尾号8888").text == "尾号8888"
    assert normalize("转1000000").text == "转1000000"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("信用咭", "信用卡"),
        ("转帐", "转账"),
        ("帐单", "账单"),
        ("馀额", "余额"),
        ("我的帐户", "我的账户"),
        ("轉帳", "转账"),  # Traditional first, then the synonym table
    ],
)
def test_synonyms_are_mapped(raw, expected):
    assert normalize(raw).text == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mortgage rate 多少", "房贷利率多少"),
        ("app转账limit多少", "手机银行转账限额多少"),
        ("Min  Payment是啥", "最低还款是什么"),       # any case, any spacing inside a phrase
        ("CD利率", "大额存单利率"),
        ("gold card年费", "金卡年费"),                # the longest phrase wins over "gold"
        ("abcd", "abcd"),                             # whole words only
        ("转100 rmb", "转100 rmb"),                   # the amount extractor reads rmb itself
        ("转5k给张三", "转5k给张三"),
    ],
)
def test_english_banking_words_become_chinese(raw, expected):
    assert normalize(raw).text == expected


def test_english_rewrite_keeps_spans_in_the_original():
    text = normalize("查balance 8888")
    start = text.text.index("余额")
    assert text.original_text(start, start + 2) == "balance"


def test_colloquial_question_words():
    assert normalize("年费咋收的").text == "年费怎么收的"
    assert normalize("U盾是啥").text == "u盾是什么"


def test_protected_brand_words_are_left_alone():
    assert normalize("余额宝收益").text == "余额宝收益"
    assert normalize("花呗还款").text == "花呗还款"


def test_protected_words_beat_synonyms(tmp_path):
    (tmp_path / "synonyms.yaml").write_text(
        "synonyms:\n  余额: [零钱]\nprotected:\n  - 零钱通\n", encoding="utf-8"
    )
    (tmp_path / "banking_dict.txt").write_text("余额 3000 n\n", encoding="utf-8")
    normalizer = Normalizer(tmp_path)
    assert normalizer.normalize("零钱多少").text == "余额多少"
    assert normalizer.normalize("零钱通多少").text == "零钱通多少"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("我要挂时", "我要挂失"),
        ("信用咔丢了", "信用卡丢了"),
        ("于额是多少", "余额是多少"),
        ("专账给王芳", "转账给王芳"),
        ("手机银航登不上", "手机银行登不上"),
        ("我用手机银航转账", "我用手机银行转账"),  # 用手 is a word, but the typo is at the other end
    ],
)
def test_homophone_typos_are_recovered(raw, expected):
    assert normalize(raw).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "挂失需要多长时间",
        "利息和利率是多少",
        "公积金贷款",
        "关于额外费用",  # 于额 sounds like 余额 but 关于 and 额外 are words
        "这张卡好用吗",  # 卡好 sounds like 卡号
        "需要验证吗",  # 验证吗 sounds like 验证码, but 吗 is a question
        "预期收益",  # 预期 sounds like 逾期 and is a word
        "我想放宽一点",  # 放宽 sounds like 放款 and is a word
        "小户型",
        "属于额外收入",
    ],
)
def test_real_words_are_not_corrected(text):
    assert normalize(text).text == text


def test_offsets_map_spans_back_when_characters_were_removed():
    result = normalize("转😀５００元給 李娜！！！")
    assert result.text == "转500元给李娜!"
    _assert_offsets_consistent(result)
    start = result.text.index("500元")
    assert result.original_text(start, start + 4) == "５００元"
    name, original_name = result.text.index("李娜"), result.original.index("李娜")
    assert result.to_original(name, name + 2) == (original_name, original_name + 2)
    assert result.original_text(len(result.text) - 1, len(result.text)) == "！！！"


def test_offsets_survive_length_changing_replacements():
    result = normalize("xyk账单")  # a 3-letter variant of 信用卡, same length
    assert result.text == "信用卡账单"
    assert result.original_text(0, 3) == "xyk"
    ligature = normalize("㎡大小")  # NFKC expands one character into two
    assert ligature.text == "m2大小"
    _assert_offsets_consistent(ligature)
    assert ligature.original_text(0, 1) == "㎡"
    assert ligature.original_text(2, 4) == "大小"


def test_empty_and_identity_spans():
    result = normalize("")
    assert result.text == "" and result.offsets == (0,)
    plain = normalize("查询余额")
    assert plain.offsets == (0, 1, 2, 3, 4)
    assert plain.to_original(2, 2) == (2, 2)
    with pytest.raises(IndexError):
        plain.to_original(3, 9)


def test_warm_up_loads_the_lazy_parts():
    normalizer = Normalizer()
    normalizer.warm_up()
    assert normalizer.normalize("我要挂时").text == "我要挂失"


def test_default_normalizer_is_shared():
    assert default_normalizer() is default_normalizer()
