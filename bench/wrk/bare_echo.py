"""The bare framework of bench/load.py: FastAPI, one `POST /echo` returning the JSON body it got.

Nothing of the chatbot is imported: this is what a request costs in FastAPI + uvicorn alone,
the denominator of every ratio `bench/load.py` prints. It runs as
`uvicorn bare_echo:app --app-dir bench/wrk` with the settings `chatbot serve` uses.
"""
from fastapi import FastAPI

app = FastAPI()


@app.post("/echo")
async def echo(payload: dict) -> dict:
    return payload


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}
