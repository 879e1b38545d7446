"""Every core: worker processes behind one supervisor that places each connection,
balanced sessions, one capacity, graceful shutdown and a replaced worker, on a real server
on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from app.config import Settings, default_workers, load_settings
from app.serving.table import WorkerTable, least_busy
from tests.app.test_reliability import Server, start_server, until

CONFIG = {"dataset": "circle", "hidden_layers": [4, 2], "grid": 20}


async def join(server: Server, config: dict[str, Any], paused: bool = True, query: str = "") -> Any:
    """Open a session as any plain client does: one connection, no retry.  The server
    answers on it (it is never closed with "rebalance", as it once was)."""
    # a minute to open: a worker that was just started may still be importing
    ws = await websockets.connect(server.ws + "/ws/train" + query, open_timeout=60)
    await ws.send(json.dumps({"type": "start", "paused": paused, "config": config}))
    first = json.loads(await ws.recv())  # a close here would raise ConnectionClosed
    return ws, first


def workers_server(tmp_path: Path, **env: str) -> Server:
    """A server with two worker processes, once both have registered in the table."""
    server = start_server(tmp_path, BACKPROP_WORKERS="2", **env)
    try:
        for _ in range(1200):
            if len(server.get("/api/stats")["workers"]) == 2:
                return server
            time.sleep(0.05)
        raise AssertionError(f"the workers never registered: {server.get('/api/stats')}")
    except BaseException:
        stop(server)
        raise


def stop(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(15)


@pytest.fixture()
def two(tmp_path: Path) -> Iterator[Server]:
    server = workers_server(tmp_path, BACKPROP_MAX_SESSIONS="12")
    yield server
    stop(server)


def sessions_per_worker(server: Server) -> list[int]:
    return sorted(w["sessions"] for w in server.get("/api/stats")["workers"])


def test_30_plain_clients_all_train_on_their_first_connection_15_per_worker(
    tmp_path: Path,
) -> None:
    server = workers_server(tmp_path, BACKPROP_MAX_SESSIONS="32")

    async def main() -> tuple[list[str], list[int]]:
        opened = await asyncio.gather(*(join(server, CONFIG) for _ in range(30)))
        counts = sessions_per_worker(server)
        for ws, _ in opened:
            await ws.close()
        return [first["type"] for _, first in opened], counts

    try:
        firsts, counts = asyncio.run(main())
        page = urllib.request.urlopen(server.url + "/", timeout=5)
        html = page.read().decode()
    finally:
        stop(server)
    assert firsts == ["ready"] * 30
    assert counts == [15, 15]  # exactly even, where the kernel alone splits unevenly
    assert page.status == 200 and "<html" in html.lower()  # HTTP is placed too


def test_connections_that_are_not_sessions_stop_counting_once_settled(two: Server) -> None:
    """Probes, requests and refusals are load only until the table shows what they were,
    even a kept-alive HTTP connection: afterwards 10 sessions split exactly 5/5."""
    port = int(two.url.rsplit(":", 1)[1])

    async def main() -> list[int]:
        for _ in range(3):  # a TCP probe: connects and leaves without a request
            with socket.create_connection(("127.0.0.1", port)):
                pass
        for _ in range(5):  # plain HTTP requests, each on its own connection
            assert two.get("/healthz")
        refused = await websockets.connect(two.ws + "/ws/train", origin="http://evil.example")
        with pytest.raises(websockets.ConnectionClosed) as closed:  # a refused origin
            await refused.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        await asyncio.sleep(1.5)  # the workers' sweep notices the closed probes
        first = await join(two, CONFIG, query="?try=3")  # old pages' ?try=N is ignored
        assert first[1]["type"] == "ready"
        # Now one worker holds a session and the other nothing: a kept-alive connection
        # goes to the other, and its request settles it there.  Were it still counted,
        # the nine sessions below would split 5/4 onto loads of 1 and 1: 6/4 in all.
        kept = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        kept.request("GET", "/healthz")
        assert kept.getresponse().read()
        opened = [first, *await asyncio.gather(*(join(two, CONFIG) for _ in range(9)))]
        counts = sessions_per_worker(two)
        kept.close()
        for ws, _ in opened:
            await ws.close()
        return counts

    assert asyncio.run(main()) == [5, 5]


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
    assert counts == [5, 5], stats  # each placed on the least busy worker
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
        await ws.send(json.dumps({"type": "start", "config": CONFIG}))
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


async def last_status(ws: Any) -> str:
    """The state of the last status a session sent before its socket closed."""
    state = ""
    try:
        async for msg in ws:
            if isinstance(msg, str) and json.loads(msg)["type"] == "status":
                state = json.loads(msg)["state"]
    except websockets.ConnectionClosed:
        pass
    return state


def test_sigterm_gives_every_session_on_every_worker_its_last_status(two: Server) -> None:
    async def main() -> list[str]:
        opened = await asyncio.gather(*(join(two, CONFIG, paused=False) for _ in range(6)))
        await asyncio.sleep(0.5)
        two.proc.send_signal(signal.SIGTERM)
        states = list(await asyncio.gather(*(last_status(ws) for ws, _ in opened)))
        for ws, _ in opened:
            await ws.close()
        return states

    assert asyncio.run(main()) == ["stopped"] * 6
    assert two.proc.wait(15) == 0


def test_workers_whose_supervisor_was_killed_stop_as_on_sigterm(two: Server) -> None:
    pids = [w["pid"] for w in two.get("/api/stats")["workers"]]

    async def main() -> list[str]:
        opened = await asyncio.gather(*(join(two, CONFIG, paused=False) for _ in range(4)))
        two.proc.kill()  # no signal reaches the workers: their channel ends
        ending = asyncio.gather(*(last_status(ws) for ws, _ in opened))
        states = list(await asyncio.wait_for(ending, 30))
        for ws, _ in opened:
            await ws.close()
        return states

    try:
        assert asyncio.run(main()) == ["stopped"] * 4
        for _ in range(150):
            if all(gone(pid) for pid in pids):
                break
            time.sleep(0.1)
        assert all(gone(pid) for pid in pids)  # no orphan keeps serving
    finally:
        for pid in pids:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


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


def test_the_least_busy_worker_counts_what_is_in_flight_and_ties_go_round_robin() -> None:
    table = WorkerTable.create(3)
    for k, (sessions, settled) in enumerate([(4, 6), (3, 2), (4, 9)]):
        table.set(k, 100 + k, sessions, 1000, settled)
    handed = [6, 4, 9]  # worker 1 has two connections in flight: its load is 5, not 3
    loads = table.loads(handed)
    assert loads == {0: 4, 1: 5, 2: 4} and table.total_sessions() == 11
    assert least_busy(loads, last=0, workers=3) == 2  # a tie: the next one after 0
    assert least_busy(loads, last=2, workers=3) == 0
    table.set(2, 0, 0, 0)  # a dead worker's row does not count
    assert table.loads(handed) == {0: 4, 1: 5}
    assert least_busy(table.loads(handed), last=0, workers=3) == 0
    assert least_busy({}, last=0, workers=3) is None
    if table.lock is not None:
        table.lock.remove()


def worker_pids(server: Server) -> list[int]:
    """The supervisor's worker processes, read from /proc (no request needed)."""
    pid = server.proc.pid
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    pids = []
    for child in map(int, children):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                pids.append(child)
    return pids


def rss_mb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def test_stats_show_each_workers_memory_as_it_is_now(two: Server) -> None:
    """/api/stats reads each worker's row: the row's memory is refreshed by the heartbeat,
    not only when a session opens or closes, so memory a run takes afterwards shows."""

    def reported() -> dict[int, float]:
        return {w["pid"]: w["rss_mb"] for w in two.get("/api/stats")["workers"]}

    async def main() -> tuple[float, float, float]:
        ws = await websockets.connect(two.ws + "/ws/mnist")
        # about 1.8 M weights with Adam's two moments and the gradients: some 40 MB the run
        # takes after it opened, whatever the worker held before (the MNIST data, say)
        config = {"hidden_layers": [1024, 1024], "epochs": 100, "batch_size": 100}
        await ws.send(json.dumps({"type": "start", "config": config}))
        await until(ws, "ready")
        pid = next(w["pid"] for w in two.get("/api/stats")["workers"] if w["sessions"])
        await until(ws, "progress")
        await asyncio.sleep(1.5)  # three heartbeats
        real = rss_mb(pid)
        shown = reported()[pid]
        await ws.close()
        return before[pid], shown, real

    before = reported()
    was, shown, real = asyncio.run(main())
    assert abs(real - was) > 20  # memory moved since the session opened: a stale row shows
    assert abs(shown - real) < abs(real - was) / 2, (was, shown, real)  # nearer now than then
