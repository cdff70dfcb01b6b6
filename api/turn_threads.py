"""Engine turns run in a few threads of their own, not in anyio's shared pool of 40.

A turn is mostly Python holding the GIL: sixteen turns at once in sixteen threads spend CPU
handing the GIL around instead of answering (bench/load.py measured fewer turns per second
and more CPU per turn with the shared pool). A couple of threads per worker still let one
turn's database waits overlap another turn's work. Settings: `turn_threads`.
"""
from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

from anyio import CapacityLimiter, to_thread

T = TypeVar("T")

# One limiter per event loop (a limiter belongs to the loop it was made in; tests run several).
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()


async def run_turn(work: Callable[[], T], threads: int) -> T:
    """Run `work` in one of at most `threads` threads of this event loop."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(threads)
    return await to_thread.run_sync(work, limiter=limiter)
