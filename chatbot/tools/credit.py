"""The credit-card part of the core-banking interface (statements, repayment, installments,
limits) and the value objects it returns. SQL implementation: chatbot/tools/sql_credit.py."""
from __future__ import annotations

from typing import Protocol


class CreditCards(Protocol):
    """Operations on one customer's credit cards."""
