"""Dialogue policy: decides what the bot says and does for each understood message."""
