"""Security headers on every HTTP response (app/serving/headers.py)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    big = b"x" * (client.app.state.backprop.settings.max_body_bytes + 1)  # type: ignore[attr-defined]
    for response in (
        client.get("/"),
        client.get("/digits"),
        client.get("/api/options"),
        client.get("/static/js/main.js"),
        client.get("/nowhere"),
        client.post("/api/predict", content=big),  # refused before it is read
    ):
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, response.url
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "DENY"


def test_an_inline_script_runs_only_with_its_responses_nonce(client: TestClient) -> None:
    pages = [client.get("/digits") for _ in range(2)]
    nonces = []
    for page in pages:
        nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"])
        assert nonce is not None
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page.text)
        assert inline and all(f'nonce="{nonce[1]}"' in attrs for attrs in inline)
        nonces.append(nonce[1])
    assert nonces[0] != nonces[1]  # a fresh one each time
