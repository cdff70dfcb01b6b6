"""退出 of a web customer: the web identity no longer speaks for a bank customer.

    POST /v1/chat/logout      Authorization: Bearer <user_token>   -> {"unbound": bool}

The chat page's 退出 calls it, then forgets the identity itself (user id, token, the
transcript it showed). Here, as when a binding lapses after inactivity: the token's web
user id loses its binding to a bank customer, and a flow its open session was in is
dropped (a flow on the customer's money cannot go on unbound). Both in one transaction
holding the conversation's lock, so a turn of the same conversation commits before or
after it, never around it. Whoever still holds the old token (a copy of it) is an unbound
visitor again: an account question asks for the name, ID number and a fresh SMS code.

The token itself stays a valid signature (it is checked without the database), and the
transcript is kept: it is the bank's record, for agents and analysts. `unbound` says
whether there was a binding; calling again is harmless.
"""
from __future__ import annotations

import re

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm.attributes import flag_modified
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, WebUserDep
from chatbot.errors import Unauthorized
from chatbot.storage import conversations
from chatbot.storage.locks import lock_conversation_in_transaction
from chatbot.tools.sql_bank import SqlBank

router = APIRouter(prefix="/v1/chat", tags=["chat"])

CHANNEL = "web"
MAX_USER_ID = 128
# What no user id the engine accepted holds: NUL, lone surrogates, controls, spaces.
_NOT_AN_ID = re.compile(r"[\x00-\x20\x7f\ud800-\udfff]")


class LogoutResponse(BaseModel):
    unbound: bool = Field(description="true：该网页身份原已绑定客户，现已解除；false：原本就未绑定")


@router.post("/logout", response_model=LogoutResponse)
async def logout(user_id: WebUserDep, services: ServicesDep) -> dict:
    """退出：解除令牌所属网页身份与客户的绑定，并结束进行中的业务流程（聊天记录保留）。"""
    if not user_id or len(user_id) > MAX_USER_ID or _NOT_AN_ID.search(user_id):
        # A genuine signature over an id no chat ever accepted: nothing to unbind, and
        # nothing such a value should reach a database with.
        raise Unauthorized("用户令牌无效", "invalid_user_token")
    return {"unbound": await run_in_threadpool(_forget, services, user_id)}


def _forget(services, user_id: str) -> bool:
    with services.database.write() as db:
        lock_conversation_in_transaction(db, CHANNEL, user_id)
        unbound = SqlBank(db).unbind(CHANNEL, user_id)
        session = conversations.current_session(db, CHANNEL, user_id)
        if session is not None:
            session.state = {}
            session.customer_id = None
            # Written even when nothing changed: the write bumps the session's version, so a
            # turn answered from reads before this (with the binding) is not stored after it.
            flag_modified(session, "state")
    return unbound
