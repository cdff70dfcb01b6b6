"""Core-banking tools: what the dialogue can do to accounts. They know nothing of channels or NLU."""
