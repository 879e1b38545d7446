"""Every core: worker processes with their own listeners, balanced sessions, one capacity,
graceful shutdown and a replaced worker, on a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import websockets

from app.config import Settings, default_workers, load_settings
from app.serving.table import WorkerTable
from tests.app.test_reliability import Server, start_server, until

CONFIG = {"dataset": "circle", "hidden_layers": [4, 2], "grid": 20}


async def join(server: Server, config: dict[str, Any], paused: bool = True) -> Any:
    """Open a session as the page does: a worker may send us on (close 1013 "rebalance")."""
    for tries in range(20):
        # a minute to open: a worker that was just started may still be importing
        ws = await websockets.connect(server.ws + f"/ws/train?try={tries}", open_timeout=60)
        try:
            await ws.send(json.dumps({"type": "start", "paused": paused, "config": config}))
            first = json.loads(await ws.recv())
        except websockets.ConnectionClosed as exc:
            await ws.close()  # its transport too, before the next try
            assert exc.rcvd is not None and exc.rcvd.reason == "rebalance"
            continue
        return ws, first
    raise AssertionError("never placed")


@pytest.fixture()
def two(tmp_path: Path) -> Any:
    server = start_server(tmp_path, BACKPROP_WORKERS="2", BACKPROP_MAX_SESSIONS="12")
    for _ in range(1200):  # both workers have registered in the shared table
        if len(server.get("/api/stats")["workers"]) == 2:
            break
        time.sleep(0.05)
    assert len(server.get("/api/stats")["workers"]) == 2
    yield server
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(15)


def test_sessions_spread_evenly_over_the_workers(two: Server) -> None:
    async def main() -> dict[str, Any]:
        opened = await asyncio.gather(*(join(two, CONFIG) for _ in range(10)))
        stats = two.get("/api/stats")
        for ws, first in opened:
            assert first["type"] == "ready"
            await ws.close()
        return stats

    stats = asyncio.run(main())
    counts = sorted(w["sessions"] for w in stats["workers"])
    assert counts == [5, 5], stats  # exactly even, where the kernel alone splits unevenly
    assert stats["sessions"] == 10 and stats["max_sessions"] == 12
    assert len({w["pid"] for w in stats["workers"]}) == 2
    assert all(w["rss_mb"] > 20 for w in stats["workers"])
    for _ in range(50):
        if two.get("/api/stats")["sessions"] == 0:
            break
        time.sleep(0.1)
    assert two.get("/api/stats")["sessions"] == 0


def test_capacity_is_the_whole_servers(two: Server) -> None:
    async def main() -> dict[str, Any]:
        opened = [await join(two, CONFIG) for _ in range(12)]
        ws = await websockets.connect(two.ws + "/ws/train")
        busy = json.loads(await ws.recv())
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        for s, _ in opened:
            await s.close()
        await ws.close()
        return dict(busy)

    busy = asyncio.run(main())
    assert busy["state"] == "busy" and busy["learners"] == 12
    assert busy["message"] == "The server is full: 12 learners are training."


def test_sigterm_gives_every_session_on_every_worker_its_last_status(two: Server) -> None:
    async def main() -> list[str]:
        opened = await asyncio.gather(*(join(two, CONFIG, paused=False) for _ in range(6)))
        await asyncio.sleep(0.5)
        two.proc.send_signal(signal.SIGTERM)

        async def last(ws: Any) -> str:
            state = ""
            try:
                async for msg in ws:
                    if isinstance(msg, str) and json.loads(msg)["type"] == "status":
                        state = json.loads(msg)["state"]
            except websockets.ConnectionClosed:
                pass
            return state

        states = list(await asyncio.gather(*(last(ws) for ws, _ in opened)))
        for ws, _ in opened:
            await ws.close()
        return states

    assert asyncio.run(main()) == ["stopped"] * 6
    assert two.proc.wait(15) == 0


def gone(pid: int) -> bool:
    """The process has exited (a zombie until its parent reaps it, then no entry)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def answers(ws: Any) -> bool:
    """Pause the run and resume it: a live session answers both, and trains on; a dead
    worker's socket ends (once what it had sent is read) without answering."""
    try:
        await ws.send(json.dumps({"type": "pause"}))
        paused = await until(ws, "status", "paused")
        await ws.send(json.dumps({"type": "resume"}))
        while (await until(ws, "progress"))["epochs"][-1] <= paused["epoch"]:
            pass
    except websockets.ConnectionClosed:
        return False
    return True


def test_a_dead_worker_is_replaced_and_the_others_learners_train_on(two: Server) -> None:
    async def main() -> None:
        opened = await asyncio.gather(*(join(two, CONFIG, paused=False) for _ in range(4)))
        workers = two.get("/api/stats")["workers"]
        assert sorted(w["sessions"] for w in workers) == [2, 2]
        victim = workers[0]["pid"]
        os.kill(victim, signal.SIGKILL)
        while not gone(victim):
            await asyncio.sleep(0.01)
        alive = await asyncio.gather(*(answers(ws) for ws, _ in opened))
        assert sum(alive) == 2  # the other worker's two learners go on training
        pids: list[int] = []
        for _ in range(300):
            try:  # the fresh worker listens before it serves: a request may wait for it
                pids = [w["pid"] for w in two.get("/api/stats")["workers"]]
            except OSError:
                continue
            if len(pids) == 2 and victim not in pids:
                break
            await asyncio.sleep(0.1)
        assert len(pids) == 2 and victim not in pids  # a fresh worker took its place
        ws, first = await join(two, CONFIG)
        assert first["type"] == "ready"
        for s in [ws, *(w for w, _ in opened)]:
            await s.close()

    asyncio.run(main())


def test_ordinary_disconnects_log_one_quiet_line(tmp_path: Path) -> None:
    server = start_server(tmp_path, BACKPROP_WORKERS="2")

    async def main() -> None:
        for _ in range(3):
            opened = await asyncio.gather(*(join(server, CONFIG, paused=False) for _ in range(10)))
            await asyncio.sleep(0.3)
            for ws, _ in opened:
                ws.transport.abort()  # a tab closed mid-stream, no closing handshake
            for ws, _ in opened:
                await ws.close()

    try:
        asyncio.run(main())
        time.sleep(1.0)
    finally:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(15)
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log and "Exception in ASGI application" not in log
    assert log.count("session ended") >= 30  # one quiet line per learner who left


def test_workers_default_to_the_cores_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BACKPROP_WORKERS", raising=False)
    assert default_workers(Settings().workers) == len(os.sched_getaffinity(0))
    monkeypatch.setenv("BACKPROP_WORKERS", "3")
    assert default_workers(Settings().workers) == 3


def test_a_bad_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKPROP_MAX_SESSIONS", "lots")
    monkeypatch.setenv("BACKPROP_MAX_MESSAGE", "-5")
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value)
    assert "BACKPROP_MAX_SESSIONS" in message and "BACKPROP_MAX_MESSAGE" in message
    assert "greater than or equal to 100" in message


def test_the_table_sends_a_session_on_only_to_a_less_busy_worker() -> None:
    table = WorkerTable.create(3)
    for k, n in enumerate([4, 3, 4]):
        table.set(k, 100 + k, n, 1000)
    mine = WorkerTable(table.array, slot=0)
    assert mine.should_pass_on(4) and not WorkerTable(table.array, slot=1).should_pass_on(3)
    assert mine.total_sessions() == 11
    table.set(1, 0, 0, 0)  # a dead worker's row does not count
    assert not mine.should_pass_on(4)
