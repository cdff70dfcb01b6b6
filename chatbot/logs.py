"""Log lines of the service: the one place that says what they look like.

`CHATBOT_LOG_FORMAT` chooses `text` (one readable line, the default of `make run`) or `json`
(one JSON object per line, for a log collector): `time`, `level`, `logger`, `message`,
`request_id`, and on the access line of each request `method`, `path`, `status` and
`duration_ms`. The configuration (`logging_config`) is handed to uvicorn, which applies it in
`chatbot serve`'s supervisor and in every worker, so uvicorn's own lines, ours and those of
the libraries come out alike. uvicorn's access log is replaced by the access line that
`api/request_log.py` writes when a response is finished: it knows the request id and the
duration, and it leaves out the query string and the client's address.

The request id lives in a context variable (`REQUEST_ID`), set by that middleware for the
task serving the request; threads the request hands work to (anyio's pool, the turn
threads) run in a copy of the context, so an engine warning written during a turn carries
the id too. Lines written outside a request (schedulers, start-up) have `request_id: null`.

Messages and exception texts are passed through the masking of replies
(`chatbot/security/masking.py`) before they are written: no code here logs what customers
type, and a card, ID or phone number that reaches a log line anyway (an error message
quoting a value) is masked like everywhere else.
"""
from __future__ import annotations

import json
import logging
import logging.config
import re
from contextvars import ContextVar
from datetime import datetime
from typing import Literal

LogFormat = Literal["text", "json"]

REQUEST_ID: ContextVar[str | None] = ContextVar("chatbot_request_id", default=None)
ACCESS_LOGGER = "chatbot.access"
# Fields of an access line, in the order they are written.
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")
# Libraries that log every outbound request (URLs of the WeChat API carry tokens,
# chatbot/channels/wechat/api_client.py) or each start's migration check at INFO; their
# warnings and errors still come through.
QUIET_LIBRARIES = ("httpx", "httpcore", "multipart", "asyncio", "alembic")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Gives every record the id of the request being handled (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


# Identifiers: letters and digits joined by - _ or . (model versions such as
# 20261207-045706-114e4c0b, hex ids, file names). One whose segment mixes digits with a letter
# other than x (an ID number's check character) is a name, not a number anyone typed: the
# masking would take its digits for a card.
_IDENTIFIER = re.compile(r"[0-9A-Za-z]+(?:[-_.][0-9A-Za-z]+)*")
_MIXED_SEGMENT = re.compile(r"(?:^|[-_.])(?=[0-9A-Za-z]*\d)(?=[0-9A-Za-z]*[A-WYZa-wyz])[0-9A-Za-z]+(?:$|[-_.])")


def _masked(text: str) -> str:
    """`text` with card, ID and phone numbers masked outside identifiers."""
    from chatbot.security.masking import mask_text  # imported on first use: the NLU folding tables

    if sum(c.isdigit() for c in text) < 11:  # the shortest number masked is a mobile phone's
        return text
    parts, last = [], 0
    for match in _IDENTIFIER.finditer(text):
        if _MIXED_SEGMENT.search(match.group()):
            parts += [mask_text(text[last:match.start()]), match.group()]
            last = match.end()
    parts.append(mask_text(text[last:]))
    return "".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; non-ASCII kept as is (Chinese messages stay readable)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _masked(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        for field in ACCESS_FIELDS:
            if hasattr(record, field):
                value = getattr(record, field)
                entry[field] = _masked(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = _masked(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = _masked(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request id] message`, masked like the JSON lines."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's names)
        values = {**record.__dict__, "message": _masked(record.message),
                  "request_id": getattr(record, "request_id", None) or "-"}
        return self._style._fmt % values

    def formatException(self, ei) -> str:  # noqa: N802
        return _masked(super().formatException(ei))


def logging_config(log_format: LogFormat = "text", level: str = "INFO") -> dict:
    """A `logging.config.dictConfig` dictionary: one handler on stderr for every logger.

    Also uvicorn's `log_config`; its access logger is left without a line of its own (serve
    it with `access_log=False`), since api/request_log.py writes the access line."""
    formatter = {"()": f"{__name__}.{'JsonFormatter' if log_format == 'json' else 'TextFormatter'}"}
    level = level.upper()
    uvicorn_logger = {"handlers": [], "level": level, "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        # uvicorn sets `use_colors` on formatters of these two names when told to.
        "formatters": {"default": formatter, "access": formatter},
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "handlers": {"default": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                 "formatter": "default", "filters": ["request_id"]}},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": uvicorn_logger, "uvicorn.error": uvicorn_logger, "uvicorn.access": uvicorn_logger,
            **{name: {"level": "WARNING"} for name in QUIET_LIBRARIES},
        },
    }


def configure(log_format: LogFormat = "text", level: str = "INFO") -> dict:
    """Apply `logging_config` to this process and return it (for uvicorn to apply in its workers)."""
    config = logging_config(log_format, level)
    logging.config.dictConfig(config)
    return config
