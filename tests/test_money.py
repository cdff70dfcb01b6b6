"""Amounts for people: `52,380.50 元` and bank-slip capital numerals."""
from __future__ import annotations

from decimal import Decimal

import pytest

from chatbot.errors import InvalidInput
from chatbot.money import format_amount, to_capital, to_cents


@pytest.mark.parametrize("amount, text", [
    ("52380.50", "52,380.50 元"),
    ("52380.5", "52,380.50 元"),
    ("0", "0.00 元"),
    ("-0.00", "0.00 元"),
    ("0.05", "0.05 元"),
    ("999.99", "999.99 元"),
    ("1000", "1,000.00 元"),
    ("-2500.00", "-2,500.00 元"),
    ("1234567.89", "1,234,567.89 元"),
    ("200000", "200,000.00 元"),
])
def test_format_amount(amount, text):
    assert format_amount(Decimal(amount)) == text


@pytest.mark.parametrize("amount, capital", [
    ("0.05", "伍分"),
    ("0.50", "伍角"),
    ("0.55", "伍角伍分"),
    ("0", "零元整"),
    ("1", "壹元整"),
    ("1.05", "壹元零伍分"),
    ("1.50", "壹元伍角"),
    ("10", "壹拾元整"),
    ("16", "壹拾陆元整"),
    ("105", "壹佰零伍元整"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("1005", "壹仟零伍元整"),
    ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
    ("1409.50", "壹仟肆佰零玖元伍角"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("2500", "贰仟伍佰元整"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("10000", "壹万元整"),
    ("10020", "壹万零贰拾元整"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("50000", "伍万元整"),
    ("100000", "壹拾万元整"),
    ("100100", "壹拾万零壹佰元整"),
    ("107000.53", "壹拾万柒仟元伍角叁分"),
    ("110000", "壹拾壹万元整"),
    ("200000", "贰拾万元整"),
    ("1000000.01", "壹佰万元零壹分"),
    ("1010101.01", "壹佰零壹万零壹佰零壹元零壹分"),
    ("20000000", "贰仟万元整"),
    ("100000001", "壹亿零壹元整"),
    ("100010000", "壹亿零壹万元整"),
    ("300000000.30", "叁亿元叁角"),
    ("12345678901.23", "壹佰贰拾叁亿肆仟伍佰陆拾柒万捌仟玖佰零壹元贰角叁分"),
])
def test_capital_numerals(amount, capital):
    assert to_capital(Decimal(amount)) == capital


def test_capital_is_exact_where_floats_are_not():
    # As floats 0.1 + 0.2 is 0.30000000000000004; as Decimals it is exactly 叁角.
    assert to_capital(Decimal("0.10") + Decimal("0.20")) == "叁角"
    assert to_capital(Decimal("4.35")) == "肆元叁角伍分"  # float(4.35) * 100 == 434.99999999999994
    assert to_capital(Decimal("9999999999999.99")).endswith("玖元玖角玖分")
    assert to_capital(2500) == "贰仟伍佰元整"


@pytest.mark.parametrize("bad", [Decimal("0.001"), Decimal("1.005"), Decimal("NaN"), Decimal("Infinity")])
def test_sub_cent_and_non_finite_amounts_are_refused(bad):
    for function in (format_amount, to_capital, to_cents):
        with pytest.raises(InvalidInput):
            function(bad)


@pytest.mark.parametrize("bad", [1.5, "1.50", None, True])
def test_floats_and_strings_are_programming_errors(bad):
    with pytest.raises(TypeError):
        format_amount(bad)


def test_huge_capitals_are_refused_and_trailing_zeros_are_fine():
    with pytest.raises(InvalidInput):
        to_capital(Decimal("10000000000000000"))
    assert to_cents(Decimal("1.000")) == Decimal("1.00")
