"""`chatbot serve --workers N` on Linux: every worker accepts on a listening socket of its own.

uvicorn's supervisor binds one socket and all workers accept from it. The worker whose event
loop wakes first takes every connection waiting at that moment, so long-lived keep-alive
connections (a proxy's upstream pool, a load generator's) pile up on one worker:
bench/load.py saw 16 connections split 11/5 and 13/3, the busier worker near its limit and
the other half idle, which is what set the latency tail. Here each worker gets its own socket
bound to the same address with SO_REUSEPORT, and the kernel spreads new connections across
the listening sockets by a hash of their addresses.

A hash is not an even split: 16 keep-alive connections still came out 4/12 at times, and a
worker with three quarters of the connections is overloaded at three quarters of the load.
So the workers also even out the connections they hold (`BalancedServer`): each publishes
its count in a shared array every 0.2 s, and one holding more than its share answers the
surplus connections' requests in flight with `Connection: close`. The client opens a new
connection, which the hash sends to either worker; the busier one repeats until the split is
even. Only a request whose response has not begun is chosen, so the close is announced in
its headers (a connection closed between requests can lose the client's next one), and an
event stream is never cut.

With CHATBOT_WORKER_CPU_AFFINITY each worker also runs on a CPU of its own (worker i on CPU
i), as nginx's worker_cpu_affinity: bench/load.py with two workers on this 2-core machine
answered 879 and 1,191 FAQ questions/s pinned against 802–858 not, with a p99 at 75 % load of
26 ms against 28–39 ms. Off by default: on a host shared with other services a pinned worker
cannot move away from a busy core.

The parent keeps every socket open: a worker that dies leaves the connections queued on its
socket to its replacement instead of having them reset. Supervision is uvicorn's own
(`Multiprocess`: health checks, restarts, signals); only the socket each worker is given
differs.
"""
from __future__ import annotations

import logging
import math
import multiprocessing
import os
import socket

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.server import Server
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


BALANCE_EVERY_TICKS = 2  # uvicorn's server ticks every 0.1 s


def surplus_of(counts: list[int], slot: int) -> int:
    """How many connections worker `slot` holds over its share of them all."""
    return counts[slot] - math.ceil(sum(counts) / len(counts))


def _streaming(connection) -> bool:
    """A response under way that does not end soon (server-sent events), or not HTTP at all."""
    cycle = getattr(connection, "cycle", None)
    if cycle is None:
        return not hasattr(connection, "cycle")  # a WebSocket has no request cycle
    return cycle.response_started and not getattr(cycle, "response_complete", False)


class BalancedServer(Server):
    """A worker's server that hands back connections it holds over its share (module docstring)."""

    def __init__(self, config: Config, counts, slot: int, pin: bool = False) -> None:
        super().__init__(config)
        self.counts, self.slot = counts, slot
        if pin:
            pin_to_cpu(slot)

    async def on_tick(self, counter: int) -> bool:
        if counter % BALANCE_EVERY_TICKS == 0:
            self.even_out()
        return await super().on_tick(counter)

    def even_out(self) -> None:
        # Event streams cannot be handed back (a stream is never cut): count only the others,
        # or a worker holding more streams would churn its ordinary connections for good.
        movable = [connection for connection in list(self.server_state.connections) if not _streaming(connection)]
        self.counts[self.slot] = len(movable)
        surplus = surplus_of(list(self.counts), self.slot)
        for connection in movable:
            if surplus <= 0:
                return
            cycle = getattr(connection, "cycle", None)
            if cycle is not None and cycle.keep_alive and not cycle.response_started \
                    and not getattr(cycle, "response_complete", False):
                cycle.keep_alive = False  # uvicorn then sends `Connection: close` and closes after
                surplus -= 1

    async def shutdown(self, sockets=None) -> None:
        self.counts[self.slot] = 0
        await super().shutdown(sockets)


def pin_to_cpu(slot: int) -> int:
    """Run the calling thread, and the threads it starts later (the event loop's thread: the
    turn threads, the checkpoints), on one CPU: `slot` modulo the CPUs allowed. Returns it."""
    allowed = sorted(os.sched_getaffinity(0))
    cpu = allowed[slot % len(allowed)]
    os.sched_setaffinity(0, {cpu})
    return cpu


class BalancedProcess(Process):
    """uvicorn's worker process, serving with a BalancedServer."""

    def __init__(self, config: Config, sockets: list[socket.socket], counts, slot: int, pin: bool) -> None:
        self.counts, self.slot, self.pin = counts, slot, pin
        super().__init__(config, sockets)

    @property
    def server(self) -> Server:
        if self._server is None:  # built in the worker, on the thread that will run its loop
            self._server = BalancedServer(self.config, self.counts, self.slot, self.pin)
        return self._server


class SpreadWorkers(Multiprocess):
    """uvicorn's Multiprocess, with worker `i` always given socket `i` and slot `i` of the
    shared connection counts."""

    def __init__(self, config: Config, sockets: list[socket.socket], pin: bool = False) -> None:
        super().__init__(config, sockets)
        self.processes_num = len(sockets)
        self.pin = pin
        # Shared with the spawned workers (passed when each starts); each writes its own slot.
        self.counts = multiprocessing.get_context("spawn").Array("i", len(sockets), lock=False)

    def _worker(self, slot: int) -> Process:
        self.counts[slot] = 0  # a replaced worker's connections went with it
        process = BalancedProcess(self.config, [self.sockets[slot]], self.counts, slot, self.pin)
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


def run(app: str, *, host: str, port: int, workers: int, pin_cpus: bool = False, **options) -> None:
    """Serve the app factory `app` with `workers` processes, one listening socket each
    (`pin_cpus`: worker i on CPU i, CHATBOT_WORKER_CPU_AFFINITY)."""
    config = Config(app, factory=True, host=host, port=port, workers=workers, **options)
    try:
        sockets = listening_sockets(host, port, workers, config.backlog)
    except OSError as exc:
        logger.error("Cannot listen on %s:%s: %s", host, port, exc)
        raise SystemExit(STARTUP_FAILURE) from exc
    logger.info("Uvicorn running on http://%s:%d with %d workers, one socket each (Press CTRL+C to quit)",
                host, port, workers)
    try:
        SpreadWorkers(config, sockets, pin=pin_cpus).run()
    finally:
        for sock in sockets:
            sock.close()
