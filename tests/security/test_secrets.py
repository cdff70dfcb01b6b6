"""Outside the sandbox: a strong secret and a real SMS gateway, refused in one clear line."""
import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from chatbot.settings import SANDBOX_DATA_KEY, SANDBOX_SECRET_KEY, Settings

STRONG = "q7Vd-2mXo9LpZt4rWc8yNb1KfHs6JgEa"  # 32 characters, varied
DATA_KEY = "Zr4-kPq8sLw2Nx6Vb0Tc9Hy3Fm5Dj7Ga"  # another one, for personal data
WEBHOOK = {"sms_gateway": "webhook", "sms_webhook_url": "https://sms.bank.example/send",
           "sms_webhook_token": "gateway-token"}


def production(**overrides) -> Settings:
    return Settings(**{"env": "production", "secret_key": STRONG, "data_key": DATA_KEY, **WEBHOOK, **overrides})


@pytest.mark.parametrize("env", ["production", "development"])
@pytest.mark.parametrize("secret, why", [
    (SANDBOX_SECRET_KEY, "sandbox default is public"),
    ("x", "too short"),
    ("a-real-secret-for-this-test", "too short"),
    ("x" * 40, "too little variety"),
    ("abc123" * 8, "too little variety"),
])
def test_weak_secrets_are_refused_outside_the_sandbox(env, secret, why):
    with pytest.raises(ValidationError) as raised:
        production(env=env, secret_key=secret)
    assert why in str(raised.value)
    assert "CHATBOT_SECRET_KEY" in str(raised.value)


def test_a_strong_secret_is_accepted_and_the_sandbox_keeps_its_default():
    assert production().secret_key == STRONG
    sandbox = Settings(env="sandbox")
    assert sandbox.secret_key == SANDBOX_SECRET_KEY and sandbox.sms_gateway == "sandbox"


@pytest.mark.parametrize("env", ["production", "development"])
@pytest.mark.parametrize("data_key, why", [
    (None, "CHATBOT_DATA_KEY must be set outside the sandbox"),
    (STRONG, "CHATBOT_DATA_KEY must differ from CHATBOT_SECRET_KEY"),
    (SANDBOX_DATA_KEY, "CHATBOT_DATA_KEY must be set to a real secret"),
    ("short-data-key", "CHATBOT_DATA_KEY is too short"),
    ("ab" * 20, "CHATBOT_DATA_KEY has too little variety"),
])
def test_the_data_key_is_required_and_strong_outside_the_sandbox(env, data_key, why):
    with pytest.raises(ValidationError) as raised:
        production(env=env, data_key=data_key)
    assert why in str(raised.value)


def test_the_sandbox_derives_its_data_key_and_a_rotation_reads_two():
    sandbox = Settings(env="sandbox").data_keys()
    assert sandbox.key_ids == Settings(env="sandbox", secret_key=STRONG).data_keys().key_ids  # not the secret's
    rotating = production(data_key_old=SANDBOX_DATA_KEY).data_keys()
    assert rotating.key_ids == (production().data_keys().current.key_id, sandbox.current.key_id)
    assert DATA_KEY not in repr(production()) and DATA_KEY not in repr(rotating.current)


@pytest.mark.parametrize("env", ["production", "development"])
def test_the_sandbox_sms_gateway_is_refused_outside_the_sandbox(env):
    with pytest.raises(ValidationError, match="CHATBOT_SMS_GATEWAY=sandbox is refused"):
        production(env=env, sms_gateway="sandbox")
    with pytest.raises(ValidationError, match="CHATBOT_SMS_GATEWAY must be `webhook`"):
        Settings(env=env, secret_key=STRONG)


@pytest.mark.parametrize("overrides, message", [
    ({"sms_webhook_url": None}, "CHATBOT_SMS_WEBHOOK_URL must be an http(s) URL"),
    ({"sms_webhook_url": "ftp://sms.bank.example/"}, "CHATBOT_SMS_WEBHOOK_URL must be an http(s) URL"),
    ({"sms_webhook_url": "http://sms.bank.example/send"}, "must use https outside the sandbox"),
    ({"sms_webhook_token": None}, "CHATBOT_SMS_WEBHOOK_TOKEN must be set"),
])
def test_the_webhook_gateway_needs_an_address_and_a_token(overrides, message):
    with pytest.raises(ValidationError) as raised:
        production(**overrides)
    assert message in str(raised.value)


def test_a_loopback_webhook_may_be_plain_http():
    assert production(sms_webhook_url="http://127.0.0.1:9000/sms").sms_webhook_url.startswith("http://")


def _cli(args, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "chatbot.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.mark.parametrize("extra", [
    {"CHATBOT_ENV": "development"},  # the public default secret
    {"CHATBOT_ENV": "production", "CHATBOT_SECRET_KEY": "x"},
])
def test_cli_refuses_in_one_line_without_showing_the_secret(tmp_path, extra):
    secret_env = {"CHATBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "CHATBOT_SMS_GATEWAY": "webhook",
                  "CHATBOT_SMS_WEBHOOK_URL": "https://sms.bank.example/send",
                  "CHATBOT_SMS_WEBHOOK_TOKEN": "token-value-not-to-print", **extra}
    for args in (["serve"], ["db", "upgrade"]):
        result = _cli(args, secret_env)
        assert result.returncode == 1
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("错误：配置有误：CHATBOT_SECRET_KEY"), result.stderr
        assert "token-value-not-to-print" not in result.stderr and SANDBOX_SECRET_KEY not in result.stderr
    assert not (tmp_path / "x.db").exists()
