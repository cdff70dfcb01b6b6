"""HTTP contract of DESIGN.md: chat, history, health, docs and the error body."""
import pytest


def test_chat_answers_a_greeting(client):
    response = client.post("/v1/chat", json={"user_id": "web-1", "text": "你好"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"session_id", "replies", "state", "user_token"}  # the first message
    assert body["replies"][0]["type"] == "text" and "您好" in body["replies"][0]["text"]
    assert body["state"] == {"mode": "bot", "intent": "greet", "active_flow": None}


def test_history_returns_both_sides_after_an_id(client):
    client.post("/v1/chat", json={"user_id": "web-2", "text": "你好"})
    client.post("/v1/chat", json={"user_id": "web-2", "text": "谢谢"})
    messages = client.get("/v1/chat/history", params={"user_id": "web-2"}).json()["messages"]
    assert [m["sender"] for m in messages] == ["user", "bot", "user", "bot"]
    assert messages[2]["text"] == "谢谢"
    later = client.get("/v1/chat/history", params={"user_id": "web-2", "after": messages[1]["id"]}).json()
    assert [m["id"] for m in later["messages"]] == [m["id"] for m in messages[2:]]
    assert client.get("/v1/chat/history", params={"user_id": "nobody"}).status_code == 401


def test_repeated_message_id_returns_the_first_answer(client):
    payload = {"user_id": "web-3", "text": "你好", "message_id": "abc"}
    first = client.post("/v1/chat", json=payload).json()
    second = client.post("/v1/chat", json=payload).json()  # now with the token the first earned
    assert first.pop("user_token") and first == second
    history = client.get("/v1/chat/history", params={"user_id": "web-3"}).json()["messages"]
    assert len(history) == 2


def _assert_error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(("payload", "status", "code"), [
    ({"user_id": "u", "text": ""}, 422, "empty_text"),
    ({"user_id": "u", "text": "  "}, 422, "empty_text"),
    ({"user_id": "u", "text": "字" * 501}, 422, "text_too_long"),
    ({"user_id": "u"}, 422, "validation_error"),
    ({"text": "你好"}, 422, "validation_error"),
    ({"user_id": "", "text": "你好"}, 422, "validation_error"),
    ({"user_id": "u", "text": 5}, 422, "validation_error"),
    ({"user_id": "u", "text": "你好", "channel": "fax"}, 422, "validation_error"),
    ({"user_id": "u", "text": "你好", "message_id": ""}, 422, "validation_error"),
    ([1, 2], 422, "validation_error"),
])
def test_bad_chat_requests_get_json_errors(client, payload, status, code):
    _assert_error(client.post("/v1/chat", json=payload), status, code)
    # Nothing was kept, not even the claim on the user id: its first real message earns a token.
    first = client.post("/v1/chat", json={"user_id": "u", "text": "你好"}).json()
    assert "user_token" in first
    assert len(client.get("/v1/chat/history", params={"user_id": "u"}).json()["messages"]) == 2


def test_malformed_json(client):
    response = client.post("/v1/chat", content=b'{"user_id": "u", "text": ', headers={"Content-Type": "application/json"})
    _assert_error(response, 400, "malformed_json")


def test_unknown_route_and_wrong_method(client):
    _assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    _assert_error(client.get("/v1/chat"), 405, "method_not_allowed")
    _assert_error(client.delete("/healthz"), 405, "method_not_allowed")


def test_history_validation(client):
    _assert_error(client.get("/v1/chat/history"), 401, "missing_user_token")
    client.post("/v1/chat", json={"user_id": "u", "text": "你好"})
    _assert_error(client.get("/v1/chat/history", params={"user_id": "u", "after": 2 ** 63}), 422, "validation_error")
    _assert_error(client.get("/v1/chat/history", params={"user_id": "u", "after": -1}), 422, "validation_error")
    _assert_error(client.get("/v1/chat/history", params={"user_id": "u", "after": "x"}), 422, "validation_error")


def test_health_docs_and_page(client):
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/v1/chat" in schema["paths"] and "/v1/chat/history" in schema["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "智能客服" in page.text
    assert "http" not in page.text.replace('name="viewport"', "")  # no CDN: everything is local
    assert client.get("/static/chat.js").status_code == 200


def test_sandbox_sms_inbox_exists_only_in_sandbox(client, services):
    assert client.get("/v1/sandbox/sms", params={"phone": "13800138000"}).json() == {"messages": []}
    _assert_error(client.get("/v1/sandbox/sms", params={"phone": "12345"}), 422, "validation_error")


def test_sandbox_sms_inbox_is_absent_in_production(database_url, clock, model_dir, intent_model, knowledge_desk):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from chatbot.service import build_services
    from chatbot.settings import Settings

    settings = Settings(env="production", database_url=database_url, model_dir=model_dir,
                        secret_key="a-real-secret-for-this-test-0123456789", sms_gateway="webhook",
                        data_key="a-real-data-key-for-this-test-9876543210",
                        sms_webhook_url="https://sms.bank.example/send", sms_webhook_token="t")
    services = build_services(settings, clock=clock, classifier=intent_model, knowledge=knowledge_desk)
    with TestClient(create_app(services=services)) as client:
        _assert_error(client.get("/v1/sandbox/sms", params={"phone": "13800138000"}), 404, "not_found")
