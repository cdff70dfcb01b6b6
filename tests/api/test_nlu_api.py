"""POST /v1/nlu/parse: DESIGN.md's shape, the engine's parser, clear errors."""
import pytest


def test_parse_shape_and_entities(client):
    text = "给李娜转两千五"
    body = client.post("/v1/nlu/parse", json={"text": text}).json()
    assert set(body) == {"intent", "ranking", "entities", "tokens"}
    assert body["intent"]["name"] == "transfer.create"
    assert 0 < body["intent"]["confidence"] <= 1
    assert body["ranking"][0] == body["intent"]
    assert [r["confidence"] for r in body["ranking"]] == sorted((r["confidence"] for r in body["ranking"]), reverse=True)
    amount = next(e for e in body["entities"] if e["entity"] == "amount")
    assert amount["value"] == "2500.00"
    assert text[amount["start"]:amount["end"]] == "两千五"
    payee = next(e for e in body["entities"] if e["entity"] == "payee")
    assert payee["value"] == "李娜"
    assert "李娜" in body["tokens"]


def test_a_second_request_is_shown_apart_with_its_entities(client):
    text = "转账限额多少，顺便给李娜转500"
    body = client.post("/v1/nlu/parse", json={"text": text}).json()
    assert body["intent"]["name"] == "faq" and body["entities"] == []
    assert body["later"]["intent"]["name"] == "transfer.create"
    amount = next(e for e in body["later"]["entities"] if e["entity"] == "amount")
    assert amount["value"] == "500.00" and text[amount["start"]:amount["end"]] == "500"


def test_traditional_and_full_width_input(client):
    body = client.post("/v1/nlu/parse", json={"text": "查一下尾號１２３４的餘額"}).json()
    assert body["intent"]["name"] == "account.balance"
    tail = next(e for e in body["entities"] if e["entity"] == "card_tail")
    assert tail["value"] == "1234"


@pytest.mark.parametrize(("payload", "code"), [
    ({"text": ""}, "empty_text"), ({"text": " "}, "empty_text"),
    ({"text": "好" * 501}, "text_too_long"), ({}, "validation_error"), ({"text": None}, "validation_error"),
])
def test_bad_input(client, payload, code):
    response = client.post("/v1/nlu/parse", json=payload)
    assert response.status_code == 422 and response.json()["error"]["code"] == code
