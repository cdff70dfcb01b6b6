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
    ("101000.50", "壹拾万壹仟元伍角"),  # the zero before 万 is read by 万, no 零
    ("100000100", "壹亿零壹佰元整"),
    ("100001000", "壹亿零壹仟元整"),  # an empty 万 group inside the number is one 零 (see below)
    ("1000000000000", "壹万亿元整"),
    ("1000100000000", "壹万零壹亿元整"),
    ("1010000000000.10", "壹万零壹佰亿元壹角"),
    ("1000000000001", "壹万亿零壹元整"),
    ("9999999999999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("-5", "负伍元整"),
    ("-0.05", "负伍分"),
])
def test_capital_numerals(amount, capital):
    assert to_capital(Decimal(amount)) == capital


def _cn2an_slips(amount: Decimal) -> bool:
    """cn2an drops the 零 of an empty 万 group before a 仟 digit (壹亿壹仟 for 100,001,000,
    though it writes 壹亿零壹佰 for 100,000,100); the rule (one 零 for a run of zeros inside
    the number) wants it."""
    whole = str(int(abs(amount)))
    return len(whole) > 8 and whole[-8:-4] == "0000" and whole[-4] != "0"


def test_capitals_agree_with_cn2an_rmb_mode():
    """`to_capital` was cn2an's "rmb" mode; written here now (importing cn2an cost every worker
    ~0.5 s at start), it must still write what cn2an writes, but for cn2an's slip above."""
    import random

    import cn2an

    rng = random.Random(18)
    amounts = [Decimal(rng.randint(0, 10 ** rng.randint(1, 18) - 1)) / 100 for _ in range(20000)]
    amounts += [Decimal("".join(rng.choice("0000000123456789") for _ in range(rng.randint(1, 16))))
                + rng.choice([Decimal(0), Decimal("0.05"), Decimal("0.5"), Decimal("0.55")]) for _ in range(20000)]
    compared = 0
    for amount in amounts:
        amount = amount.quantize(Decimal("0.01"))
        if amount >= Decimal("10000000000000000") or _cn2an_slips(amount):
            continue
        for signed in (amount, -amount):
            assert to_capital(signed) == cn2an.an2cn(format(to_cents(signed), "f"), "rmb"), signed
        compared += 1
    assert compared > 35000


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
