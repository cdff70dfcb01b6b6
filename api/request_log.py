"""Every request gets an id, its response says it, and one access line records it.

The id is the `X-Request-ID` a trusted proxy sent (`CHATBOT_TRUSTED_PROXIES`: nginx passes
its `$request_id`, so its access log and ours name the same request), else a new one that
looks random (`_RequestIds`).
A client reaching the service directly cannot choose it. It is echoed in the response's
`X-Request-ID` header (refusals and 500s included), set in `chatbot.logs.REQUEST_ID` for
every line written while the request is handled, and written on the access line when the
response is finished (for an event stream: when it closes).

The access line has the method, the path, the status and the duration, never the query
string (user ids, phones of the sandbox inbox) nor the client's address; a path carrying a
link's secret (`/v1/exports/{token}`) is written as its route.

This middleware must see the address of the peer itself, before X-Forwarded-For replaces it:
so the proxy headers are believed here too, by uvicorn's `ProxyHeadersMiddleware` inside it,
not by uvicorn's server (`chatbot serve` turns that off). `install` puts both outside
everything else of the app, Starlette's error middleware included.
"""
from __future__ import annotations

import hashlib
import ipaddress
import itertools
import logging
import os
import re
import time

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from chatbot.logs import ACCESS_LOGGER, REQUEST_ID

HEADER = b"x-request-id"
# What a proxy's id may look like (nginx: 32 hex digits; others: UUIDs and the like).
_VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Path parameters that are secrets (links that open a statement or a schedule).
SECRET_PATH_PARAMETERS = frozenset({"token"})

access_log = logging.getLogger(ACCESS_LOGGER)


class _RequestIds:
    """32 hex digits, as nginx's $request_id: a counter hashed with a key drawn once per
    process, so the ids neither repeat nor tell how many requests a worker served (a uuid4
    per request asked the kernel for randomness on every request)."""

    def __init__(self) -> None:
        self.restart()
        os.register_at_fork(after_in_child=self.restart)  # a forked worker must not repeat them

    def restart(self) -> None:
        self.key, self.counter = os.urandom(16), itertools.count()

    def __call__(self) -> str:
        number = next(self.counter).to_bytes(16, "little")
        return hashlib.blake2b(number, key=self.key, digest_size=16).hexdigest()


new_request_id = _RequestIds()


class TrustedPeers:
    """`CHATBOT_TRUSTED_PROXIES`: comma-separated addresses or networks, `*` for any."""

    def __init__(self, spec: str) -> None:
        items = [item.strip() for item in (spec or "").split(",") if item.strip()]
        self.any = "*" in items
        self.networks, self.literals = [], set()
        for item in items:
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:  # not an address: compared as it is, as uvicorn does
                self.literals.add(item)

    def __bool__(self) -> bool:
        return self.any or bool(self.networks) or bool(self.literals)

    def __contains__(self, host: str | None) -> bool:
        if self.any or host in self.literals:
            return True
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class RequestLog:
    """Request id in, request id out, one access line (pure ASGI: streams pass unbuffered)."""

    def __init__(self, app, trusted: TrustedPeers) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.request_id(scope)
        # Not reset afterwards: each request runs in a task of its own, and uvicorn's report
        # of an error that escaped the app should carry the id too.
        REQUEST_ID.set(request_id)
        method, path, started, status = scope.get("method", ""), scope.get("path", ""), time.perf_counter(), 500

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            path = logged_path(scope, path)
            access_log.info("%s %s %s %.1f ms", method, path, status, duration_ms,
                            extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms})

    def request_id(self, scope) -> str:
        client = scope.get("client")
        if self.trusted and client and client[0] in self.trusted:
            for name, value in scope.get("headers", ()):
                if name == HEADER:
                    offered = value.decode("latin-1")
                    if _VALID_ID.fullmatch(offered):
                        return offered
                    break
        return new_request_id()


def logged_path(scope, path: str) -> str:
    """`path`, or its route's when a path parameter is a secret (the router has filled in
    `route` and `path_params` of the scope by the time the response is done)."""
    parameters = scope.get("path_params") or {}
    if SECRET_PATH_PARAMETERS & parameters.keys():
        return getattr(scope.get("route"), "path", None) or "(secret)"
    return path


def install(app, trusted_proxies: str) -> None:
    """Wrap the whole app (Starlette's error middleware too, so a 500 carries the id) in the
    request log, and inside it the proxy headers of `trusted_proxies`."""
    trusted = TrustedPeers(trusted_proxies)
    build = app.build_middleware_stack

    def build_with_request_log():
        inner = build()
        if trusted:
            inner = ProxyHeadersMiddleware(inner, trusted_hosts=trusted_proxies)
        return RequestLog(inner, trusted)

    app.build_middleware_stack = build_with_request_log
