"""A JSON response written by orjson (chatbot/json_text.py): the chat answer is sent on
every turn, and the standard library's encoder cost more than the rest of the response.
The bytes are what Starlette's JSONResponse sends: compact, UTF-8."""
from __future__ import annotations

from starlette.responses import JSONResponse

from chatbot import json_text


class FastJSONResponse(JSONResponse):
    def render(self, content) -> bytes:
        return json_text.dump_bytes(content)
