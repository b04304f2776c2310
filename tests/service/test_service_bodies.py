"""Bodies FastAPI cannot parse as JSON are 422 with the reason they really have."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"ids": ["\xff"]}', "the body is not UTF-8 JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "the body's JSON is nested too deeply"),
        (
            b'{"ids": [' + b"1" * 5_000 + b"]}",
            "the body's JSON holds a number with too many digits",
        ),
    ],
    ids=["not-utf8", "too-deep", "too-many-digits"],
)
def test_an_unparsable_body_is_422_with_its_real_reason(
    client: httpx.Client, body: bytes, reason: str
) -> None:
    response = client.post("/related", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"loc": ["body"], "msg": reason, "type": "json_invalid"}]
