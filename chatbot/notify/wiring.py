"""The scheduler of `chatbot serve`, built from the worker's services and WeChat wiring."""
from __future__ import annotations

from chatbot.handoff.expiry import QueueExpiry
from chatbot.notify.deliver import WeChatPusher
from chatbot.notify.job import NotifyJob, product_names
from chatbot.notify.scheduler import NotifyScheduler


def upkeep(services, wechat) -> list:
    """What runs on the notification job's schedule besides it: the WeChat outbox's retries,
    expiring handoff tickets queued longer than CHATBOT_HANDOFF_QUEUE_MINUTES."""
    jobs = []
    if services is not None and services.settings.handoff_queue_minutes > 0:
        jobs.append(QueueExpiry(services.database, services.clock, services.settings.handoff_queue_minutes,
                                bus=services.handoff.events, outbound=services.outbound).run)
    if wechat is not None and getattr(wechat, "outbox", None) is not None:
        jobs.append(wechat.retry_outbox)
    return jobs


def start_notifications(services, wechat) -> NotifyScheduler | None:
    """Start the job's thread unless CHATBOT_NOTIFY_INTERVAL_SECONDS is 0; `stop()` it at shutdown."""
    interval = services.settings.notify_interval_seconds
    if interval <= 0:
        return None
    graph = getattr(services.knowledge.graph, "graph", None)  # the knowledge desk's product graph
    job = NotifyJob(services.database, services.clock, pusher=WeChatPusher.of(wechat), bus=services.handoff.events,
                    names=product_names(graph) if graph is not None else None, upkeep=upkeep(services, wechat))
    scheduler = NotifyScheduler(job, interval)
    scheduler.start()
    return scheduler
