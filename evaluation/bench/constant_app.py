"""A FastAPI app that answers one constant JSON document: the floor under the service's latency.

Run by the service benchmark under the same uvicorn configuration as ``newsrec serve`` (one
worker, httptools, uvloop, no access log), so the ratio of the two shows what the engine, its
JSON and the service's middleware add to the bare framework. Its route is ``async def``, as
newsrec's list route is: a plain ``def`` route would pay a hop to FastAPI's thread pool.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

__all__ = ["CONSTANT", "create_app"]

#: About the size of a response with five items in each list.
CONSTANT: dict[str, Any] = {
    "article": {"id": "constant", "title": "A constant answer"},
    "more_like_this": [{"id": f"m{i}", "title": "Constant", "score": 0.5} for i in range(5)],
    "related": [{"id": f"r{i}", "title": "Constant", "score": 0.5} for i in range(5)],
    "index_version": "v000001",
    "signals_missing": [],
}


def create_app() -> FastAPI:
    """The app: ``GET /articles/{article_id}/related`` returns :data:`CONSTANT`."""
    app = FastAPI(title="constant")

    @app.get("/articles/{article_id}/related")
    async def related(article_id: str) -> dict[str, Any]:
        return CONSTANT

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    """``python -m evaluation.bench.constant_app --port N``: serve it as ``newsrec serve`` does."""
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        "evaluation.bench.constant_app:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        http="httptools",  # as service/server.py
        loop="uvloop",
        access_log=False,
        server_header=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
