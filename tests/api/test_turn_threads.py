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


def test_messages_of_one_conversation_wait_without_holding_a_thread():
    """Five messages of one user fired at once, and one of another user: the other user's
    turn need not wait for the first user's queue (it finds a free thread)."""
    order: list[str] = []

    def slow(name: str):
        def turn() -> None:
            time.sleep(0.05)
            order.append(name)
        return turn

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for n in range(5):
                group.start_soon(run_turn, slow(f"same-{n}"), 2, "same-user")
            await anyio.sleep(0.01)
            group.start_soon(run_turn, slow("other"), 2, "other-user")

    anyio.run(main)
    assert order.index("other") <= 1  # served beside the first, not after all five
    assert [n for n in order if n.startswith("same")] == [f"same-{n}" for n in range(5)]


def test_a_second_limit_on_one_loop_is_its_own():
    async def main() -> tuple[int, int]:
        running = peak = 0

        def turn() -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            time.sleep(0.03)
            running -= 1

        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(run_turn, turn, 1)
        first = peak
        running = peak = 0
        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(run_turn, turn, 3)
        return first, peak

    assert anyio.run(main) == (1, 3)
