"""An exclusive lock between processes on a lock file (`fcntl.flock`), waited for with a
deadline: for rare admin writes (FAQ edits, model promotions) that must take turns across
workers and hosts sharing a directory, where a caller should get a clear "busy" rather than
wait forever."""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_S = 0.05


def acquire(path: Path, deadline: float, busy: Callable[[], Exception], mode: int = 0o600) -> int:
    """Open `path` and take its lock; the open descriptor (closing it releases the lock).
    Raises `busy()` when `time.monotonic()` passes `deadline` first."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, mode)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy() from None
                time.sleep(POLL_S)
    except BaseException:
        os.close(fd)
        raise


@contextmanager
def held(path: Path, timeout: float, busy: Callable[[], Exception], mode: int = 0o600) -> Iterator[None]:
    """Hold the lock of `path` for the block (each call opens the file anew, so two holders
    in one process exclude each other too)."""
    fd = acquire(path, time.monotonic() + timeout, busy, mode)
    try:
        yield
    finally:
        os.close(fd)
