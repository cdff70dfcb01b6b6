"""Messages the bank sends to a customer outside a reply (agent messages, late answers).

The web page reads its transcript, so it needs nothing here; channels that must push
(WeChat's customer-service message API) register an `OutboundChannel` at start-up.
"""
from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class OutboundChannel(Protocol):
    def deliver(self, user_id: str, text: str) -> None:
        """Send `text` to the channel user; raise on failure after the channel's own retries."""
        ...


class OutboundRegistry:
    """Channel name -> outbound sender."""

    def __init__(self) -> None:
        self._channels: dict[str, OutboundChannel] = {}

    def register(self, channel: str, sender: OutboundChannel) -> None:
        self._channels[channel] = sender

    def deliver(self, channel: str, user_id: str, text: str) -> bool:
        """Push through the channel if it needs pushing; False when the channel pulls instead."""
        sender = self._channels.get(channel)
        if sender is None:
            return False
        sender.deliver(user_id, text)
        return True
