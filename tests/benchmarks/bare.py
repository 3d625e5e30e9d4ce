"""The yardstick's bare endpoint: FastAPI with /tag's request body (the same pydantic model) and
nothing else: no middleware, no dependencies, no model. What the web stack itself can do, so
tests/benchmarks/yardstick.py can say what share of it the service keeps.

``uvicorn --factory tests.benchmarks.bare:create_app --loop uvloop --http httptools``
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.schemas import BatchTagRequest, TagRequest


def create_app() -> FastAPI:
    """POST /bare (a TagRequest) and /bare/batch (a BatchTagRequest), answered with the text(s)
    and no spans, serialized by FastAPI as it does by default."""
    app = FastAPI()

    @app.post("/bare")
    async def bare(body: TagRequest) -> dict[str, Any]:
        return {"text": body.text, "tokens": [], "spans": [], "refused": None}

    @app.post("/bare/batch")
    async def bare_batch(body: BatchTagRequest) -> dict[str, Any]:
        texts, _ = body.split()
        return {
            "results": [
                {"text": text, "tokens": [], "spans": [], "refused": None} for text in texts
            ]
        }

    return app
