"""Builds the WeChat channel from `Services`: shared state in Redis when configured.

`build_wechat(services)` registers the customer-service sender with `services.outbound`
(when CHATBOT_WECHAT_APPID and CHATBOT_WECHAT_SECRET are set) and returns everything the
HTTP layer needs; `close()` it at shutdown. `build_api(settings)` is what the CLI uses.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from chatbot.channels.wechat.adapter import EventRecorder, WeChatChannel, WeChatConfig
from chatbot.channels.wechat.api_client import WeChatApi
from chatbot.channels.wechat.dedupe import Dedupe, MemoryDedupe, RedisDedupe
from chatbot.channels.wechat.menu import EMPTY_MENU, load_menu
from chatbot.channels.wechat.outbound import FailureHook, WeChatOutbound
from chatbot.channels.wechat.outbox import OutboxPolicy, WeChatOutbox
from chatbot.channels.wechat.replies import ProductLinks
from chatbot.channels.wechat.templates import TemplateNotifier
from chatbot.channels.wechat.token_store import MemoryTokenStore, RedisTokenStore, TokenStore
from chatbot.clock import Clock
from chatbot.storage import audit
from chatbot.storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class WeChatWiring:
    channel: WeChatChannel
    api: WeChatApi | None = None            # None until APPID and SECRET are configured
    outbound: WeChatOutbound | None = None
    notifier: TemplateNotifier | None = None
    redis: redis.Redis | None = None
    outbox: WeChatOutbox | None = None      # failed deliveries, sent again by the notification job

    def retry_outbox(self) -> str | None:
        """Send the outbox's due messages once; the report line (None when nothing happened)."""
        if self.outbox is None or self.api is None:
            return None
        return self.outbox.run(self.api).line()

    def close(self) -> None:
        self.channel.close()
        if self.api is not None:
            self.api.close()
        if self.redis is not None:
            self.redis.close()


def build_wechat(services) -> WeChatWiring:
    """The channel of this process; registers the `wechat` outbound sender when it can send."""
    settings = services.settings
    client = redis_client(settings.redis_url)
    dedupe: Dedupe = RedisDedupe(client) if client is not None else MemoryDedupe()
    record = database_recorder(services.database, services.clock)
    api = build_api(settings, client) if settings.wechat_appid and settings.wechat_secret else None
    outbound = notifier = outbox = None
    if api is not None:
        on_failure = failure_recorder(record)
        outbox = build_outbox(settings, services.database, services.clock, on_failure)
        outbound = WeChatOutbound(api, on_failure=on_failure, outbox=outbox)
        notifier = TemplateNotifier.from_settings(api, settings, on_failure=on_failure, outbox=outbox)
        services.outbound.register("wechat", outbound)
    menu = load_menu(settings.wechat_menu_path) if settings.wechat_token else EMPTY_MENU
    channel = WeChatChannel(WeChatConfig.from_settings(settings), services.engine, dedupe, menu=menu,
                            outbound=outbound, record_event=record, clock=services.clock,
                            links=ProductLinks(settings.public_base_url))
    return WeChatWiring(channel, api, outbound, notifier, client, outbox)


def build_outbox(settings, database: Database, clock: Clock, on_give_up: FailureHook | None) -> WeChatOutbox:
    """The outbox with the settings' backoff; a given-up message is recorded like a failure."""
    return WeChatOutbox(database, clock, OutboxPolicy.from_settings(settings), on_give_up=on_give_up)


def redis_client(url: str | None) -> redis.Redis | None:
    """A client that gives up quickly: a Redis outage must not eat WeChat's 5 seconds
    (redis-py's default retries take about 4 s per command; the callers fall back instead)."""
    if not url:
        return None
    retry = Retry(ExponentialBackoff(cap=0.2, base=0.02), 1)
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2, retry=retry)


def build_api(settings, client: redis.Redis | None = None) -> WeChatApi:
    """The API client; its token lives in Redis when configured, shared with every worker."""
    store: TokenStore = (RedisTokenStore(client, settings.wechat_appid or "") if client is not None
                         else MemoryTokenStore())
    return WeChatApi.from_settings(settings, store)


def database_recorder(database: Database, clock: Clock) -> EventRecorder:
    """Records channel events (subscribe, unsubscribe, failed deliveries) in the audit log."""

    def record(openid: str, action: str, detail: dict) -> None:
        with database.write() as db:
            audit.record(db, f"wechat:{openid}", action, openid, clock.now(), **detail)

    return record


def failure_recorder(record: EventRecorder) -> FailureHook:
    def on_failure(openid: str, text: str, reason: str) -> None:
        record(openid, "wechat.delivery_failed", {"text": text, "reason": reason})

    return on_failure
