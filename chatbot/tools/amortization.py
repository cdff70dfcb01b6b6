"""Loan amortization in exact Decimal: 等额本息 (equal installments) and 等额本金 (equal principal).

Pure functions, no I/O. The monthly rate is the annual rate / 12 (simple annual rate, as the
bank quotes it); each period's interest is the remaining principal times the monthly rate,
rounded to the cent (ROUND_HALF_UP), and so is each payment. The LAST payment is adjusted so
that the remaining principal closes to exactly 0.00: the principal parts always add up to the
principal.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from chatbot import errors

CENT = Decimal("0.01")
MAX_MONTHS = 360


class InvalidInput(errors.InvalidInput):
    """A principal, rate or term the calculator cannot use; the message says which."""

    default_code = "invalid_loan_terms"


@dataclass(frozen=True)
class Period:
    number: int
    payment: Decimal
    principal: Decimal
    interest: Decimal
    remaining: Decimal


@dataclass(frozen=True)
class Schedule:
    method: str  # "equal_installment" | "equal_principal"
    principal: Decimal
    annual_rate: Decimal  # a fraction: 0.032 is 3.20%
    months: int
    periods: tuple[Period, ...]

    @property
    def total_payment(self) -> Decimal:
        return sum((p.payment for p in self.periods), Decimal("0.00"))

    @property
    def total_interest(self) -> Decimal:
        return sum((p.interest for p in self.periods), Decimal("0.00"))

    @property
    def first_payment(self) -> Decimal:
        return self.periods[0].payment

    @property
    def last_payment(self) -> Decimal:
        return self.periods[-1].payment


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _check(principal, annual_rate, months) -> tuple[Decimal, Decimal, int]:
    if isinstance(principal, float) or isinstance(annual_rate, float):
        raise InvalidInput("金额和利率请用 Decimal 或字符串，不能用浮点数")
    try:
        principal, annual_rate = Decimal(principal), Decimal(annual_rate)
    except (ArithmeticError, ValueError, TypeError):
        raise InvalidInput("金额或利率不是数字") from None
    if not principal.is_finite() or principal <= 0:
        raise InvalidInput("借款金额必须大于 0")
    if principal != _cents(principal):
        raise InvalidInput("借款金额最多两位小数")
    if not annual_rate.is_finite() or annual_rate < 0:
        raise InvalidInput("年利率不能为负数")
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(f"期数必须是 1 至 {MAX_MONTHS} 之间的整数")
    return principal, annual_rate, months


def _periods(principal: Decimal, rate: Decimal, months: int, principal_part) -> tuple[Period, ...]:
    """The schedule: `principal_part(interest)` is this period's principal before the last."""
    remaining, periods = principal, []
    for number in range(1, months + 1):
        interest = _cents(remaining * rate)
        part = remaining if number == months else min(principal_part(interest), remaining)
        remaining -= part
        periods.append(Period(number, part + interest, part, interest, remaining))
    return tuple(periods)


def equal_installment(principal, annual_rate, months: int) -> Schedule:
    """等额本息: the same payment every month (the last one adjusted to close the balance)."""
    principal, annual_rate, months = _check(principal, annual_rate, months)
    with localcontext() as context:
        context.prec = 50
        rate = annual_rate / 12
        if rate == 0:
            payment = _cents(principal / months)
        else:
            growth = (1 + rate) ** months
            payment = _cents(principal * rate * growth / (growth - 1))
        periods = _periods(principal, rate, months, lambda interest: payment - interest)
    return Schedule("equal_installment", principal, annual_rate, months, periods)


def equal_principal(principal, annual_rate, months: int) -> Schedule:
    """等额本金: the same principal every month plus the interest on what remains."""
    principal, annual_rate, months = _check(principal, annual_rate, months)
    with localcontext() as context:
        context.prec = 50
        rate = annual_rate / 12
        part = _cents(principal / months)
        periods = _periods(principal, rate, months, lambda interest: part)
    return Schedule("equal_principal", principal, annual_rate, months, periods)


@dataclass(frozen=True)
class PrepaymentEstimate:
    """What a partial prepayment of a loan would do (等额本息 on what then remains)."""

    outstanding: Decimal  # principal owed before the prepayment
    prepaid: Decimal
    remaining: Decimal  # principal owed after it
    months: int  # periods still to pay
    new_payment: Decimal  # the monthly payment over the same periods
    months_if_kept: int  # periods needed when the payment stays `current_payment`
    current_payment: Decimal


def prepayment(outstanding, annual_rate, months: int, prepaid, current_payment) -> PrepaymentEstimate:
    """Prepaying `prepaid` of `outstanding` with `months` periods left: the new 等额本息 payment
    over those periods, and the fewest periods whose payment is at most `current_payment`
    (the term shortened, the payment kept). Less than the whole principal must be prepaid."""
    outstanding, annual_rate, months = _check(outstanding, annual_rate, months)
    prepaid, _rate, _months = _check(prepaid, annual_rate, months)
    current, _rate, _months = _check(current_payment, annual_rate, months)
    if prepaid >= outstanding:
        raise InvalidInput("提前还款金额不小于剩余本金，即一次性结清")
    remaining = outstanding - prepaid
    new_payment = equal_installment(remaining, annual_rate, months).first_payment
    kept = next(n for n in range(1, months + 1)
                if equal_installment(remaining, annual_rate, n).first_payment <= current or n == months)
    return PrepaymentEstimate(outstanding, prepaid, remaining, months, new_payment, kept, current)


def largest_principal(max_payment, annual_rate, months: int, method: str = "equal_installment",
                      step=Decimal("100")) -> Decimal:
    """The largest principal, in whole `step`s, whose first payment is at most `max_payment`
    (0.00 when not even one step fits)."""
    schedule = {"equal_installment": equal_installment, "equal_principal": equal_principal}[method]
    max_payment, annual_rate, months = Decimal(max_payment), Decimal(annual_rate), months
    step = Decimal(step)
    if max_payment <= 0:
        return Decimal("0.00")
    low, high = 0, int(max_payment * months / step) + 1  # the payment is at least principal / months
    while low < high:  # the largest count of steps that fits
        middle = (low + high + 1) // 2
        if schedule(step * middle, annual_rate, months).first_payment <= max_payment:
            low = middle
        else:
            high = middle - 1
    return _cents(step * low)
