"""How failures become HTTP answers, and the error responses each route documents.

Every error body is ``{"detail": ...}``: a sentence for 401/403/404/413/503, and for 422 the
list of problems FastAPI uses for validation errors (``loc``, ``msg``, ``type``), so a client
handles one shape whatever raised the error.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from index import LockedError
from index.errors import CatalogueUnavailable
from index.overrides import UnknownOverride
from recommender.embedding.embedder import ModelUnavailable
from recommender.ingestion.articles import InvalidArticle
from recommender.ingestion.updates import InvalidBatch
from recommender.operations.editorial import EditorialError
from recommender.serving.engine import UnknownArticle
from recommender.serving.facets import UnknownFilterValue
from service.schemas import ListOptionsError, ProblemOut
from service.tracking import UnknownVariant
from service.workload import Busy

__all__ = [
    "AUTH_RESPONSES",
    "BUSY_RESPONSES",
    "LOCK_RETRY_SECONDS",
    "WRITE_RESPONSES",
    "install_error_handlers",
    "responses",
]

#: Retry-After of a write refused because another job holds the writer lock.
LOCK_RETRY_SECONDS = 2
#: Retry-After while a shared catalogue's database is out of reach: long enough for a restart
#: or a failover, short enough that clients come back soon after it.
UNAVAILABLE_RETRY_SECONDS = 5

_PROBLEM: dict[str, Any] = {"model": ProblemOut}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {**_PROBLEM, "description": "The API key is missing or not valid."},
    403: {**_PROBLEM, "description": "The key may not do this, or writes are disabled."},
}
BUSY_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {**_PROBLEM, "description": "Busy; retry after the Retry-After header's seconds."},
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    413: {**_PROBLEM, "description": "The body is larger than NEWSREC_MAX_BODY_BYTES."},
    422: {"description": "An article or field is not valid; nothing was written."},
    503: {
        **_PROBLEM,
        "description": "Another job (ingest, reindex) is writing, the service is busy, or "
        "the shared catalogue's database is out of reach; retry after the Retry-After "
        "header's seconds.",
    },
}


def responses(*groups: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """The documented error responses of a route, merged from ``groups``."""
    merged: dict[int | str, dict[str, Any]] = {}
    for group in groups:
        for status, spec in group.items():
            merged[status] = {**merged.get(status, {}), **spec}
    return merged


def _problem(status: int, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or None)


def _invalid(loc: list[str | int], message: str) -> dict[str, Any]:
    return {"loc": loc, "msg": message, "type": "value_error"}


async def _unknown_article(request: Request, exc: Exception) -> JSONResponse:
    return _problem(404, str(exc))


async def _unknown_override(request: Request, exc: Exception) -> JSONResponse:
    return _problem(404, str(exc))


async def _editorial_refusal(request: Request, exc: Exception) -> JSONResponse:
    return _problem(422, str(exc))


async def _locked(request: Request, exc: Exception) -> JSONResponse:
    return _problem(503, str(exc), **{"Retry-After": str(LOCK_RETRY_SECONDS)})


async def _catalogue_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # Writes (and reads that need the database, such as explained lists) wait for it; lists
    # answered from memory are not affected. Nothing was written.
    return _problem(
        503,
        f"{exc}; nothing was written, retry later",
        **{"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)},
    )


async def _busy(request: Request, exc: Exception) -> JSONResponse:
    retry_after = exc.retry_after_seconds if isinstance(exc, Busy) else 1
    return _problem(503, str(exc), **{"Retry-After": str(retry_after)})


async def _model_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return _problem(503, f"the embedding model cannot be loaded: {exc}")


async def _invalid_article(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, InvalidBatch):
        batch = request.url.path.endswith(":batch")
        detail = [
            _invalid(["body", "articles", pos] if batch else ["body"], why)
            for pos, why in exc.problems
        ]
    else:
        detail = [_invalid(["body"], str(exc))]
    return JSONResponse({"detail": detail}, status_code=422)


async def _invalid_options(request: Request, exc: Exception) -> JSONResponse:
    where = "body" if request.method == "POST" else "query"
    return JSONResponse({"detail": [_invalid([where], str(exc))]}, status_code=422)


def _unparsable_body(cause: BaseException | None) -> str:
    # Why FastAPI's JSON parsing failed other than by malformed JSON, which it reports itself.
    if isinstance(cause, UnicodeDecodeError):
        return "the body is not UTF-8 JSON"
    if isinstance(cause, RecursionError):
        return "the body's JSON is nested too deeply"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "the body's JSON holds a number with too many digits"
    return "the body cannot be read as JSON"


async def _http_error(request: Request, exc: Exception) -> Response:
    # FastAPI answers a JSON body it cannot parse for another reason than bad syntax (bytes
    # that are not UTF-8, nesting too deep for the parser, an integer of thousands of digits)
    # with a bare 400 that no route documents; it is the same client mistake as malformed
    # JSON, which FastAPI answers with 422, so it gets the same status and shape, and the
    # reason it really has (FastAPI raises the 400 from the parser's exception).
    if (
        isinstance(exc, StarletteHTTPException)
        and exc.status_code == 400
        and exc.detail == "There was an error parsing the body"
    ):
        message = _unparsable_body(exc.__cause__)
        problem = {"loc": ["body"], "msg": message, "type": "json_invalid"}
        return JSONResponse({"detail": [problem]}, status_code=422)
    if isinstance(exc, StarletteHTTPException) and exc.status_code == 405:
        # Starlette's Allow names the methods of the first route on the path only; the
        # answer must name every method the path has (GET, PUT and DELETE of an article).
        allowed = _methods_of(request)
        if allowed:
            exc = StarletteHTTPException(405, exc.detail, headers={"Allow": ", ".join(allowed)})
    return await http_exception_handler(request, exc)  # type: ignore[arg-type]


def _methods_of(request: Request) -> list[str]:
    # Asked of the router itself, method by method, rather than read from its routes: routers
    # included into the app are not plain routes.
    return [
        method
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.routes
        )
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's 422 quotes each offending value back ("input"); a value sent by mistake may be
    # a secret (a key pasted into the wrong field) or megabytes long, and the answer may be
    # logged by a proxy, so the problems keep where and why but never the value itself.
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {k: v for k, v in error.items() if k not in ("input", "ctx", "url")} for error in errors
    ]
    return JSONResponse({"detail": jsonable_encoder(detail)}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Map the recommender's and the store's exceptions to HTTP answers."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(UnknownArticle, _unknown_article)
    app.add_exception_handler(UnknownOverride, _unknown_override)
    app.add_exception_handler(EditorialError, _editorial_refusal)
    app.add_exception_handler(LockedError, _locked)
    app.add_exception_handler(CatalogueUnavailable, _catalogue_unavailable)
    app.add_exception_handler(Busy, _busy)
    app.add_exception_handler(ModelUnavailable, _model_unavailable)
    app.add_exception_handler(InvalidArticle, _invalid_article)
    app.add_exception_handler(ListOptionsError, _invalid_options)
    app.add_exception_handler(UnknownFilterValue, _invalid_options)
    app.add_exception_handler(UnknownVariant, _invalid_options)
