"""`CreditCards` over the demo bank's tables; mixed into `SqlBank` (chatbot/tools/sql_bank.py)."""
from __future__ import annotations


class SqlCreditCards:
    """Credit-card operations, inside the caller's transaction like the rest of `SqlBank`."""
