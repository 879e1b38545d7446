"""Prediction latency: server time per prediction (p50/p99) for each input form, the HTTP
round trip on loopback, and the browser round trip (p95) measured inside Chromium.

    python bench/bench_predict.py [--n 300]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import percentile, server  # noqa: E402

from app.digits.inputs import PredictRequest, to_input  # noqa: E402
from app.digits.predict import predict  # noqa: E402
from app.digits.store import DEFAULT_MODEL, ModelStore  # noqa: E402

STROKES = [
    [[90 + i, 70] for i in range(0, 160, 4)] + [[250 - i * 0.45, 70 + i] for i in range(0, 210, 4)]
]


def bodies() -> dict[str, dict]:
    img = Image.new("RGB", (336, 336), "white")
    ImageDraw.Draw(img).line([(90, 70), (250, 70), (150, 280)], fill="black", width=16)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    pixels = (
        np.random.default_rng(0).random(784) * (np.random.default_rng(1).random(784) > 0.8)
    ).tolist()
    return {
        "pixels": {"pixels": pixels},
        "strokes": {"strokes": STROKES, "width": 336, "height": 336},
        "image": {"image": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()},
    }


def server_side(n: int) -> dict[str, list[float]]:
    store = ModelStore(Path("/tmp"))
    model = store.get(DEFAULT_MODEL)
    out = {}
    for name, body in bodies().items():
        req = PredictRequest.model_validate(body)
        times = []
        for _ in range(n):
            t = time.perf_counter()
            predict(model, to_input(req))
            times.append((time.perf_counter() - t) * 1000)
        out[name] = times
    return out


def http(url: str, n: int) -> dict[str, list[float]]:
    out = {}
    for name, body in bodies().items():
        data = json.dumps(body).encode()
        times = []
        for _ in range(n):
            req = urllib.request.Request(
                url + "/api/predict", data, {"content-type": "application/json"}
            )
            t = time.perf_counter()
            urllib.request.urlopen(req).read()
            times.append((time.perf_counter() - t) * 1000)
        out[name] = times
    return out


def browser(url: str, n: int) -> list[float] | None:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(path).exists():
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = b.new_page()
        page.goto(url + "/digits")
        times = page.evaluate(
            """async ([strokes, n]) => {
                const out = [];
                for (let i = 0; i < n; i++) {
                  const t = performance.now();
                  const r = await fetch('/api/predict', {method: 'POST',
                    headers: {'content-type': 'application/json'},
                    body: JSON.stringify({strokes, width: 336, height: 336})});
                  await r.json();
                  out.push(performance.now() - t);
                }
                return out;
            }""",
            [STROKES, n],
        )
        b.close()
    return list(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    print(f"{'measure':<38}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    print("-" * 65)

    def row(name: str, t: list[float]) -> None:
        cells = "".join(f"{percentile(t, q):>9.2f}" for q in (50, 95, 99))
        print(f"{name:<38}{cells}")

    with threadpool_limits(limits=1):  # as in the server: one BLAS thread per request
        for name, t in server_side(args.n).items():
            row("server, " + name, t)
    with server() as url:
        for name, t in http(url, args.n).items():
            row("HTTP loopback, " + name, t)
        t = browser(url, args.n)
        if t:
            row("Chromium fetch round trip, strokes", t)
    print("\nTargets: server p50 < 5 ms; browser round trip p95 < 50 ms.")


if __name__ == "__main__":
    main()
