"""Staff login and token checks: argon2 passwords, expiring tokens, roles, rate limits.

Failed logins are counted in the database (so every worker sees them). The lock is per
account *and* address, so nobody can lock an agent out by guessing their password from
elsewhere: after five failures of one username from one address, that pair waits one
minute, and each further failure doubles the wait (up to an hour); a success forgets the
pair's failures, a day without one too. Besides, twenty failures from one address within
15 minutes (any usernames) lock that address until the window has passed. Locks apply even
to the right password. Every attempt is in the audit log.

Demo logins of the sandbox (`StaffUser.sandbox`, e.g. `admin/admin-sandbox`) are refused,
at login and for tokens they already hold, unless the service runs in the sandbox.

Tokens are revocable (docs/security.md): `logout` ends the token it is called with (its id in
`staff_token_revocations`), `revoke_all` ends every token of a user (their token generation
goes up). Both are in the database, read with the staff row on every request, so every worker
refuses the token from the next request on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache

from chatbot.clock import Clock
from chatbot.errors import Forbidden, NotFound, RateLimited, Unauthorized
from chatbot.security import tokens
from chatbot.security.passwords import hash_password, verify_password
from chatbot.storage import staff as staff_store
from chatbot.storage.db import Database
from chatbot.storage.models import StaffUser

ROLES = ("agent", "analyst", "admin")
WINDOW = timedelta(minutes=15)  # failures from one address are counted over this window
PAIR_WINDOW = timedelta(hours=24)  # failures of one username from one address: this long
MAX_FAILURES_PER_PAIR = 5
FIRST_LOCK = timedelta(minutes=1)  # doubled by every failure after the fifth
MAX_LOCK = timedelta(hours=1)
MAX_FAILURES_PER_ADDRESS = 20


@cache
def _dummy_hash() -> str:
    """Compared against for unknown usernames, so a miss costs as long as a wrong password."""
    return hash_password("not-a-real-password")


@dataclass(frozen=True)
class Staff:
    """The authenticated staff member a request acts for."""

    id: int
    username: str
    display_name: str
    role: str

    def to_dict(self) -> dict:
        return {"username": self.username, "display_name": self.display_name, "role": self.role}


@dataclass(frozen=True)
class Login:
    token: str
    expires_at: datetime
    staff: Staff


def _staff(row: StaffUser) -> Staff:
    return Staff(row.id, row.username, row.display_name, row.role)


class StaffAuth:
    def __init__(self, database: Database, secret_key: str, clock: Clock, token_ttl: timedelta,
                 *, sandbox: bool = False) -> None:
        self.db = database
        self.secret_key = secret_key
        self.clock = clock
        self.token_ttl = token_ttl
        self.sandbox = sandbox  # demo logins work only in the sandbox

    def login(self, username: str, password: str, client_ip: str) -> Login:
        """Check the password and issue a token; RateLimited / Unauthorized otherwise."""
        now = self.clock.now()
        self._refuse_if_locked(username, client_ip, now)
        with self.db.read() as db:
            row = staff_store.by_username(db, username)
        # Hashing outside the write transaction: argon2 is slow on purpose.
        ok = verify_password(row.password_hash if row else _dummy_hash(), password)
        ok = ok and row is not None and row.active and row.role in ROLES and self._allowed(row)
        with self.db.write() as db:
            staff_store.record_login(db, username, client_ip, ok, now)
            action = "auth.login" if ok else "auth.login_failed"
            staff_store.audit(db, username[:128], action, None, {"ip": client_ip}, now)
        if not ok:
            raise Unauthorized("用户名或密码错误", "invalid_credentials")
        token, expires = tokens.issue(self.secret_key, row.id, row.role, now, self.token_ttl, row.token_generation)
        return Login(token, expires, _staff(row))

    def authenticate(self, token: str | None) -> Staff:
        """The staff member of a bearer token (their current role, read from the database)."""
        return self._holder(token)[0]

    def logout(self, token: str | None) -> Staff:
        """End this token now (on every worker: they read the revocation on each request)."""
        staff, claims = self._holder(token)
        now = self.clock.now()
        expires = datetime.fromtimestamp(claims["exp"], timezone.utc)
        with self.db.write() as db:
            staff_store.revoke_token(db, staff.id, claims["jti"], expires, now)
            staff_store.audit(db, staff.username, "auth.logout", None, None, now)
        return staff

    def revoke_all(self, admin: Staff, username: str) -> dict:
        """End every token `username` holds (an admin's action, audited); NotFound for no such user."""
        now = self.clock.now()
        with self.db.write() as db:
            row = staff_store.by_username(db, username)
            if row is None:
                raise NotFound("没有这个员工账号", "staff_not_found")
            staff_store.revoke_all_tokens(db, row.id)
            staff_store.audit(db, admin.username, "auth.revoke_all", f"staff:{row.username}", None, now)
        return {"username": row.username, "revoked": True}

    def _holder(self, token: str | None) -> tuple[Staff, dict]:
        """The staff member of a token and its claims; Unauthorized when it is not (or no longer) good."""
        if not token:
            raise Unauthorized("请先登录（缺少 Authorization: Bearer 令牌）", "missing_token")
        claims = tokens.verify(self.secret_key, token, self.clock.now())
        with self.db.read() as db:
            row, revoked = staff_store.token_holder(db, claims["sub"], claims["jti"])
        if row is None or not row.active or not self._allowed(row):
            raise Unauthorized("账号不存在或已停用", "inactive_account")
        if revoked or claims["gen"] != row.token_generation:
            raise Unauthorized("登录已失效（已退出或被管理员注销），请重新登录", "token_revoked")
        return _staff(row), claims

    def _allowed(self, row: StaffUser) -> bool:
        return self.sandbox or not row.sandbox

    @staticmethod
    def require(staff: Staff, *roles: str) -> Staff:
        if staff.role not in roles:
            raise Forbidden("当前账号无权执行此操作", "forbidden_role")
        return staff

    def _refuse_if_locked(self, username: str, client_ip: str, now: datetime) -> None:
        with self.db.read() as db:
            pair, latest = staff_store.pair_failures(db, now - PAIR_WINDOW, username, client_ip)
            by_address = staff_store.failures_since(db, now - WINDOW, client_ip=client_ip)
            oldest = staff_store.oldest_failure_from(db, now - WINDOW, client_ip) \
                if by_address >= MAX_FAILURES_PER_ADDRESS else None
        until = []
        if pair >= MAX_FAILURES_PER_PAIR and latest is not None:
            until.append(latest + lock_after(pair))
        if oldest is not None:
            until.append(oldest + WINDOW)
        retry = math.ceil((max(until) - now).total_seconds()) if until else 0
        if retry <= 0:
            return
        with self.db.write() as db:
            staff_store.audit(db, username[:128], "auth.login_locked", None, {"ip": client_ip}, now)
        minutes = max(1, (retry + 59) // 60)
        raise RateLimited(f"登录失败次数过多，请 {minutes} 分钟后再试", retry)


def lock_after(failures: int) -> timedelta:
    """How long a username + address pair waits after this many failures (backoff)."""
    if failures < MAX_FAILURES_PER_PAIR:
        return timedelta(0)
    return min(MAX_LOCK, FIRST_LOCK * 2 ** min(failures - MAX_FAILURES_PER_PAIR, 16))
