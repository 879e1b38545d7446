"""deploy/compose.yaml's stack brought up for real: two replicas behind nginx's least_conn
on the local Docker daemon (CI: ../shared/tools/docker-standin.sh --compose), as its
host-network variant deploy/compose.ci.yaml. 40 learners train through the proxy; both replicas get
sessions; a model saved through one replica predicts through the other; killing one
replica leaves the other's learners training and the killed one's learners get back in;
a page in Chromium whose replica is killed goes on through the other where its run was; a
class's teacher through the proxy sees learners on both replicas."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.serving.loadtest import run as loadtest
from tests.app.test_class import learner, names, of, teacher, wait_for
from tests.app.test_reliability import until
from tests.app.test_workers import answers
from tests.browser.conftest import browser, page  # noqa: F401 - the page test's fixtures
from tests.browser.test_resume_page import (
    CURVE,
    EPOCH,
    LINK,
    curve_epochs,
    epoch,
    label,
    pause,
    text,
)
from tests.docker_image import IMAGE, MARKS, required

ROOT = Path(__file__).resolve().parents[1]
PROXY, APP1, APP2 = "http://127.0.0.1:18080", "http://127.0.0.1:18001", "http://127.0.0.1:18002"
COMPOSE = ["docker-compose", "-p", "backproplabtest", "-f", "deploy/compose.ci.yaml"]


def compose_works() -> bool:
    if shutil.which("docker-compose") is None or shutil.which("docker") is None:
        return False
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return False
    return (
        subprocess.run(
            ["docker", "image", "inspect", "nginx:stable"], capture_output=True
        ).returncode
        == 0
    )


pytestmark = [
    *MARKS,
    pytest.mark.skipif(
        not compose_works() and not required(),
        reason="no Docker daemon with docker-compose and nginx:stable "
        "(CI: ../shared/tools/docker-standin.sh --compose)",
    ),
]


def run_async(coro: Any) -> Any:
    """asyncio.run on a thread of its own: the browser tests' Playwright loop may still be
    running on this one when this module's tests run."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def get(url: str) -> Any:
    return json.loads(urllib.request.urlopen(url, timeout=5).read())


def wait_ok(url: str, seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if get(url + "/healthz")["status"] == "ok":
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} never answered")


@pytest.fixture(scope="module")
def stack(docker_image: str) -> Iterator[None]:
    def compose(*args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*COMPOSE, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )

    assert docker_image == IMAGE  # the compose file's image, built once for the Docker tests
    up = compose("up", "-d", "--no-build")
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        for url in (APP1, APP2, PROXY):
            wait_ok(url)
        yield
    finally:
        logs = compose("logs", "--no-color", timeout=60).stdout
        (ROOT / ".pytest_cache").mkdir(exist_ok=True)
        (ROOT / ".pytest_cache" / "compose.log").write_text(logs)
        compose("down", "-v", "--remove-orphans", timeout=300)


def test_forty_learners_through_the_proxy_reach_both_replicas(stack: None) -> None:
    seen: list[tuple[int, int]] = []

    async def main() -> Any:
        task = asyncio.create_task(loadtest(PROXY, 40, 8.0, ramp=2.0))
        await asyncio.sleep(5.0)
        seen.append((get(APP1 + "/api/stats")["sessions"], get(APP2 + "/api/stats")["sessions"]))
        return await task

    report = run_async(main())
    s = report.summary()
    assert s["training"] == 40 and s["busy"] == 0 and s["errors"] == 0, report.learners[:3]
    one, two = seen[0]
    assert one + two == 40 and abs(one - two) <= 2  # least_conn: an even split
    assert s["epochs_min"] > 5 and s["predictions"] > 10


def test_a_model_saved_through_one_replica_predicts_through_the_other(stack: None) -> None:
    import websockets

    async def train_and_save() -> str:
        config = {
            "hidden_layers": [10],
            "activation": "relu",
            "loss": "cross_entropy",
            "optimizer": "sgd",
            "learning_rate": 0.5,
            "batch_size": 8000,
            "epochs": 3,
            "init": "he",
        }
        async with websockets.connect(APP1.replace("http", "ws") + "/ws/mnist") as ws:
            await ws.send(json.dumps({"type": "start", "config": config}))
            async for msg in ws:
                if isinstance(msg, str) and json.loads(msg).get("state") == "done":
                    break
            await ws.send(
                json.dumps({"type": "save", "name": "compose-shared", "owner": "compose" * 4})
            )
            async for msg in ws:
                if isinstance(msg, str) and json.loads(msg)["type"] in ("saved", "error"):
                    return str(json.loads(msg)["type"])
        return "closed"

    assert run_async(train_and_save()) == "saved"
    names = [m["name"] for m in get(APP2 + "/api/models")["models"]]
    assert "compose-shared" in names
    body = json.dumps(
        {
            "model": "compose-shared",
            "strokes": [[[40, 40], [240, 40], [120, 280]]],
            "width": 300,
            "height": 300,
        }
    ).encode()
    req = urllib.request.Request(APP2 + "/api/predict", body, {"content-type": "application/json"})
    answer = json.loads(urllib.request.urlopen(req, timeout=10).read())
    assert answer["model"] == "compose-shared" and len(answer["probabilities"]) == 10


def test_killing_a_replica_leaves_the_other_training_and_learners_get_back_in(
    stack: None,
) -> None:
    import websockets

    async def main() -> tuple[int, int]:
        async def session() -> Any:
            ws = await websockets.connect(PROXY.replace("http", "ws") + "/ws/train")
            await ws.send(json.dumps({"type": "start", "config": {"grid": 20}}))
            return ws

        sockets = [await session() for _ in range(6)]
        for ws in sockets:
            await until(ws, "progress")  # every learner is training
        kill = subprocess.run([*COMPOSE, "kill", "app1"], cwd=ROOT, capture_output=True)
        assert kill.returncode == 0  # returns once the container is dead
        # a live learner answers a pause and a resume; a killed replica's socket closes
        answered = await asyncio.gather(*(answers(ws) for ws in sockets))
        alive, dropped = sum(answered), len(answered) - sum(answered)
        for ws in sockets:
            await ws.close()
        # the dropped learners' pages reconnect: through the proxy, to the live replica
        back = [await session() for _ in range(dropped)]
        for ws in back:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert msg["type"] == "ready"
            await ws.close()
        return alive, dropped

    alive, dropped = run_async(main())
    assert alive >= 2 and dropped >= 1 and alive + dropped == 6
    subprocess.run([*COMPOSE, "start", "app1"], cwd=ROOT, capture_output=True)


@pytest.mark.browser
def at(url: str) -> Any:
    """A server as the class tests' helpers take it: where its sockets are."""
    return SimpleNamespace(ws=url.replace("http", "ws"))


def test_a_class_spans_the_replicas_behind_the_proxy(stack: None) -> None:
    """The teacher's socket through the proxy, one learner on each replica: the teacher
    sees both tiles and a setup reaches both, through the volume the replicas share."""
    for url in (APP1, APP2):
        wait_ok(url)  # the last test started app1 again

    async def main() -> None:
        t, code = await teacher(at(PROXY))
        a = await learner(at(APP1), code, "Ada")
        b = await learner(at(APP2), code, "Grace")
        tiles = await wait_for(t, lambda e: e["type"] == "tiles" and len(e["learners"]) == 2)
        assert sorted(names(tiles)) == ["Ada", "Grace"]
        setup = {"dataset": "xor", "hidden_layers": [3]}
        await t.send(json.dumps({"type": "send_setup", "config": setup, "label": "XOR"}))
        for ws in (a, b):
            offer = await wait_for(ws, of("class_setup"))
            assert offer["config"] == setup and offer["label"] == "XOR"
        await t.send(json.dumps({"type": "end"}))
        for ws in (a, b):
            await wait_for(ws, of("class_ended"))
        for ws in (t, a, b):
            await ws.close()

    run_async(main())


def test_a_page_whose_replica_is_killed_goes_on_through_the_other(
    stack: None,
    page: Any,  # noqa: F811 - the fixture imported above
) -> None:
    """The page's replica is killed (its run playing, then paused): the page gets back in
    through the proxy on the other replica and goes on where its run was."""

    def replica() -> str:
        """The replica that holds the page's session (the module's other learners left)."""

        def sessions(url: str) -> int:
            try:
                return int(get(url + "/api/stats")["sessions"])
            except OSError:  # killed
                return 0

        held = [name for name, url in (("app1", APP1), ("app2", APP2)) if sessions(url)]
        assert len(held) == 1, held
        return held[0]

    def kill_and_come_back(name: str) -> str:
        # the button's class is read in the moment the banner shows: the page may be back
        # through the other replica half a second later, before a poll would see the banner
        page.evaluate(
            """() => {
              window.offlineSeen = null;
              const banner = document.getElementById('offline');
              new MutationObserver((_, observer) => {
                if (banner.hidden) return;
                window.offlineSeen = document.getElementById('play').className || '-';
                observer.disconnect();
              }).observe(banner, { attributes: true, attributeFilter: ['hidden'] });
            }"""
        )
        subprocess.run([*COMPOSE, "kill", name], cwd=ROOT, capture_output=True, check=True)
        shown = page.wait_for_function("() => window.offlineSeen", timeout=40000).json_value()
        assert "running" not in shown
        page.wait_for_selector("#online-note", state="visible", timeout=30000)
        return text(page, "#online-note")

    for url in (APP1, APP2):
        wait_ok(url)  # the last test started app1 again
    page.goto(PROXY + LINK)
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(f"() => {EPOCH} > 100", timeout=30000)
    first = replica()
    before = epoch(page)
    note = kill_and_come_back(first)
    assert "Back online. Your run goes on from epoch" in note
    page.wait_for_function(f"() => {EPOCH} > {before + 50}", timeout=30000)
    assert label(page) == "Pause" and replica() != first
    assert curve_epochs(page)[0] == 1  # the curves keep their history

    subprocess.run([*COMPOSE, "start", first], cwd=ROOT, capture_output=True, check=True)
    wait_ok(APP1 if first == "app1" else APP2)
    paused_at = pause(page)
    second = replica()
    note = kill_and_come_back(second)
    assert f"Your run goes on from epoch {paused_at:,}" in note
    page.wait_for_function(f"() => {EPOCH} === {paused_at}")
    assert label(page) == "Play" and replica() == first
    page.wait_for_function(f"() => {CURVE}.at(-1) === {paused_at}")
    assert curve_epochs(page)[0] == 1
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(f"() => {EPOCH} === {paused_at + 1}")
    subprocess.run([*COMPOSE, "start", second], cwd=ROOT, capture_output=True)
