"""The playground page in Chromium: time from navigation to the first boundary frame drawn,
and the bytes transferred (HTML, JS, CSS, plotly.js gzipped, API, WebSocket frames).

    python bench/bench_page.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    first_frame, loaded, transferred, warm = [], [], [], []
    with server() as url, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for _ in range(args.runs):
            context = browser.new_context()  # a cold cache every run
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            sizes: dict[str, int] = {}
            cdp.on(
                "Network.loadingFinished",
                lambda e, s=sizes: s.__setitem__(e["requestId"], e["encodedDataLength"]),
            )
            ws_bytes = [0]
            cdp.on(
                "Network.webSocketFrameReceived",
                lambda e, w=ws_bytes: w.__setitem__(0, w[0] + len(e["response"]["payloadData"])),
            )
            page.goto(url + "/")
            page.wait_for_function(
                "() => document.getElementById('boundary').data?.[0]?.z?.length > 1"
            )
            t = page.evaluate("() => performance.now()")
            first_frame.append(t)
            loaded.append(
                page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
            )
            transferred.append(sum(sizes.values()) + ws_bytes[0])
            page.goto("about:blank")  # again, now with plotly.js (and its compiled code) cached
            page.goto(url + "/")
            page.wait_for_function(
                "() => document.getElementById('boundary').data?.[0]?.z?.length > 1"
            )
            warm.append(page.evaluate("() => performance.now()"))
            context.close()
        browser.close()
    print(f"{'measure':<44}{'median':>10}{'best':>10}")
    print("-" * 64)
    med, best = statistics.median(loaded), min(loaded)
    print(f"{'navigation -> load event (ms)':<44}{med:>10.0f}{best:>10.0f}")
    print(
        f"{'navigation -> first boundary drawn (ms)':<44}{statistics.median(first_frame):>10.0f}"
        f"{min(first_frame):>10.0f}"
    )
    print(f"{'... again, warm cache (ms)':<44}{statistics.median(warm):>10.0f}{min(warm):>10.0f}")
    print(
        f"{'bytes transferred, cold cache (kB)':<44}{statistics.median(transferred) / 1000:>10.0f}"
        f"{min(transferred) / 1000:>10.0f}"
    )


if __name__ == "__main__":
    main()
