"""`POST /v1/nlu/parse`: what the bot understands of one sentence (the engine's own parser)."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from chatbot.clock import bank_today
from chatbot.errors import InvalidInput

router = APIRouter(prefix="/v1/nlu", tags=["nlu"])


class ParseRequest(BaseModel):
    text: str = Field(description="要解析的句子，不超过 500 字")


class IntentOut(BaseModel):
    name: str
    confidence: float


class EntityOut(BaseModel):
    entity: str
    value: object
    start: int
    end: int


class LaterOut(BaseModel):
    """A second request in the same message ("…，顺便查下余额") and the entities said in it."""
    intent: IntentOut
    entities: list[EntityOut]


class ParseResponse(BaseModel):
    intent: IntentOut
    ranking: list[IntentOut]
    entities: list[EntityOut]
    tokens: list[str]
    later: LaterOut | None = None  # only present when the message holds a second request


# exclude_unset: `later` appears only when there is one; the contract's four keys always do.
@router.post("/parse", response_model=ParseResponse, response_model_exclude_unset=True)
async def parse(body: ParseRequest, services: ServicesDep) -> dict:
    """Intent with confidence, the ranking, entities with spans in the original text, tokens."""
    if not body.text.strip():
        raise InvalidInput("文本不能为空", "empty_text")
    if len(body.text) > services.settings.max_text_length:
        raise InvalidInput(f"文本过长，请控制在 {services.settings.max_text_length} 字以内", "text_too_long")
    result = await run_in_threadpool(services.parser.parse, body.text, bank_today(services.clock))
    return result.to_dict()
