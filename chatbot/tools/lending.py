"""The applications and loans part of the core-banking interface (card and loan applications
with stages, loans with schedules) and its value objects. SQL implementation:
chatbot/tools/sql_lending.py."""
from __future__ import annotations

from typing import Protocol


class Lending(Protocol):
    """Applications and loans of one customer; stage moves for the back office."""
