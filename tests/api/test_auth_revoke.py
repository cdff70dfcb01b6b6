"""Staff tokens are revocable: logout ends the caller's token at once, an admin ends every token
of another staff user; every worker (here: a second StaffAuth on the same database) refuses them
from the next request on."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from chatbot.errors import Unauthorized
from chatbot.security.staff_auth import StaffAuth
from chatbot.storage.db import Database
from chatbot.storage.models import AuditLog, StaffTokenRevocation


def _login(client, username: str) -> dict:
    response = client.post("/v1/auth/login", json={"username": username, "password": f"{username}-sandbox"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _me(client, headers) -> int:
    return client.get("/v1/auth/me", headers=headers).status_code


def _other_worker(services) -> StaffAuth:
    """What another worker process has: its own engine on the same database, the same secret."""
    return StaffAuth(Database(services.settings.database_url), services.settings.secret_key, services.clock,
                     timedelta(minutes=services.settings.staff_token_minutes), sandbox=True)


def test_logout_ends_the_callers_token_at_once_on_every_worker(client, services):
    console, phone = _login(client, "agent1"), _login(client, "agent1")
    other = _other_worker(services)
    token = console["Authorization"].removeprefix("Bearer ")
    try:
        assert other.authenticate(token).username == "agent1"
        assert client.post("/v1/auth/logout", headers=console).status_code == 204
        refused = client.get("/v1/auth/me", headers=console)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"
        assert client.post("/v1/auth/logout", headers=console).status_code == 401  # once is enough
        assert client.get("/v1/agent/queue", headers=console).status_code == 401
        assert _me(client, phone) == 200  # the same agent's other login goes on
        with pytest.raises(Unauthorized) as refused_there:
            other.authenticate(token)
        assert refused_there.value.code == "token_revoked"
    finally:
        other.db.dispose()
    with services.database.read() as db:
        assert db.scalars(select(AuditLog.action).where(AuditLog.action == "auth.logout")).all() == ["auth.logout"]


def test_an_admin_ends_every_token_of_another_staff_user(client, services):
    first, second, admin = _login(client, "agent2"), _login(client, "agent2"), _login(client, "admin")
    answer = client.post("/v1/admin/staff/agent2/revoke-tokens", headers=admin)
    assert answer.status_code == 200 and answer.json() == {"username": "agent2", "revoked": True}
    assert _me(client, first) == 401 and _me(client, second) == 401
    assert _me(client, admin) == 200
    assert _me(client, _login(client, "agent2")) == 200  # logging in again works (the account is active)
    with services.database.read() as db:
        entry = db.scalars(select(AuditLog).where(AuditLog.action == "auth.revoke_all")).one()
    assert (entry.actor, entry.target) == ("admin", "staff:agent2")


def test_only_admins_revoke_and_only_existing_users(client):
    agent, admin = _login(client, "agent1"), _login(client, "admin")
    assert client.post("/v1/admin/staff/agent2/revoke-tokens", headers=agent).status_code == 403
    assert client.post("/v1/admin/staff/agent2/revoke-tokens").status_code == 401
    missing = client.post("/v1/admin/staff/nobody/revoke-tokens", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "staff_not_found"
    assert client.post("/v1/auth/logout").status_code == 401
    assert _me(client, agent) == 200


def test_revocations_are_kept_only_while_the_token_could_still_work(client, services, clock):
    _login(client, "analyst")
    assert client.post("/v1/auth/logout", headers=_login(client, "analyst")).status_code == 204
    clock.advance(minutes=services.settings.staff_token_minutes + 1)  # that token has expired anyway
    assert client.post("/v1/auth/logout", headers=_login(client, "analyst")).status_code == 204
    with services.database.read() as db:
        assert len(db.scalars(select(StaffTokenRevocation)).all()) == 1  # the expired one was dropped
