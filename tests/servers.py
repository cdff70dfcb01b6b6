"""Helpers for tests that start real server processes (`chatbot serve`, uvicorn)."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

START_TIMEOUT_S = 90


def wait_healthy(base: str, process: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT_S) -> None:
    """Wait until `GET {base}/healthz` answers 200; fail with the end of the server's log when
    the process exits first or does not come up in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server on {base} did not start: {log.read_text(errors='replace')[-2000:]}")


def stop_process(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM (a server's graceful stop), then SIGKILL if it is still there after `grace` s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
