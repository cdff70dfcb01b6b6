"""chatbot.nlu.entities.numbers: numerals to Decimal."""

from decimal import Decimal

import cn2an
import pytest

from chatbot.nlu.entities.numbers import parse_int, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("五千", "5000"),
        ("两千五", "2500"),
        ("一万二", "12000"),
        ("3万5", "35000"),
        ("3万5000", "35000"),
        ("1.5万", "15000"),
        ("2.5w", "25000"),
        ("3k", "3000"),
        ("1,200", "1200"),
        ("一千二百三十四", "1234"),
        ("一千零五", "1005"),
        ("一万零五百", "10500"),
        ("十万", "100000"),
        ("十一万三", "113000"),
        ("三百五", "350"),
        ("二十四", "24"),
        ("十", "10"),
        ("三点五万", "35000"),
        ("零点五", "0.5"),
        ("一亿两千万", "120000000"),
        ("壹仟贰佰", "1200"),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "万", "千万", "零", "五五", "一二三", "百", "abc"])
def test_not_numbers(text):
    assert parse_number(text) is None


@pytest.mark.parametrize(
    "text", ["五千", "两千五", "一万二", "3万5", "一千二百三十四", "一千零五", "十一万三", "三百五", "二十四", "一亿两千万"]
)
def test_agrees_with_cn2an_on_whole_numbers(text):
    assert parse_number(text) == Decimal(cn2an.cn2an(text, "smart"))


def test_parse_int_rejects_fractions():
    assert parse_int("十二") == 12
    assert parse_int("1.5") is None
    assert parse_int("月") is None
