"""Financial news (issue 17; docs/news.md).

    catalogue.py      the five categories, what a message names, published items, publish/unpublish
    subscriptions.py  a customer's subscription: categories, frequency, active / paused / cancelled
    push.py           digests at each subscriber's frequency and important items at once
                      (`chatbot push run`, and a scheduler inside `chatbot serve`)

Delivery reuses the notification layer (chatbot/notify/deliver.py): a bot line in the
customer's latest web history and every WeChat follower's transcript, then a WeChat push.
"""
