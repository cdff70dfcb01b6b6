"""The notification job inside `chatbot serve`: a daemon thread per worker process.

It runs the job once shortly after start and then every `CHATBOT_NOTIFY_INTERVAL_SECONDS`
(0 turns it off; `chatbot notify run` from cron does the same work). With several workers
each runs its own thread; the job's claims keep every event told once (docs/notifications.md).
A failed run (database away, say) is logged and the next one tries again.
"""
from __future__ import annotations

import logging
import threading

from chatbot.notify.job import NotifyJob

log = logging.getLogger(__name__)

FIRST_RUN_DELAY_SECONDS = 2.0  # let the worker finish starting before the first run


class NotifyScheduler:
    def __init__(self, job: NotifyJob, interval_seconds: float,
                 first_delay_seconds: float = FIRST_RUN_DELAY_SECONDS) -> None:
        if interval_seconds <= 0:
            raise ValueError("the notification interval must be positive")
        self.job = job
        self.interval = interval_seconds
        self.first_delay = min(first_delay_seconds, interval_seconds)
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="notify-scheduler", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        delay = self.first_delay
        while not self._stop.wait(delay):
            try:
                self.job.run()
            except Exception:
                log.exception("notification job failed; will retry in %ss", self.interval)
            self.runs += 1
            delay = self.interval
