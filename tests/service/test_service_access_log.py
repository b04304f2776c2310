"""The per-request middleware on a tiny app whose route fails."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.access_log import AccessMiddleware
from service.metrics import Metrics


def failing_app() -> FastAPI:
    app = FastAPI()

    @app.get("/boom/{n}")
    def boom(n: int) -> None:
        raise RuntimeError(f"boom {n}")

    app.add_middleware(AccessMiddleware, metrics=Metrics(lambda: None))
    return app


def test_unhandled_error_is_a_json_500_quoting_the_request_id() -> None:
    with TestClient(failing_app()) as client:
        response = client.get("/boom/1", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "req-42"
    assert response.json() == {
        "detail": "internal error; quote request id req-42 when reporting it"
    }


def test_unhandled_error_is_counted_under_its_route_template() -> None:
    app = failing_app()
    with TestClient(app) as client:
        client.get("/boom/1")
        client.get("/boom/2")
    metrics: Metrics = app.user_middleware[0].kwargs["metrics"]
    text = metrics.render().decode()
    line = (
        'newsrec_http_request_duration_seconds_count{method="GET",route="/boom/{n}",status="500"}'
    )
    assert f"{line} 2.0" in text
