"""``GET /metrics``: Prometheus text exposition."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.deps import MetricsDep
from service.errors import BUSY_RESPONSES
from service.metrics import CONTENT_TYPE

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus metrics."},
        **BUSY_RESPONSES,
    },
)
def metrics(metrics: MetricsDep) -> Response:
    """Request latency by route and status, cache hits, index size, version and age.

    Open like the health routes, for scrapers; it holds no article content and no keys.
    """
    return Response(metrics.render(), media_type=CONTENT_TYPE)
