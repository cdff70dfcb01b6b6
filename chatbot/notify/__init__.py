"""Notifications at key nodes (issue 16; docs/notifications.md).

An application submitted, approved, refused, a card mailed, a loan disbursed, a credit-card
statement due within 3 days: each is told once to the customer it concerns, through the
channel layer (a bot line in the web transcript, a WeChat template or customer-service
message), however often and on however many workers the job runs.

    events.py     what happened that nobody was told of yet
    texts.py      the words (masked, amounts as `2,345.67 元`)
    deliver.py    recording a notice with its transcript lines; WeChat pushes after the commit
    job.py        one run: record what is pending, then push (`chatbot notify run`)
    scheduler.py  the background thread of `chatbot serve`
"""
