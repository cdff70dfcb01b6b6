"""A JSON response written by orjson (chatbot/json_text.py): the chat answer is sent on
every turn, and the standard library's encoder cost more than the rest of the response.
Compact UTF-8, as Starlette's JSONResponse writes it (what orjson cannot write comes out of
the standard library with ASCII escapes; NaN as null, where Starlette refused it)."""
from __future__ import annotations

from starlette.responses import JSONResponse

from chatbot import json_text


class FastJSONResponse(JSONResponse):
    def render(self, content) -> bytes:
        return json_text.dump_bytes(content)
