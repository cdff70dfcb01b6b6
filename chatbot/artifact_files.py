"""Files the service builds for itself and keeps between starts (the FAQ index, the NLU
cache): written whole or not at all, and only the newest few of a kind kept."""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO


def write_whole(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``target`` through a temporary file beside it, flushed to disk, then renamed:
    readers see the old file, the new one, or none. Raises OSError (nothing left behind)."""
    temporary = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError:
        remove_quietly(temporary)
        raise


def keep_newest(paths: Iterable[Path], count: int, keep: Path) -> None:
    """Remove all but the ``count`` newest of ``paths`` (never ``keep``); best effort."""
    for path in sorted(paths, key=_mtime, reverse=True)[count:]:
        if path != keep:
            remove_quietly(path)


def remove_quietly(path: Path) -> None:
    """Best-effort removal: a file already gone or not removable is left to the next prune."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        return


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
