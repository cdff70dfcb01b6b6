"""Chat turns run in a few threads of their own (api/turn_threads.py)."""
from __future__ import annotations

import threading
import time

import anyio

from api.turn_threads import run_turn


def test_no_more_turns_run_at_once_than_threads_allowed():
    running, peak, guard = 0, 0, threading.Lock()

    def turn() -> str:
        nonlocal running, peak
        with guard:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with guard:
            running -= 1
        return threading.current_thread().name

    async def main() -> list[str]:
        names: list[str] = []

        async def one() -> None:
            names.append(await run_turn(turn, 2))

        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(one)
        return names

    names = anyio.run(main)
    assert len(names) == 6 and peak == 2


def test_each_event_loop_gets_its_own_limit():
    """A limiter belongs to its loop: a second loop (another test client) must not inherit it."""
    assert anyio.run(run_turn, lambda: 1, 1) == 1
    assert anyio.run(run_turn, lambda: 2, 3) == 2
