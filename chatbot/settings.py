"""Service settings: one object, read from `CHATBOT_*` environment variables and passed down.

Nothing reads the environment at import time; call `Settings()` (or `load_settings()`)
where the process starts and hand the object to whatever needs it.
"""
from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatbot import paths
from chatbot.security.data_keys import DataKey, DataKeys

# The default data directory: the checkout's data/, or the copy shipped in the package
# (chatbot/paths.py). A path only; CHATBOT_DATA_DIR is read by Settings.
DATA_DIR = paths.default_data_dir()
# Clearly marked sandbox default: refused outside the sandbox (see `_refuse_sandbox_parts`).
SANDBOX_SECRET_KEY = "sandbox-only-secret-key-change-me"
# The sandbox's data key (personal data at rest), derived from its public secret so `make run`
# needs no setup; as public as that secret, and refused outside the sandbox.
SANDBOX_DATA_KEY = hmac.new(SANDBOX_SECRET_KEY.encode(), b"sandbox-data-key", hashlib.sha256).hexdigest()
# Outside the sandbox the secret signs staff tokens and seals personal data: at least this
# long, with some variety (e.g. `python -c "import secrets; print(secrets.token_urlsafe(32))"`).
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 8
_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def _service_hours(value: str) -> str:
    """CHATBOT_AGENT_HOURS must parse (`09:00-21:00`); the error names the expected form."""
    from chatbot.handoff.rules import ServiceHours

    ServiceHours.parse(value)
    return value


class Settings(BaseSettings):
    """Everything configurable; names follow DESIGN.md (prefix `CHATBOT_`)."""

    model_config = SettingsConfigDict(env_prefix="CHATBOT_", extra="ignore")

    env: Literal["sandbox", "production", "development"] = "sandbox"
    # Where the service writes (chatbot/paths.py): the default SQLite database, the models, FAQ
    # indexes and NLU cache, and an installed package's FAQ file. Default: the checkout's var/,
    # else ./var of the working directory. The defaults under it: `_defaults_in_home`.
    home: Path = Field(default_factory=paths.default_home)
    # The data files (demo bank, knowledge graph, intent examples): the checkout's data/, else
    # the copy shipped in the package. The NLU dictionaries (synonyms.yaml, banking_dict.txt)
    # are always the default directory's; the FAQ and the WeChat menu have their own settings.
    data_dir: Path = Field(default_factory=paths.default_data_dir, validate_default=True)
    database_url: str  # default: sqlite:///<home>/chatbot.db
    redis_url: str | None = None
    faq_path: Path  # default: data/faq.yaml of the checkout; <home>/faq.yaml for a package
    model_dir: Path  # default: <home>/models
    # Built FAQ indexes (docs/knowledge_index.md); unset: `<model_dir>/faq_index` for `chatbot
    # serve` (which passes it to its workers), `chat` and `faq search|build-index`.
    faq_index_dir: Path | None = None
    secret_key: str = SANDBOX_SECRET_KEY
    # Encrypts customers' ID numbers and phones at rest and keys the hash they are found by
    # (chatbot/security/data_keys.py); required outside the sandbox, where unset means a key
    # derived from the public sandbox secret. During a rotation the previous key is
    # `data_key_old` (docs/security.md, "Personal data at rest").
    data_key: str | None = Field(default=None, repr=False)
    data_key_old: str | None = Field(default=None, repr=False)
    wechat_token: str | None = None
    wechat_aes_key: str | None = None
    wechat_appid: str | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"
    # WeChat official account, beyond the contract's four: the AppSecret (for access tokens),
    # the passive-reply deadline of the 5-second rule, request freshness, outbound retries,
    # the menu file and the template ids of notifications (see docs/wechat.md).
    wechat_secret: str | None = None
    wechat_reply_timeout_seconds: float = 4.0
    wechat_max_request_age_seconds: int = 300
    wechat_api_timeout_seconds: float = 5.0
    wechat_api_attempts: int = 3
    wechat_api_backoff_seconds: float = 0.5
    wechat_token_refresh_margin_seconds: int = 300
    wechat_menu_path: Path = Field(default_factory=lambda: paths.default_data_dir() / "wechat_menu.yaml")
    wechat_template_transfer_receipt: str | None = None
    wechat_template_card_progress: str | None = None
    wechat_template_loan_progress: str | None = None
    wechat_template_news: str | None = None
    # The WeChat outbox (chatbot/channels/wechat/outbox.py): a delivery that failed for a
    # passing reason is tried again after this long, twice as long after each failure (at most
    # the cap), and given up after this many attempts in all.
    wechat_outbox_backoff_seconds: float = Field(default=30.0, gt=0, le=24 * 3600)
    wechat_outbox_max_backoff_seconds: float = Field(default=3600.0, gt=0, le=7 * 24 * 3600)
    wechat_outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    # Where customers reach this service (used in links the bot sends, e.g. exports).
    public_base_url: str = "http://127.0.0.1:8000"
    # Limits of the chat surface; not part of the public contract but tunable.
    max_text_length: int = 500
    session_idle_minutes: int = 30
    # A web customer's binding lapses after this long without a message; binding again
    # needs a fresh SMS code (docs/security.md).
    web_binding_idle_minutes: int = Field(default=15, ge=1, le=24 * 60)
    log_level: str = "INFO"
    # `text` (readable lines) or `json` (one object per line with the request id, for a log
    # collector); chatbot/logs.py.
    log_format: Literal["text", "json"] = "text"
    # Threads per worker process that run chat turns (api/turn_threads.py): a turn is mostly
    # Python under the GIL, so a few threads answer more than many; more help when the
    # database is far away (PostgreSQL on another host).
    turn_threads: int = Field(default=2, ge=1, le=64)
    # `serve --workers N` on Linux: worker i runs on CPU i (mod the CPUs this process may
    # use), as nginx's worker_cpu_affinity: no migrations between cores. For a host the
    # service has to itself; chatbot/spread_workers.py.
    worker_cpu_affinity: bool = False
    # Short number-free messages a worker keeps the reading and FAQ decision of (LRU entries,
    # chatbot/memo.py); 0 turns it off.
    understanding_memo: int = Field(default=2048, ge=0, le=1_000_000)
    # Mounts POST /bench/echo, the app-echo baseline of bench/load.py.
    bench_echo: bool = False
    # Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed
    # (comma-separated IPs or networks, `*` for any); empty: none, the peer address counts.
    trusted_proxies: str = ""
    # Where one-time codes go: `sandbox` (the inbox of GET /v1/sandbox/sms; sandbox only) or
    # `webhook` (POST to the bank's SMS service after the turn commits; chatbot/tools/sms_webhook.py).
    # Unset means `sandbox` in the sandbox; outside it `webhook` must be chosen.
    sms_gateway: Literal["sandbox", "webhook"] | None = None
    sms_webhook_url: str | None = None
    sms_webhook_token: str | None = None
    sms_webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Human handoff (docs/handoff.md): sessions an agent serves at once unless an admin
    # set another number for that agent, and how long a staff login token lives.
    agent_capacity: int = Field(default=3, ge=1, le=50)
    # When agents are on duty, bank time (Asia/Shanghai), `09:00-21:00` or `22:00-06:00`;
    # outside them a request for a person takes a message. Default: always on duty.
    agent_hours: Annotated[str, AfterValidator(_service_hours)] = "00:00-24:00"
    # An agent counts as online while their console's event stream is open, or this long
    # after their last console action (wait estimates, docs/handoff.md).
    agent_presence_minutes: int = Field(default=5, ge=1, le=120)
    staff_token_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60)
    # A customer waiting live for a person longer than this is told no agent was free (with
    # the hotline) and goes back to the bot (chatbot/handoff/expiry.py); 0: they wait on.
    handoff_queue_minutes: int = Field(default=30, ge=0, le=24 * 60)
    # Notifications (docs/notifications.md): how often the job inside `chatbot serve` runs
    # (each worker process runs it; 0 turns it off, e.g. when cron runs `chatbot notify run`).
    notify_interval_seconds: float = Field(default=60, ge=0, le=24 * 3600)
    # News push (docs/news.md): how often the digest / important-item job inside `chatbot serve`
    # runs (each worker; 0 turns it off, e.g. when cron runs `chatbot push run`).
    news_push_interval_seconds: float = Field(default=60, ge=0, le=24 * 3600)
    # Model promotion (training/gate.py): refused when, on the held-out data, overall accuracy
    # drops by more than `promote_max_drop`, or an intent with at least `promote_min_support`
    # held-out examples drops by more than `promote_max_intent_drop` (unless forced).
    promote_max_drop: float = Field(default=0.01, ge=0, le=1)
    promote_max_intent_drop: float = Field(default=0.05, ge=0, le=1)
    promote_min_support: int = Field(default=10, ge=1)
    # Each serving worker looks at `promoted.json` this often (at once when Redis announces a
    # promotion) and records the version it answers with this often (`serving_workers`).
    model_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0, le=300)

    @property
    def is_sandbox(self) -> bool:
        return self.env == "sandbox"

    def data_keys(self) -> DataKeys:
        """The keys of personal data at rest: CHATBOT_DATA_KEY (in the sandbox, when unset, the
        sandbox's own) and, during a rotation, CHATBOT_DATA_KEY_OLD."""
        current = DataKey.from_secret(self.data_key or SANDBOX_DATA_KEY)
        return DataKeys(current, DataKey.from_secret(self.data_key_old) if self.data_key_old else None)

    @model_validator(mode="before")
    @classmethod
    def _defaults_in_home(cls, data):
        """The database, the models and (for an installed package) the FAQ default to places
        in the home. A relative CHATBOT_HOME is taken from the working directory once, here."""
        if not isinstance(data, dict):
            return data
        home = Path(data.get("home") or paths.default_home()).expanduser().absolute()
        data = {**data, "home": home}
        data.setdefault("database_url", f"sqlite:///{home / 'chatbot.db'}")
        data.setdefault("model_dir", home / "models")
        if "faq_path" not in data:
            data["faq_path"] = paths.default_faq_path(home)
        return data

    @field_validator("data_dir")
    @classmethod
    def _data_dir_exists(cls, value: Path) -> Path:
        """A data directory that is not there, or a package's copy that lacks files (built
        without its data), fails here, naming the setting, instead of at first use."""
        if not value.is_dir():
            raise ValueError(f"the data directory {value} does not exist")
        missing = paths.missing_default_files(value) if value == paths.PACKAGED_DATA_DIR else []
        if missing:
            raise ValueError(f"the package's data directory {value} lacks {', '.join(missing)}: "
                             f"reinstall the package or point CHATBOT_DATA_DIR at a complete copy of data/")
        return value

    @model_validator(mode="after")
    def _refuse_sandbox_parts(self) -> "Settings":
        """Outside the sandbox: a strong secret and a real SMS gateway (one-line errors)."""
        if self.sms_gateway is None and self.is_sandbox:
            self.sms_gateway = "sandbox"
        problems = [] if self.is_sandbox else [p for p in (secret_problem(self.secret_key),
                                                            self._data_key_problem()) if p]
        if self.sms_gateway is None:
            problems.append("CHATBOT_SMS_GATEWAY must be `webhook` outside the sandbox")
        elif self.sms_gateway == "sandbox" and not self.is_sandbox:
            problems.append("CHATBOT_SMS_GATEWAY=sandbox is refused outside the sandbox; use `webhook`")
        elif self.sms_gateway == "webhook":
            problems.extend(self._webhook_problems())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _data_key_problem(self) -> str | None:
        if not self.data_key:
            return ("CHATBOT_DATA_KEY must be set outside the sandbox: it encrypts customers' ID numbers "
                    "and phones (e.g. python -c \"import secrets; print(secrets.token_urlsafe(32))\"; keep "
                    "it out of the repository and apart from CHATBOT_SECRET_KEY)")
        if self.data_key == self.secret_key:
            return "CHATBOT_DATA_KEY must differ from CHATBOT_SECRET_KEY"
        return key_problem("CHATBOT_DATA_KEY", self.data_key, public=SANDBOX_DATA_KEY)

    def _webhook_problems(self) -> list[str]:
        url = urlsplit(self.sms_webhook_url or "")
        if url.scheme not in ("http", "https") or not url.hostname:
            return ["CHATBOT_SMS_WEBHOOK_URL must be an http(s) URL when CHATBOT_SMS_GATEWAY=webhook"]
        problems = []
        if url.scheme != "https" and not self.is_sandbox and url.hostname not in _LOOPBACK_HOSTS:
            problems.append("CHATBOT_SMS_WEBHOOK_URL must use https outside the sandbox")
        if not self.sms_webhook_token:
            problems.append("CHATBOT_SMS_WEBHOOK_TOKEN must be set when CHATBOT_SMS_GATEWAY=webhook")
        return problems


def secret_problem(secret: str) -> str | None:
    """Why `secret` is not good enough outside the sandbox, or None."""
    return key_problem("CHATBOT_SECRET_KEY", secret, public=SANDBOX_SECRET_KEY)


def key_problem(name: str, secret: str, *, public: str) -> str | None:
    """Why the secret setting `name` is not good enough outside the sandbox, or None."""
    if secret == public:
        return f"{name} must be set to a real secret outside the sandbox (the sandbox default is public)"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"{name} is too short: at least {MIN_SECRET_LENGTH} characters outside the sandbox"
    if len(set(secret)) < MIN_SECRET_DISTINCT or secret in (secret + secret)[1:-1]:
        return f"{name} has too little variety (repeated characters or a repeated pattern)"
    return None


def load_settings(**overrides) -> Settings:
    """Read settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)
