"""A conversation driver over POST /v1/chat, reading codes from the sandbox SMS inbox."""
import re

import pytest

ZHANG = {"name": "张伟", "id": "110105199003071239", "phone": "13800138000"}
WANG = {"name": "王芳", "id": "310115198806152046", "phone": "13900139000"}


class Chat:
    def __init__(self, client, user_id: str):
        self.client = client
        self.user_id = user_id
        self.last: dict = {}

    def say(self, text: str, message_id: str | None = None) -> str:
        payload = {"user_id": self.user_id, "text": text}
        if message_id:
            payload["message_id"] = message_id
        response = self.client.post("/v1/chat", json=payload)
        assert response.status_code == 200, response.text
        self.last = response.json()
        return "\n".join(r["text"] for r in self.last["replies"])

    @property
    def flow(self):
        return self.last["state"]["active_flow"]

    def code(self, phone: str) -> str:
        messages = self.client.get("/v1/sandbox/sms", params={"phone": phone}).json()["messages"]
        return re.search(r"\d{6}", messages[0]["text"]).group(0)

    def sms_count(self, phone: str) -> int:
        return len(self.client.get("/v1/sandbox/sms", params={"phone": phone}).json()["messages"])

    def bind(self, who=ZHANG) -> None:
        self.say("绑定账户")
        self.say(who["name"])
        reply = self.say(who["id"])
        assert "验证码已发送" in reply, reply
        assert "绑定成功" in self.say(self.code(who["phone"]))


@pytest.fixture
def chat(client):
    counter = iter(range(1000))
    return lambda user=None: Chat(client, user or f"user-{next(counter)}")


@pytest.fixture
def low_confidence_parse():
    """Build the parse of a message the intent model cannot place (confidence 0.2)."""
    from chatbot.nlu.intents import IntentScore
    from chatbot.nlu.parser import ParseResult
    from chatbot.nlu.segment import default_segmenter

    def parse(text: str, intent: str = "out_of_scope") -> ParseResult:
        score = IntentScore(intent, 0.2)
        return ParseResult(text=text, normalized=text, intent=score, ranking=(score,), entities=(),
                           tokens=tuple(default_segmenter().cut(text)))
    return parse
