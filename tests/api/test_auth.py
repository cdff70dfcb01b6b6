"""Staff login: hashed passwords, expiring tokens, roles, rate-limited failures, audit."""
import pytest
from sqlalchemy import select

from chatbot.security import tokens
from chatbot.storage.models import AuditLog, StaffUser


def login(client, username, password=None):
    return client.post("/v1/auth/login", json={"username": username, "password": password or f"{username}-sandbox"})


def bearer(client, username) -> dict:
    response = login(client, username)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.mark.parametrize("username,role", [("agent1", "agent"), ("admin", "admin"), ("analyst", "analyst")])
def test_login_returns_a_token_and_the_role(client, username, role):
    body = login(client, username).json()
    assert body["role"] == role and body["token"].startswith("s1.")
    me = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["username"] == username


def test_passwords_are_stored_hashed(database):
    with database.read() as db:
        hashes = list(db.scalars(select(StaffUser.password_hash)))
    assert hashes and all(h.startswith("$argon2") and "sandbox" not in h for h in hashes)


@pytest.mark.parametrize("username,password", [("agent1", "wrong"), ("nobody", "agent1-sandbox")])
def test_wrong_credentials_are_one_401(client, username, password):
    response = login(client, username, password)
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "invalid_credentials", "message": "用户名或密码错误"}


def test_failed_logins_are_rate_limited_then_forgiven(client, clock):
    for _ in range(5):
        assert login(client, "agent2", "guess").status_code == 401
    locked = login(client, "agent2")  # even the right password
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "rate_limited"
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    assert login(client, "agent1").status_code == 200  # other users are not locked out
    clock.advance(minutes=16)
    assert login(client, "agent2").status_code == 200


def test_every_attempt_is_audited(client, database):
    login(client, "agent1", "wrong")
    login(client, "agent1")
    with database.read() as db:
        actions = [(a.actor, a.action) for a in db.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == [("agent1", "auth.login_failed"), ("agent1", "auth.login")]


def test_no_token_no_queue(client):
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        response = client.get("/v1/agent/queue", headers=headers)
        assert response.status_code == 401
        assert set(response.json()["error"]) == {"code", "message"}


def test_forged_and_expired_tokens_are_refused(client, services, clock):
    with services.database.read() as db:
        agent_id = db.scalar(select(StaffUser.id).where(StaffUser.username == "agent1"))
    forged, _ = tokens.issue("another-secret", agent_id, "admin", clock.now(), services.auth.token_ttl)
    assert client.get("/v1/agent/queue", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    headers = bearer(client, "agent1")
    clock.advance(minutes=services.settings.staff_token_minutes + 1)
    expired = client.get("/v1/agent/queue", headers=headers)
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "token_expired"


def test_roles_guard_the_routes(client):
    agent, analyst, admin = bearer(client, "agent1"), bearer(client, "analyst"), bearer(client, "admin")
    for path in ("/v1/admin/metrics", "/v1/admin/audit", "/v1/admin/canned-replies"):
        assert client.get(path, headers=agent).status_code == 403
    assert client.get("/v1/agent/queue", headers=analyst).status_code == 403
    assert client.get("/v1/admin/metrics", headers=analyst).status_code == 200
    assert client.get("/v1/admin/audit", headers=analyst).status_code == 403
    assert client.get("/v1/admin/audit", headers=admin).status_code == 200
    assert client.get("/v1/agent/queue", headers=admin).status_code == 200


def test_a_deactivated_account_loses_access_at_once(client, database):
    headers = bearer(client, "agent2")
    with database.write() as db:
        db.scalars(select(StaffUser).where(StaffUser.username == "agent2")).one().active = False
    assert client.get("/v1/agent/queue", headers=headers).status_code == 401
    assert login(client, "agent2").status_code == 401
