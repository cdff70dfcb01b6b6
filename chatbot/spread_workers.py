"""`chatbot serve --workers N` on Linux: every worker accepts on a listening socket of its own.

uvicorn's supervisor binds one socket and all workers accept from it. The worker whose event
loop wakes first takes every connection waiting at that moment, so long-lived keep-alive
connections (a proxy's upstream pool, a load generator's) pile up on one worker:
bench/load.py saw 16 connections split 11/5 and 13/3, the busier worker near its limit and
the other half idle, which is what set the latency tail. Here each worker gets its own socket
bound to the same address with SO_REUSEPORT, and the kernel spreads new connections across
the listening sockets by a hash of their addresses.

The parent keeps every socket open: a worker that dies leaves the connections queued on its
socket to its replacement instead of having them reset. Supervision is uvicorn's own
(`Multiprocess`: health checks, restarts, signals); only the socket each worker is given
differs.
"""
from __future__ import annotations

import logging
import socket

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

logger = logging.getLogger("uvicorn.error")


def available() -> bool:
    """SO_REUSEPORT balances between listening sockets on Linux (BSDs only let them share)."""
    import sys

    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_sockets(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """`count` sockets listening on host:port; raises OSError when the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class SpreadWorkers(Multiprocess):
    """uvicorn's Multiprocess, with worker `i` always given socket `i`."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.processes_num = len(sockets)

    def _worker(self, slot: int) -> Process:
        process = Process(self.config, [self.sockets[slot]])
        process.start()
        return process

    def init_processes(self) -> None:
        self.processes = [self._worker(slot) for slot in range(self.processes_num)]

    def restart_all(self) -> None:
        """Replace each worker in turn, the new one serving before the old one retires."""
        for slot, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._worker(slot)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    logger.error("New worker [%s] was not ready in time; keeping [%s]", new.pid, old.pid)
                return
            old.terminate()
            old.join()
            self.processes[slot] = new

    def handle_ttin(self) -> None:
        # Every socket has its worker: one more would need a socket the kernel already
        # sends connections to, and one fewer would leave a socket nobody accepts from.
        logger.warning("SIGTTIN ignored: the number of workers is fixed at start (--workers)")

    def handle_ttou(self) -> None:
        logger.warning("SIGTTOU ignored: the number of workers is fixed at start (--workers)")

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for slot, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung, or already gone
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # It failed before serving (the app or its settings are broken): every
                # replacement would fail the same way.
                logger.error("Worker [%s] failed to start, stopping", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info("Worker [%s] died; starting another on its socket", process.pid)
            self.processes[slot] = self._worker(slot)


def run(app: str, *, host: str, port: int, workers: int, **options) -> None:
    """Serve the app factory `app` with `workers` processes, one listening socket each."""
    config = Config(app, factory=True, host=host, port=port, workers=workers, **options)
    try:
        sockets = listening_sockets(host, port, workers, config.backlog)
    except OSError as exc:
        logger.error("Cannot listen on %s:%s: %s", host, port, exc)
        raise SystemExit(STARTUP_FAILURE) from exc
    logger.info("Uvicorn running on http://%s:%d with %d workers, one socket each (Press CTRL+C to quit)",
                host, port, workers)
    try:
        SpreadWorkers(config, sockets).run()
    finally:
        for sock in sockets:
            sock.close()
