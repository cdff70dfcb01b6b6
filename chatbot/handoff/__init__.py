"""Human handoff: the queue, agents' sessions, live events, metrics (docs/handoff.md)."""
