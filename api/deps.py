"""Dependencies named once for all routes."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from chatbot.security.staff_auth import Staff, StaffAuth
from chatbot.service import Services


def get_services(request: Request) -> Services:
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
