"""Classes on a real server with two worker processes: a teacher's socket (``/ws/class``)
sees the tiles of learners whose training sockets are on either worker, and only theirs;
names and codes are checked with messages; a setup reaches every joined learner; leaving
and ending remove the files (docs/protocol.md, "Classes")."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from fastapi.testclient import TestClient

from app.config import Settings
from app.lessons.lesson import lessons
from app.main import create_app
from app.playground.schema import TrainConfig
from tests.app.test_reliability import Server
from tests.app.test_workers import CONFIG, join, sessions_per_worker, stop, workers_server

WAIT = 30.0  # seconds a condition may take on a busy machine


@pytest.fixture()
def two(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    classes = tmp_path / "classes"
    server = workers_server(tmp_path, BACKPROP_CLASS_DIR=str(classes), BACKPROP_MAX_SESSIONS="8")
    yield server, classes
    stop(server)


async def wait_for(ws: Any, test: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first JSON event that passes ``test`` (frames and others skipped)."""

    async def read() -> dict[str, Any]:
        while True:
            msg = await ws.recv()
            if not isinstance(msg, str):
                continue
            event = json.loads(msg)
            if event["type"] == "tiles":
                await ws.send('{"type": "seen"}')  # as the page does once it drew them
            if test(event):
                return event

    return await asyncio.wait_for(read(), WAIT)


def of(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == kind


async def teacher(server: Server) -> tuple[Any, str]:
    ws = await websockets.connect(server.ws + "/ws/class", open_timeout=60)
    await ws.send(json.dumps({"type": "open"}))
    opened = await wait_for(ws, of("class"))
    return ws, opened["code"]


async def learner(server: Server, code: str | None, name: str) -> Any:
    """A learner training the default setup; joined to ``code`` unless it is None."""
    ws, first = await join(server, CONFIG, paused=False)
    assert first["type"] == "ready"
    if code is not None:
        await ws.send(json.dumps({"type": "join", "code": code.lower(), "name": name}))
        joined = await wait_for(ws, lambda e: e["type"] in ("joined", "error"))
        assert joined == {"type": "joined", "code": code, "name": name}
    return ws


def names(tiles: dict[str, Any]) -> list[str]:
    return [t["name"] for t in tiles["learners"]]


def test_a_teacher_sees_joined_learners_on_both_workers_live_and_nobody_else(
    two: tuple[Server, Path],
) -> None:
    server, classes = two

    async def main() -> None:
        t, code = await teacher(server)
        ada = await learner(server, code, "Ada")
        grace = await learner(server, code, "Grace O'Neil")
        # the supervisor put Ada and Grace on different workers: one of them is on another
        # worker than the teacher's socket
        assert sessions_per_worker(server) == [1, 1]
        outsider = await learner(server, None, "")
        both = await wait_for(t, lambda e: e["type"] == "tiles" and len(e["learners"]) == 2)
        assert sorted(names(both)) == ["Ada", "Grace O'Neil"]
        first = {t["name"]: t["epoch"] for t in both["learners"]}
        # live: every tile's epoch grows, and carries a thumbnail, a loss and a verdict
        later = await wait_for(
            t,
            lambda e: (
                e["type"] == "tiles"
                and len(e["learners"]) == 2
                and all(x["epoch"] > first[x["name"]] + 5 for x in e["learners"])
            ),
        )
        for tile in later["learners"]:
            assert tile["side"] == 16 and len(base64.b64decode(tile["thumb"])) == 256
            assert tile["test_loss"] > 0 and tile["verdict_code"] and tile["verdict"]
        # files: one tile per joined learner (a file per worker), none for the outsider
        files = list((classes / code / "learners").glob("*.json"))
        assert sorted(t["name"] for f in files for t in json.loads(f.read_text())) == [
            "Ada",
            "Grace O'Neil",
        ]
        await grace.send(json.dumps({"type": "leave"}))
        await wait_for(grace, of("left"))
        gone = await wait_for(t, lambda e: e["type"] == "tiles" and len(e["learners"]) == 1)
        assert names(gone) == ["Ada"]
        await ada.close()  # a closed tab leaves too
        await wait_for(t, lambda e: e["type"] == "tiles" and not e["learners"])
        assert not list((classes / code / "learners").glob("*.json"))
        for ws in (t, grace, outsider):
            await ws.close()

    asyncio.run(main())


def test_send_setup_reaches_joined_learners_on_both_workers_and_end_removes_the_class(
    two: tuple[Server, Path],
) -> None:
    server, classes = two

    async def main() -> None:
        t, code = await teacher(server)
        a = await learner(server, code, "Ada")
        b = await learner(server, code, "Bo")
        assert sessions_per_worker(server) == [1, 1]  # a and b on different workers
        c = await learner(server, None, "")
        await t.send(json.dumps({"type": "send_setup", "config": {"learning_rate": 99}}))
        refused = await wait_for(t, of("error"))
        assert refused["field"] == "learning_rate" and "10" in refused["message"]
        setup = {"dataset": "xor", "hidden_layers": [3], "activation": "relu"}
        await t.send(json.dumps({"type": "send_setup", "config": setup, "label": "XOR"}))
        sent = await wait_for(t, of("setup_sent"))
        assert sent["config"] == setup
        for ws in (a, b):
            offer = await wait_for(ws, of("class_setup"))
            assert offer["config"] == setup and offer["label"] == "XOR"
            assert "lesson" not in offer
        # a lesson: its own setup and title go with it; a digits lesson, an unknown one, or
        # a lesson and a setup at once are refused in words
        for bad, field in (
            ({"lesson": "mnist-deep"}, "lesson"),
            ({"lesson": "no-such"}, "lesson"),
            ({"lesson": "xor-2-3-1", "config": setup}, "config"),
            ({}, "config"),
        ):
            await t.send(json.dumps({"type": "send_setup", **bad}))
            refused = await wait_for(t, of("error"))
            assert refused["field"] == field, (bad, refused)
            if field == "lesson":
                assert "must be one of the playground's lessons: " in refused["message"]
                assert "xor-2-3-1" in refused["message"] and "mnist" not in refused["message"]
        await t.send(json.dumps({"type": "send_setup", "lesson": "xor-2-3-1"}))
        sent = await wait_for(t, of("setup_sent"))
        xor = lessons()["xor-2-3-1"]
        want = TrainConfig.model_validate(xor.config()).model_dump(exclude_defaults=True)
        assert sent["lesson"] == "xor-2-3-1" and sent["config"] == want
        for ws in (a, b):
            offer = await wait_for(ws, of("class_setup"))
            assert offer["lesson"] == "xor-2-3-1" and offer["label"] == xor.title
            assert offer["config"] == want
        await t.send(json.dumps({"type": "end"}))
        await wait_for(t, of("ended"))
        assert not (classes / code).exists()
        for ws in (a, b):
            ended = await wait_for(ws, of("class_ended"))
            assert "ended" in ended["message"]
        # the learner who never joined heard nothing of any of it
        heard: list[str] = []
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                msg = await asyncio.wait_for(c.recv(), 0.2)
            except TimeoutError:
                continue
            if isinstance(msg, str):
                heard.append(json.loads(msg)["type"])
        assert not {"class_setup", "class_ended", "joined"} & set(heard)
        # the code is no longer a class
        await a.send(json.dumps({"type": "join", "code": code, "name": "Ada"}))
        again = await wait_for(a, of("error"))
        assert again["field"] == "code" and "teacher's screen" in again["message"]
        for ws in (t, a, b, c):
            await ws.close()

    asyncio.run(main())


@pytest.mark.parametrize(
    ("code", "name", "field", "words"),
    [
        ("ABC", "Ada", "code", "6 letters and digits"),
        ("OOOOOO", "Ada", "code", "6 letters and digits"),  # O is not in a code
        (None, "", "name", "1-24 letters"),
        (None, "<script>", "name", "1-24 letters"),
        (None, "x" * 25, "name", "1-24 letters"),
    ],
)
def test_codes_and_names_are_checked_with_the_rule(
    two: tuple[Server, Path], code: str | None, name: str, field: str, words: str
) -> None:
    server, classes = two

    async def main() -> None:
        t, real = await teacher(server)
        ws, _ = await join(server, CONFIG)
        await ws.send(json.dumps({"type": "join", "code": code or real, "name": name}))
        error = await wait_for(ws, lambda e: e["type"] in ("joined", "error"))
        assert error["type"] == "error" and error["field"] == field
        assert words in error["message"]
        assert not list((classes / real / "learners").glob("*.json"))
        for w in (t, ws):
            await w.close()

    asyncio.run(main())


def test_a_teacher_reclaims_the_class_after_a_reconnect_with_its_token_only(
    two: tuple[Server, Path],
) -> None:
    server, _ = two

    async def main() -> None:
        ws = await websockets.connect(server.ws + "/ws/class", open_timeout=60)
        await ws.send(json.dumps({"type": "open"}))
        opened = await wait_for(ws, of("class"))
        await ws.close()
        again = await websockets.connect(server.ws + "/ws/class", open_timeout=60)
        bad = {"type": "reopen", "code": opened["code"], "token": "guess"}
        await again.send(json.dumps(bad))
        assert (await wait_for(again, of("error")))["field"] == "code"
        await again.send(json.dumps({**bad, "token": opened["token"]}))
        assert (await wait_for(again, of("class")))["code"] == opened["code"]
        await again.close()

    asyncio.run(main())


def test_a_class_folder_that_cannot_be_written_is_said_and_the_socket_stays(
    tmp_path: Path,
) -> None:
    """A deployment whose class folder is not writable (a volume owned by another user):
    the teacher reads why a class cannot start, and the socket answers on."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a folder cannot be made under a file, even by root
    settings = Settings(data_dir=tmp_path / "data", class_dir=blocker / "classes")
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws/class") as ws:
        ws.send_text(json.dumps({"type": "open"}))
        error = ws.receive_json()
        assert error["type"] == "error" and error["field"] == "class"
        assert "cannot write its class folder (BACKPROP_CLASS_DIR)" in error["message"]
        ws.send_text(json.dumps({"type": "end"}))
        assert ws.receive_json()["field"] == "type"  # still answering


def test_an_ended_class_is_gone_at_once_though_its_learners_keep_writing(tmp_path: Path) -> None:
    """A learner's process writes its tiles while the teacher ends the class: the class's
    folder is gone the moment ``end`` returns, the writes fail from then on (the class is
    gone), and nothing they left behind outlives the next sweep."""
    import threading

    from app.classroom.store import ClassStore

    store = ClassStore(Settings(data_dir=tmp_path / "data", class_dir=tmp_path / "classes"))
    for _ in range(20):  # a race: many tries
        code, _token = store.open_class()
        assert store.alive(code)
        stop, wrote = threading.Event(), []

        def writer(
            code: str = code, stop: threading.Event = stop, wrote: list[bool] = wrote
        ) -> None:
            while not stop.is_set():
                wrote.append(store.write_tiles(code, "w1", [{"id": "a", "name": "Ada"}]))

        thread = threading.Thread(target=writer)
        thread.start()
        while not wrote:
            time.sleep(0.001)
        store.end(code)
        assert not store.folder(code).exists() and not store.alive(code)
        n = len(wrote)
        time.sleep(0.005)
        stop.set()
        thread.join(5)
        assert not any(wrote[n + 1 :]) and not store.folder(code).exists()
        assert code not in store.codes()
    store.sweep()
    assert [p.name for p in (tmp_path / "classes").iterdir()] == [".lock"]
