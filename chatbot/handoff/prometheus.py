"""Render a handoff metrics snapshot in the Prometheus text exposition format (0.0.4).

Everything is a gauge over the snapshot's window (a sliding window is not a counter).
`/metrics` is not authenticated, so agents are labelled by staff id, never by username or
name (the admin API's metrics, behind a login, name them).
"""
from __future__ import annotations

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def gauge(self, name: str, help_text: str, samples: list[tuple[dict, float | None]]) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for labels, value in samples:
            if value is not None:
                self.lines.append(f"{name}{_labels(labels)} {float(value):g}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(snapshot: dict) -> str:
    window = f"{snapshot['window_hours']}h"
    out = _Writer()
    out.gauge("chatbot_handoff_queue_length", "Customers waiting for an agent now.",
              [({}, snapshot["queue_length"])])
    out.gauge("chatbot_handoff_oldest_wait_seconds", "How long the longest-waiting customer has waited.",
              [({}, snapshot["oldest_wait_seconds"])])
    out.gauge("chatbot_handoff_tickets", "Handoff tickets created in the window, by current status.",
              [({"status": s, "window": window}, n) for s, n in snapshot["tickets"].items()])
    for key, help_text in (("wait_seconds", "Queued to accepted."),
                           ("first_response_seconds", "Accepted to the agent's first message."),
                           ("handle_seconds", "Accepted to released or closed.")):
        stats = snapshot[key]
        out.gauge(f"chatbot_handoff_{key}", f"{help_text} Statistics over tickets of the window.",
                  [({"stat": stat, "window": window}, stats[stat]) for stat in ("avg", "p50", "p90", "max")])
    res = snapshot["resolution"]
    out.gauge("chatbot_handoff_resolution_ratio",
              "Closed tickets whose customer did not ask for a person again within a day.",
              [({"window": window}, res["rate"])])
    ratings = snapshot["ratings"]
    out.gauge("chatbot_handoff_rating_average", "Average customer rating (1-5) per agent.",
              [({"agent_id": r["staff_id"], "window": window}, r["average"]) for r in ratings.values()])
    out.gauge("chatbot_handoff_ratings", "Number of customer ratings per agent and score.",
              [({"agent_id": r["staff_id"], "rating": score, "window": window}, n)
               for r in ratings.values() for score, n in r["distribution"].items()])
    outbox = snapshot.get("wechat_outbox")
    if outbox is not None:  # chatbot/channels/wechat/outbox.py: alert on failed or an old pending row
        out.gauge("chatbot_wechat_outbox_messages", "WeChat messages in the outbox now, by status.",
                  [({"status": "pending"}, outbox["pending"]), ({"status": "failed"}, outbox["failed"])])
        out.gauge("chatbot_wechat_outbox_oldest_pending_seconds", "Age of the oldest WeChat message waiting for a retry.",
                  [({}, outbox["oldest_pending_seconds"])])
    return out.text()
