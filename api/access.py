"""Who may call what: every route of the app and the callers it lets through.

A declaration, not the enforcement: the routes enforce access through their dependencies
(`api/deps.py`: `AgentDep`, `AdminDep`, `MetricsReaderDep`, `WebUserDep`) or, where the
credential is not a bearer token, in the handler (the WeChat signature, sealed links, the
first message of a web user id). `tests/api/test_access_table.py` calls every route of the
app as each kind of caller and checks the answer against this table; a route missing here
fails that test by name. docs/security.md ("Access table") explains the roles.

Callers:
- `public`: anyone, no credential.
- `customer`: a web customer with the `user_token` of their own user id (`Bearer w1.…`);
  never another user id's data (the token decides; a `user_id` given must match it).
- `agent`, `admin`, `analyst`: staff with a login token (`Bearer s1.…`) of that role.
- `wechat`: WeChat's signature over the callback (token, timestamp, nonce), no bearer token.
- `link`: the sealed, expiring, single-use link in the path is the credential (statement and
  loan-schedule downloads open in a browser, which sends no Authorization header).

Refusals: no credential is 401; a staff token of another role is 403; a credential of the
wrong kind (a customer's token on a staff route, a staff token on a customer route, another
customer's token) is 401, since it does not authenticate anyone there; a bad signature or link
is 403.
"""
from __future__ import annotations

PUBLIC, CUSTOMER, AGENT, ADMIN, ANALYST = "public", "customer", "agent", "admin", "analyst"
WECHAT, LINK = "wechat", "link"
ROLES = (PUBLIC, CUSTOMER, AGENT, ADMIN, ANALYST, WECHAT, LINK)
STAFF_ROLES = (AGENT, ADMIN, ANALYST)

_ANYONE = frozenset({PUBLIC})
_CUSTOMER = frozenset({CUSTOMER})
_STAFF = frozenset(STAFF_ROLES)
_AGENTS = frozenset({AGENT, ADMIN})  # admins may also work the queue
_ADMIN = frozenset({ADMIN})
_READERS = frozenset({ADMIN, ANALYST})  # metrics, models, annotations: analysts compare and label

ACCESS: dict[tuple[str, str], frozenset[str]] = {
    # pages and documentation (the data behind them needs a token)
    ("GET", "/"): _ANYONE,
    ("GET", "/agent"): _ANYONE,
    ("GET", "/admin"): _ANYONE,
    ("GET", "/static"): _ANYONE,  # the mounted directory api/static
    ("GET", "/openapi.json"): _ANYONE,
    ("GET", "/docs"): _ANYONE,
    ("GET", "/docs/oauth2-redirect"): _ANYONE,
    ("GET", "/redoc"): _ANYONE,
    ("GET", "/healthz"): _ANYONE,
    ("GET", "/metrics"): _ANYONE,  # Prometheus aggregates, no customer data; restrict at the edge
    # public catalogue and understanding
    ("POST", "/v1/nlu/parse"): _ANYONE,
    ("POST", "/v1/faq/search"): _ANYONE,
    ("GET", "/v1/products/wealth"): _ANYONE,
    ("GET", "/v1/news"): _ANYONE,
    ("GET", "/v1/news/{news_id}"): _ANYONE,
    ("GET", "/v1/sandbox/sms"): _ANYONE,  # mounted in the sandbox only
    ("POST", "/v1/auth/login"): _ANYONE,
    # web customers (the first POST /v1/chat of an unseen user id claims it without a token)
    ("POST", "/v1/chat"): _CUSTOMER,
    ("GET", "/v1/chat/history"): _CUSTOMER,
    ("POST", "/v1/chat/feedback"): _CUSTOMER,
    ("POST", "/v1/chat/logout"): _CUSTOMER,
    ("GET", "/v1/chat/status"): _CUSTOMER,
    ("GET", "/v1/chat/events"): _CUSTOMER,
    # other channels and links
    ("GET", "/wechat"): frozenset({WECHAT}),
    ("POST", "/wechat"): frozenset({WECHAT}),
    ("GET", "/v1/exports/{token}"): frozenset({LINK}),
    ("GET", "/v1/exports/loan-schedule/{token}"): frozenset({LINK}),
    # staff
    ("GET", "/v1/auth/me"): _STAFF,
    ("POST", "/v1/auth/logout"): _STAFF,  # ends the caller's own token
    ("GET", "/v1/agent/queue"): _AGENTS,
    ("GET", "/v1/agent/agents"): _AGENTS,
    ("GET", "/v1/agent/labels"): _AGENTS,
    ("GET", "/v1/agent/canned-replies"): _AGENTS,
    ("POST", "/v1/agent/canned-replies"): _AGENTS,  # quick replies: any agent edits them for everyone
    ("PUT", "/v1/agent/canned-replies/{reply_id}"): _AGENTS,
    ("DELETE", "/v1/agent/canned-replies/{reply_id}"): _AGENTS,
    ("GET", "/v1/agent/events"): _AGENTS,
    ("GET", "/v1/agent/sessions/{session_id}"): _AGENTS,
    ("POST", "/v1/agent/sessions/{session_id}/accept"): _AGENTS,
    ("POST", "/v1/agent/sessions/{session_id}/messages"): _AGENTS,
    ("POST", "/v1/agent/sessions/{session_id}/transfer"): _AGENTS,
    ("POST", "/v1/agent/sessions/{session_id}/slots"): _AGENTS,
    ("POST", "/v1/agent/sessions/{session_id}/release"): _AGENTS,
    ("POST", "/v1/agent/sessions/{session_id}/close"): _AGENTS,
    ("POST", "/v1/agent/sessions/{session_id}/notes"): _AGENTS,  # private notes: the owner's (403 others)
    ("POST", "/v1/agent/sessions/{session_id}/typing"): _AGENTS,  # the owner only (403 others)
    ("PUT", "/v1/agent/presence"): _AGENTS,  # one's own status: online / busy / away
    ("GET", "/v1/agent/conversations"): _AGENTS,  # past conversations: an agent's own, an admin's all
    ("GET", "/v1/admin/metrics"): _READERS,
    ("GET", "/v1/admin/metrics/understanding"): _READERS,
    ("GET", "/v1/admin/unanswered"): _READERS,
    ("GET", "/v1/admin/models"): _READERS,
    ("GET", "/v1/admin/annotations"): _READERS,
    ("GET", "/v1/admin/annotations/queue"): _READERS,
    ("GET", "/v1/admin/annotations/labels"): _READERS,
    ("POST", "/v1/admin/annotations"): _READERS,
    ("POST", "/v1/admin/models/{version}/promote"): _ADMIN,
    ("POST", "/v1/admin/reload"): _ADMIN,
    ("GET", "/v1/admin/audit"): _ADMIN,
    ("GET", "/v1/admin/faq"): _ADMIN,
    ("POST", "/v1/admin/faq"): _ADMIN,
    ("PUT", "/v1/admin/faq/{entry_id}"): _ADMIN,
    ("DELETE", "/v1/admin/faq/{entry_id}"): _ADMIN,
    ("GET", "/v1/admin/canned-replies"): _ADMIN,
    ("POST", "/v1/admin/canned-replies"): _ADMIN,
    ("PUT", "/v1/admin/canned-replies/{reply_id}"): _ADMIN,
    ("DELETE", "/v1/admin/canned-replies/{reply_id}"): _ADMIN,
    ("PUT", "/v1/admin/agents/{username}/capacity"): _ADMIN,
    ("POST", "/v1/admin/staff/{username}/revoke-tokens"): _ADMIN,  # ends every token of that user
    ("GET", "/v1/admin/applications"): _ADMIN,
    ("POST", "/v1/admin/applications/{application_id}/stage"): _ADMIN,
    ("POST", "/v1/admin/news"): _ADMIN,
    ("DELETE", "/v1/admin/news/{news_id}"): _ADMIN,
}


class UndeclaredRoute(KeyError):
    """A route of the app that the access table does not name."""


def roles_for(method: str, path: str) -> frozenset[str]:
    """The callers `method path` lets through; the error says how to declare a new route."""
    try:
        return ACCESS[(method.upper(), path)]
    except KeyError:
        raise UndeclaredRoute(
            f"{method.upper()} {path} has no entry in api/access.py ACCESS: add one with the callers "
            f"it lets through ({', '.join(ROLES)}) and say so in docs/security.md"
        ) from None
