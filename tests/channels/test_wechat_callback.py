"""The `/wechat` callback driven like WeChat does: verification, signatures, both modes, kinds."""
import pytest
from sqlalchemy import func, select

from chatbot.storage.models import AuditLog, TurnLog

SAFE_MODES = [pytest.param(False, id="plaintext"), pytest.param(True, id="safe")]


def turns(services, openid):
    with services.database.read() as db:
        return db.scalars(select(TurnLog).where(TurnLog.channel == "wechat", TurnLog.user_id == openid)).all()


def audit_actions(services, openid):
    with services.database.read() as db:
        return db.scalars(select(AuditLog.action).where(AuditLog.target == openid).order_by(AuditLog.id)).all()


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


# --- URL verification --------------------------------------------------------------------------

def test_url_verification_echoes_echostr(wx):
    response = wx.client.get("/wechat", params=wx.query(echostr="8421937410"))
    assert response.status_code == 200 and response.text == "8421937410"


def test_url_verification_refuses_a_forged_signature(wx):
    query = wx.query(echostr="123")
    query["signature"] = "0" * 40
    assert_error(wx.client.get("/wechat", params=query), 403, "invalid_signature")


@pytest.mark.parametrize("missing", ["signature", "timestamp", "nonce", "echostr"])
def test_url_verification_needs_every_parameter(wx, missing):
    query = wx.query(echostr="123")
    del query[missing]
    assert_error(wx.client.get("/wechat", params=query), 400, "missing_parameter")


# --- refused callbacks do nothing --------------------------------------------------------------------

@pytest.mark.parametrize("safe", SAFE_MODES)
def test_forged_signature_is_refused_and_nothing_happens(wx, services, safe):
    query = wx.query()
    query["signature"] = wx.sign("wrong-token", query["timestamp"], query["nonce"])
    response = wx.post(wx.text("o-forged", "你好", 1001), safe=safe, query=query)
    assert_error(response, 403, "invalid_signature")
    assert turns(services, "o-forged") == []


def test_forged_msg_signature_is_refused(wx, services):
    xml = wx.text("o-forged2", "你好", 1002)
    query = wx.query()
    envelope_body = wx.crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
    body = envelope_body.replace("<MsgSignature>", "<Ignored>").replace("</MsgSignature>", "</Ignored>")
    query.update(encrypt_type="aes", msg_signature="f" * 40)
    assert_error(wx.client.post("/wechat", params=query, content=body.encode()), 403, "invalid_signature")
    assert turns(services, "o-forged2") == []


def test_stale_timestamp_is_refused(wx, services):
    response = wx.post(wx.text("o-stale", "你好", 1003), query=wx.query(timestamp=wx.now() - 301))
    assert_error(response, 403, "stale_request")
    assert turns(services, "o-stale") == []


ENTITIES = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml>'
            b"<ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
            b"<MsgType>text</MsgType><Content>&b;</Content><MsgId>1</MsgId></xml>")


@pytest.mark.parametrize("body", [b"not xml", b"<xml><MsgType>text</MsgType></xml>", b"", b"\xff\xfe",
                                  b"<xml><MsgType>text</MsgType><FromUserName>o</FromUserName>"
                                  b"<ToUserName>gh</ToUserName><MsgId>x1</MsgId></xml>", ENTITIES])
def test_unreadable_bodies_are_4xx(wx, body):
    response = wx.client.post("/wechat", params=wx.query(), content=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_xml"


def test_safe_mode_body_that_does_not_decrypt_is_4xx(wx):
    query = wx.query()
    encrypt = "bm90IHJlYWxseSBlbmNyeXB0ZWQgYXQgYWxsIQ=="
    body = f"<xml><ToUserName>x</ToUserName><Encrypt>{encrypt}</Encrypt></xml>"
    query.update(encrypt_type="aes", msg_signature=wx.sign(wx.token, query["timestamp"], query["nonce"], encrypt))
    assert_error(wx.client.post("/wechat", params=query, content=body.encode()), 400, "decrypt_failed")


def test_oversized_body_is_refused(wx):
    response = wx.client.post("/wechat", params=wx.query(), content=b"<xml>" + b"x" * 300_000 + b"</xml>")
    assert_error(response, 400, "body_too_large")


# --- messages ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("safe", SAFE_MODES)
def test_text_goes_to_the_engine_and_back_as_xml(wx, services, safe):
    reply = wx.reply(wx.post(wx.text("o-text", "你好", 2001), safe=safe), safe=safe)
    assert reply["MsgType"] == "text" and "您好" in reply["Content"]
    assert reply["ToUserName"] == "o-text" and reply["FromUserName"] == wx.account
    assert int(reply["CreateTime"]) == wx.now()
    [turn] = turns(services, "o-text")
    assert turn.message_id == "2001" and turn.intent == "greet"


@pytest.mark.parametrize("safe", SAFE_MODES)
def test_voice_uses_its_recognition(wx, services, safe):
    reply = wx.reply(wx.post(wx.voice("o-voice", "谢谢", 2101), safe=safe), safe=safe)
    assert "不客气" in reply["Content"]
    assert [t.text for t in turns(services, "o-voice")] == ["谢谢"]


def test_voice_without_recognition_asks_again(wx, services):
    reply = wx.reply(wx.post(wx.voice("o-voice2", "", 2102)))
    assert "没能识别" in reply["Content"]
    assert turns(services, "o-voice2") == []


@pytest.mark.parametrize(("kind", "words"), [("image", "图片"), ("location", "位置"), ("link", "链接")])
def test_images_locations_and_links_get_a_polite_answer(wx, services, kind, words):
    xml = getattr(wx, kind)("o-media", 2200)
    reply = wx.reply(wx.post(xml))
    assert words in reply["Content"]
    assert turns(services, "o-media") == []


@pytest.mark.parametrize("safe", SAFE_MODES)
def test_subscribe_gets_the_welcome_and_is_recorded(wx, services, safe):
    reply = wx.reply(wx.post(wx.event("o-new", "subscribe"), safe=safe), safe=safe)
    assert "欢迎关注" in reply["Content"] and "绑定" in reply["Content"] and "转账" in reply["Content"]
    assert audit_actions(services, "o-new") == ["wechat.subscribe"]


def test_unsubscribe_is_recorded_and_answered_with_success(wx, services):
    response = wx.post(wx.event("o-gone", "unsubscribe"))
    assert response.text == "success"
    assert audit_actions(services, "o-gone") == ["wechat.unsubscribe"]


@pytest.mark.parametrize("safe", SAFE_MODES)
def test_menu_click_reaches_the_intent_of_its_key(wx, services, safe):
    wx.reply(wx.post(wx.event("o-menu", "CLICK", "HUMAN_REQUEST"), safe=safe), safe=safe)
    [turn] = turns(services, "o-menu")
    assert turn.text == "人工客服" and turn.intent == "human.request"
    assert turn.message_id.startswith(f"evt-{wx.now()}-")


def test_menu_click_with_a_fixed_reply_and_an_unknown_key(wx, services):
    hours = wx.reply(wx.post(wx.event("o-menu2", "CLICK", "SERVICE_HOURS")))
    assert "人工客服服务时间" in hours["Content"]
    unknown = wx.reply(wx.post(wx.event("o-menu2", "CLICK", "NO_SUCH_KEY", create_time=wx.now() - 1)))
    assert "菜单已更新" in unknown["Content"]
    assert turns(services, "o-menu2") == []


def test_other_events_are_acknowledged(wx, services):
    assert wx.post(wx.event("o-view", "VIEW", "https://www.example-bank.cn/")).text == "success"
    assert wx.post(wx.event("o-view", "TEMPLATESENDJOBFINISH", create_time=wx.now() - 5)).text == "success"
    assert turns(services, "o-view") == []


def test_overlong_text_is_explained_not_failed(wx, services):
    reply = wx.reply(wx.post(wx.text("o-long", "字" * 600, 2301)))
    assert "过长" in reply["Content"]


def test_cdata_terminator_in_a_reply_stays_well_formed(wx):
    import xmltodict

    from chatbot.channels.wechat.replies import text_reply_xml

    xml = text_reply_xml("gh", "o", "a]]>b", 1)
    assert xmltodict.parse(xml)["xml"]["Content"] == "a]]>b"


def test_callback_is_503_when_the_account_is_not_configured(database_url, model_dir, clock, intent_model,
                                                             knowledge_desk):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from chatbot.service import build_services
    from chatbot.settings import Settings

    services = build_services(Settings(env="sandbox", database_url=database_url, model_dir=model_dir),
                              clock=clock, classifier=intent_model, knowledge=knowledge_desk)
    with TestClient(create_app(services=services)) as client:
        assert_error(client.get("/wechat", params={"echostr": "1"}), 503, "wechat_not_configured")
        assert services.outbound.deliver("wechat", "o-x", "hi") is False  # no sender without the API
    with services.database.read() as db:
        assert db.scalar(select(func.count()).select_from(TurnLog)) == 0
