"""Double-entry postings are balanced, Decimal and all-or-nothing."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from chatbot.errors import InvalidInput
from chatbot.storage.ledger import Leg, internal_account, post
from chatbot.storage.models import Account, LedgerEntry


def _accounts(db):
    savings = db.scalar(select(Account).where(Account.account_no.like("%1234")))
    return savings, internal_account(db, "BANK-CLEARING")


def test_post_moves_both_balances(backend, database, clock):
    with database.write() as db:
        savings, clearing = _accounts(db)
        before = savings.balance
        post(db, reference="T-test-1", kind="transfer", description="测试", at=clock.now(),
             legs=[Leg(savings, Decimal("-100.25")), Leg(clearing, Decimal("100.25"))])
    with database.read() as db:
        savings, _ = _accounts(db)
        assert savings.balance == before - Decimal("100.25")


@pytest.mark.parametrize("amounts", [("-1.00", "0.99"), ("-0.001", "0.001"), ("-5.00",)])
def test_unbalanced_or_sub_cent_postings_are_refused_and_leave_nothing(backend, database, clock, amounts):
    with database.read() as db:
        count = db.scalar(select(func.count()).select_from(LedgerEntry))
    with pytest.raises(InvalidInput), database.write() as db:
        savings, clearing = _accounts(db)
        legs = [Leg(savings if i == 0 else clearing, Decimal(a)) for i, a in enumerate(amounts)]
        post(db, reference="T-bad", kind="transfer", description="坏分录", at=clock.now(), legs=legs)
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(LedgerEntry)) == count


def test_a_failure_after_posting_rolls_everything_back(backend, database, clock):
    with database.read() as db:
        before = _accounts(db)[0].balance
    with pytest.raises(RuntimeError), database.write() as db:
        savings, clearing = _accounts(db)
        post(db, reference="T-rollback", kind="transfer", description="回滚", at=clock.now(),
             legs=[Leg(savings, Decimal("-10.00")), Leg(clearing, Decimal("10.00"))])
        raise RuntimeError("crash between posting and commit")
    with database.read() as db:
        assert _accounts(db)[0].balance == before
