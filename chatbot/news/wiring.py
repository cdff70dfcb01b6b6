"""The news push scheduler of `chatbot serve` (a sibling of the notification scheduler)."""
from __future__ import annotations

from chatbot.news.push import NewsPushJob
from chatbot.notify.deliver import WeChatPusher
from chatbot.notify.scheduler import NotifyScheduler


def news_job(services, wechat) -> NewsPushJob:
    return NewsPushJob(services.database, services.clock, pusher=WeChatPusher.of(wechat), bus=services.handoff.events)


def start_news_push(services, wechat) -> NotifyScheduler | None:
    """Start the push thread unless CHATBOT_NEWS_PUSH_INTERVAL_SECONDS is 0; `stop()` it at shutdown."""
    interval = services.settings.news_push_interval_seconds
    if interval <= 0:
        return None
    scheduler = NotifyScheduler(news_job(services, wechat), interval)
    scheduler.start()
    return scheduler
