"""Staff login: `POST /v1/auth/login` -> a bearer token for the agent console and admin API;
`POST /v1/auth/logout` ends the caller's token at once (every worker refuses it after)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, bearer_token, current_staff
from chatbot.security.staff_auth import Staff

router = APIRouter(prefix="/v1/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(BaseModel):
    token: str
    role: str
    username: str
    display_name: str
    expires_at: str


@router.post("/login", response_model=LoginResponse)
async def login(body: LoginRequest, request: Request, services: ServicesDep) -> dict:
    """Check a staff password; 401 when wrong, 429 after too many failures."""
    client_ip = request.client.host if request.client else "unknown"
    result = await run_in_threadpool(services.auth.login, body.username, body.password, client_ip)
    return {"token": result.token, "role": result.staff.role, "username": result.staff.username,
            "display_name": result.staff.display_name, "expires_at": result.expires_at.isoformat()}


@router.get("/me")
async def me(staff: Annotated[Staff, Depends(current_staff)]) -> dict:
    """Who the token belongs to (the console checks a stored token with it)."""
    return staff.to_dict()


@router.post("/logout", status_code=204)
async def logout(request: Request, services: ServicesDep) -> Response:
    """End the token this request carries (401 when it is no good already); other tokens of the
    same user stay (an admin ends them all: `POST /v1/admin/staff/{username}/revoke-tokens`)."""
    await run_in_threadpool(services.auth.logout, bearer_token(request))
    return Response(status_code=204)
