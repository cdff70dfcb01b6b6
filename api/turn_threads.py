"""Engine turns run in a few threads of their own, not in anyio's shared pool of 40.

A turn is mostly Python holding the GIL: sixteen turns at once in sixteen threads spend CPU
handing the GIL around instead of answering (bench/load.py measured fewer turns per second
and more CPU per turn with the shared pool). A couple of threads per worker still let one
turn's database waits overlap another turn's work. Settings: `turn_threads`.

Messages of one conversation wait for each other here, in the event loop, before taking a
thread: the engine serializes them anyway, and a client firing many at once for its own
user must not hold every thread of the worker while they queue.
"""
from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

from anyio import CapacityLimiter, to_thread

T = TypeVar("T")


class _LoopState:
    """What belongs to one event loop (a limiter and asyncio locks cannot be shared between
    loops; tests run several)."""

    def __init__(self) -> None:
        self.limiters: dict[int, CapacityLimiter] = {}
        self.conversations: dict[str, tuple[asyncio.Lock, int]] = {}

    def limiter(self, threads: int) -> CapacityLimiter:
        if threads not in self.limiters:
            self.limiters[threads] = CapacityLimiter(threads)
        return self.limiters[threads]


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()


async def run_turn(work: Callable[[], T], threads: int, conversation: str = "") -> T:
    """Run `work` in one of at most `threads` threads of this event loop, after the earlier
    messages of `conversation` (when given) are done."""
    loop = asyncio.get_running_loop()
    state = _loops.get(loop)
    if state is None:
        state = _loops[loop] = _LoopState()
    if not conversation:
        return await to_thread.run_sync(work, limiter=state.limiter(threads))
    lock, waiting = state.conversations.get(conversation, (asyncio.Lock(), 0))
    state.conversations[conversation] = (lock, waiting + 1)
    try:
        async with lock:
            return await to_thread.run_sync(work, limiter=state.limiter(threads))
    finally:
        lock, waiting = state.conversations[conversation]
        if waiting == 1:
            del state.conversations[conversation]
        else:
            state.conversations[conversation] = (lock, waiting - 1)
