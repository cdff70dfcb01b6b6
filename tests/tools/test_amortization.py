"""Amortization against schedules computed independently here, in exact Fractions.

The reference: the monthly rate r = annual / 12 as a Fraction; 等额本息's payment from the
closed-form annuity formula P·r·(1+r)^n / ((1+r)^n − 1) (P/n at 0%), rounded half up to the
cent; 等额本金's principal part P/n rounded to the cent; each period's interest is the
remaining balance times r, rounded half up; the last period takes whatever principal remains.
"""
from decimal import Decimal
from fractions import Fraction

import pytest

from chatbot.tools.amortization import InvalidInput, equal_installment, equal_principal, largest_principal, prepayment

RATES = ["0", "0.032", "0.049", "0.12"]
TERMS = [1, 12, 36, 360]
PRINCIPALS = ["100000", "1000000", "12345.67"]


def cents(value: Fraction) -> Fraction:
    """Round half up to the cent, in Fractions (amounts here are never negative)."""
    scaled = value * 100
    whole = scaled.numerator // scaled.denominator
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Fraction(whole, 100)


def reference(principal: str, annual: str, months: int, method: str) -> list[tuple[Fraction, ...]]:
    p, r = Fraction(principal), Fraction(annual) / 12
    if method == "installment":
        payment = cents(p / months if r == 0 else p * r * (1 + r) ** months / ((1 + r) ** months - 1))
    else:
        part = cents(p / months)
    rows, remaining = [], p
    for number in range(1, months + 1):
        interest = cents(remaining * r)
        if number == months:
            principal_part = remaining
        else:
            principal_part = payment - interest if method == "installment" else part
        remaining -= principal_part
        rows.append((principal_part + interest, principal_part, interest, remaining))
    return rows


def as_fractions(schedule) -> list[tuple[Fraction, ...]]:
    return [(Fraction(p.payment), Fraction(p.principal), Fraction(p.interest), Fraction(p.remaining))
            for p in schedule.periods]


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("months", TERMS)
@pytest.mark.parametrize("method,compute", [("installment", equal_installment), ("principal", equal_principal)])
def test_schedule_matches_the_independent_reference(principal, rate, months, method, compute):
    schedule = compute(Decimal(principal), Decimal(rate), months)
    expected = reference(principal, rate, months, method)
    assert len(schedule.periods) == months
    assert [p.number for p in schedule.periods] == list(range(1, months + 1))
    assert as_fractions(schedule) == expected  # every payment, principal part, interest, balance
    # Every amount is whole cents; the last payment closes the balance to exactly 0.00.
    for period in schedule.periods:
        for value in (period.payment, period.principal, period.interest, period.remaining):
            assert value == value.quantize(Decimal("0.01"))
    assert schedule.periods[-1].remaining == Decimal("0.00")
    assert sum(p.principal for p in schedule.periods) == Decimal(principal)
    assert Fraction(schedule.total_interest) == sum(row[2] for row in expected)
    assert Fraction(schedule.total_payment) == Fraction(principal) + sum(row[2] for row in expected)
    assert schedule.first_payment == schedule.periods[0].payment
    assert schedule.last_payment == schedule.periods[-1].payment


@pytest.mark.parametrize("rate", RATES)
def test_equal_installment_pays_the_same_every_month_but_the_last(rate):
    schedule = equal_installment(Decimal("100000"), Decimal(rate), 36)
    payments = {p.payment for p in schedule.periods[:-1]}
    assert len(payments) == 1
    assert abs(schedule.last_payment - schedule.first_payment) <= Decimal("0.36")  # rounding only


def test_known_figures():
    # 100,000 at 3.20% over 36 months; 1,000,000 at 4.90% over 30 years (a classic mortgage figure).
    assert equal_installment(Decimal("100000"), Decimal("0.032"), 36).first_payment == Decimal("2916.94")
    assert equal_installment(Decimal("1000000"), Decimal("0.049"), 360).first_payment == Decimal("5307.27")
    principal = equal_principal(Decimal("1000000"), Decimal("0.049"), 360)
    assert principal.first_payment == Decimal("6861.11")
    # The textbook P·r·(n+1)/2 = 737,041.67 uses unrounded principal parts; ours are whole
    # cents (2,777.78, the last 2,776.98), so the interest is a few cents' rounding away.
    assert principal.total_interest == Decimal("737041.08")
    assert abs(principal.total_interest - Decimal("737041.67")) < 1


def test_zero_rate_has_no_interest():
    for compute in (equal_installment, equal_principal):
        schedule = compute(Decimal("100.00"), Decimal("0"), 3)
        assert [p.payment for p in schedule.periods] == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
        assert schedule.total_interest == Decimal("0.00")


def test_equal_principal_pays_less_interest_than_equal_installment():
    for rate in RATES[1:]:
        assert (equal_principal(Decimal("200000"), Decimal(rate), 36).total_interest
                < equal_installment(Decimal("200000"), Decimal(rate), 36).total_interest)


@pytest.mark.parametrize("principal,rate,months", [
    (Decimal("0"), Decimal("0.03"), 12), (Decimal("-1"), Decimal("0.03"), 12), (Decimal("100"), Decimal("-0.01"), 12),
    (Decimal("100"), Decimal("0.03"), 0), (Decimal("100"), Decimal("0.03"), 361), (Decimal("100"), Decimal("0.03"), 12.0),
    (Decimal("100.001"), Decimal("0.03"), 12), ("abc", Decimal("0.03"), 12), (100.5, Decimal("0.03"), 12),
    (Decimal("NaN"), Decimal("0.03"), 12), (Decimal("100"), Decimal("Infinity"), 12),
])
def test_invalid_input_is_refused_clearly(principal, rate, months):
    for compute in (equal_installment, equal_principal):
        with pytest.raises(InvalidInput) as raised:
            compute(principal, rate, months)
        assert raised.value.message and raised.value.code == "invalid_loan_terms"


def reference_payment(principal, annual: str, months: int) -> Fraction:
    """等额本息's monthly payment by the closed-form annuity formula, in Fractions."""
    p, r = Fraction(principal), Fraction(annual) / 12
    return cents(p / months if r == 0 else p * r * (1 + r) ** months / ((1 + r) ** months - 1))


@pytest.mark.parametrize("outstanding, rate, months, prepaid, current", [
    ("50346.10", "0.032", 30, "20000", "1800.00"),
    ("100000", "0.049", 240, "30000", "654.44"),
    ("12345.67", "0", 12, "345.67", "1028.81"),
])
def test_prepayment_matches_the_independent_reference(outstanding, rate, months, prepaid, current):
    estimate = prepayment(Decimal(outstanding), Decimal(rate), months, Decimal(prepaid), Decimal(current))
    remaining = Fraction(outstanding) - Fraction(prepaid)
    assert Fraction(estimate.remaining) == remaining
    assert Fraction(estimate.new_payment) == reference_payment(remaining, rate, months)
    # The shortened term: the fewest periods whose payment is at most the current one.
    kept = estimate.months_if_kept
    assert 1 <= kept <= months and reference_payment(remaining, rate, kept) <= Fraction(current)
    assert kept == 1 or reference_payment(remaining, rate, kept - 1) > Fraction(current)


def test_prepaying_everything_is_settling_not_an_estimate():
    with pytest.raises(InvalidInput):
        prepayment(Decimal("1000"), Decimal("0.032"), 12, Decimal("1000"), Decimal("90"))


@pytest.mark.parametrize("payment, rate, months", [("4800", "0.032", 36), ("1234.56", "0.03", 120), ("50", "0", 3)])
def test_largest_principal_is_the_last_step_that_fits(payment, rate, months):
    largest = largest_principal(Decimal(payment), Decimal(rate), months)
    assert largest % 100 == 0 and largest > 0
    assert reference_payment(largest, rate, months) <= Fraction(payment)
    assert reference_payment(largest + 100, rate, months) > Fraction(payment)
    assert largest_principal(Decimal("0"), Decimal(rate), months) == Decimal("0.00")
