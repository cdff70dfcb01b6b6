"""Dependencies named once for all routes."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from chatbot.errors import Forbidden, Unauthorized
from chatbot.security import web_identity
from chatbot.security.staff_auth import Staff, StaffAuth
from chatbot.service import Services


async def get_services(request: Request) -> Services:
    # async: FastAPI runs a plain `def` dependency in the thread pool, a thread hop per request.
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def bearer_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer TOKEN`, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


async def current_staff(request: Request, services: ServicesDep) -> Staff:
    """The signed-in staff member; 401 without a valid token."""
    return await run_in_threadpool(services.auth.authenticate, bearer_token(request))


def require_role(*roles: str):
    """A dependency that lets only these roles through (403 for the others)."""

    async def dependency(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        return StaffAuth.require(staff, *roles)

    return dependency


# Admins may also work the queue; agents cannot call admin routes.
AgentDep = Annotated[Staff, Depends(require_role("agent", "admin"))]
AdminDep = Annotated[Staff, Depends(require_role("admin"))]
# Metrics are for admins and analysts (who compare models and service quality).
MetricsReaderDep = Annotated[Staff, Depends(require_role("admin", "analyst"))]


# --- web customers ---------------------------------------------------------------------------

Channel = Literal["web", "wechat", "terminal"]


def require_web_channel(channel: str) -> None:
    """Over HTTP only web users talk to the engine: WeChat users arrive signed through
    /wechat and the terminal through the CLI, so a claimed other channel is refused."""
    if channel != "web":
        raise Forbidden("HTTP 接口仅接受网页渠道（channel=web）；微信用户请通过公众号接入", "channel_forbidden")


def web_user_from_token(request: Request, services: Services, user_id: str | None) -> str:
    """The web user id the request's `user_token` stands for (it must match `user_id` if given)."""
    token_user = web_identity.verify(services.settings.secret_key, bearer_token(request))
    if user_id is not None and user_id != token_user:
        raise Unauthorized("用户令牌与 user_id 不符", "user_token_mismatch")
    return token_user


async def current_web_user(
    request: Request,
    services: ServicesDep,
    user_id: str | None = Query(default=None, min_length=1, max_length=128,
                                description="可省略：以用户令牌为准；给出时须与令牌一致"),
    channel: Channel = "web",
) -> str:
    """The signed-in web customer of a transcript, status or event-stream call (401 without)."""
    require_web_channel(channel)
    return web_user_from_token(request, services, user_id)


WebUserDep = Annotated[str, Depends(current_web_user)]


def client_address(request: Request) -> str | None:
    """The caller's address as uvicorn resolved it (proxy headers only from trusted proxies)."""
    return request.client.host if request.client else None
