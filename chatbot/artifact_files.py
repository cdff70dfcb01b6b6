"""Files the service builds for itself and keeps between starts (the FAQ index, the NLU
cache): written whole or not at all, and only the newest few of a kind kept."""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO


def write_whole(target: Path, write: Callable[[BinaryIO], None], *, mode: int | None = None) -> None:
    """Write ``target`` through a temporary file beside it, flushed to disk, then renamed (and
    the rename made durable where the file system allows): readers see the old file, the new
    one, or none. ``mode``: the new file's permissions. Raises OSError (nothing left behind)."""
    temporary = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        remove_quietly(temporary)
        raise
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    """fsync a directory after a rename in it (best effort: not every file system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        return
    finally:
        os.close(fd)


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
