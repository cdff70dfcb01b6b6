"""Rich replies flows say (docs/rich_replies.md): each with its whole plain text, for the
channels that draw nothing more."""
from __future__ import annotations

from collections.abc import Sequence

from chatbot.messages import Rich


def links(caption: str, targets: Sequence[tuple[str, str]]) -> Rich:
    """Download links: `caption`, then `label：url` lines as plain text; labelled buttons on the page."""
    text = "\n".join([caption, *(f"{label}：{url}" for label, url in targets)])
    return Rich(text, "link", caption=caption, links=[{"label": label, "url": url} for label, url in targets])


def card(text: str, title: str, rows: Sequence[tuple[str, str]], buttons: Sequence[dict] = (), **more) -> Rich:
    """A card: `title` and label/value rows; `text` is how plain channels say the same.
    `more`: further fields, e.g. `product={"kind": "wealth", "code": …}` for a product card."""
    extra = {"buttons": list(buttons)} if buttons else {}
    return Rich(text, "card", title=title, rows=[{"label": label, "value": value} for label, value in rows],
                **extra, **more)


def table(text: str, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Rich:
    return Rich(text, "table", title=title, columns=list(columns), rows=[list(row) for row in rows])
