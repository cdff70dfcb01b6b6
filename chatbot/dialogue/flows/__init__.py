"""Business flows; importing this package registers them (see `forms.flow`)."""
from chatbot.dialogue.flows import balance, bind, loan_calculator, loss, transactions, transfer  # noqa: F401
