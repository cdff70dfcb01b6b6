"""The WeChat official-account channel: an adapter between WeChat's XML callback and the engine.

    errors.py       WeChat-specific errors (one root: `ChatbotError`)
    security.py     callback signatures (constant time), freshness, safe-mode AES (wechatpy crypto)
    inbound.py      parsed wechatpy message -> one `Inbound` (chat text, fixed answer, event)
    menu.py         the custom menu (`data/wechat_menu.yaml`): CLICK keys -> texts, push payload
    replies.py      passive XML replies and the fixed texts (welcome, non-text messages)
    dedupe.py       the 5-second rule: one run per MsgId, retries wait for its answer (memory, Redis)
    token_store.py  access-token storage with a refresh lock (memory, Redis)
    api_client.py   WeChat's HTTP API: tokens, customer-service, template and menu calls, retries
    outbound.py     customer-service messages for the outbound registry (agent replies, late answers)
    templates.py    template messages (notifications) under WeChat's current field rules
    adapter.py      `WeChatChannel`: verify, decrypt, parse, dedupe, run, reply
    setup.py        builds all of it from `Services`

The adapter maps an openid to the engine's `user_id` and knows nothing about NLU: menu keys
become customer texts through data, and the engine decides what they mean.
"""
