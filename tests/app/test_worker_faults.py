"""Faults among the worker processes, on a real server on 127.0.0.1: a worker killed while
it holds the shared table's lock, a worker that hangs, and a storm of kills while learners
come and go (the long storm: STORM_KILLS=60, `make storm-long`)."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import multiprocessing as mp
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import websockets

from app.config import Settings
from app.digits.store import ModelStore
from app.serving.table import WorkerTable
from app.state import AppState
from tests.app.test_workers import (
    CONFIG,
    gone,
    join,
    sessions_per_worker,
    stop,
    worker_pids,
    workers_server,
)


def _hold_the_lock(table: WorkerTable, holding: Any) -> None:
    """A worker process caught inside the table's lock (as in the middle of a decision)."""
    assert table.lock is not None
    table.lock.acquire()
    holding.set()
    time.sleep(120)


def worker_state(table: WorkerTable, slot: int, data: Path, max_sessions: int) -> AppState:
    """One worker's state over the shared table, as a worker process builds it."""
    settings = Settings(data_dir=data, max_sessions=max_sessions)
    return AppState(
        settings,
        anyio.CapacityLimiter(1),
        ModelStore(data),
        table=WorkerTable(table.array, slot, table.lock),
    )


def within(seconds: float, fn: Any) -> list[Any]:
    """``fn()``'s result in a list, or an empty list if it has not returned in ``seconds``."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    thread.join(seconds)
    return out


def test_a_worker_killed_inside_the_table_lock_does_not_stop_the_others(tmp_path: Path) -> None:
    """SIGKILL (or the OOM killer) can end a worker in the middle of its decision: the
    others still open and close sessions, and the capacity still holds."""
    ctx = mp.get_context("spawn")
    table = WorkerTable.create(3, ctx)
    holding = ctx.Event()
    holder = ctx.Process(target=_hold_the_lock, args=(table, holding), daemon=True)
    holder.start()
    try:
        assert holding.wait(60), "the holder never took the lock"
        a = worker_state(table, 1, tmp_path, max_sessions=3)
        b = worker_state(table, 2, tmp_path, max_sessions=3)
        assert a.table is not None and a.table.lock is not None
        assert not a.table.lock.acquire(timeout=0.3)  # it is really held
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(10)
        verdicts = within(10, lambda: [a.open_session(), b.open_session(), a.open_session()])
        assert verdicts == [["ok", "ok", "ok"]]
        assert within(10, b.open_session) == ["busy"]  # 3 of 3: never one over
        assert within(10, a.close_session) == [None]
        assert within(10, b.open_session) == ["ok"]
        assert table.total_sessions() == 3
    finally:
        if holder.is_alive():
            holder.kill()
        if table.lock is not None:
            table.lock.remove()


def test_a_stopped_worker_is_killed_and_replaced_within_its_timeout(tmp_path: Path) -> None:
    """A worker whose event loop stops (here SIGSTOP: a hung process) serves nobody and may
    hold the table's lock: the supervisor kills it once its heartbeat is older than
    BACKPROP_WORKER_TIMEOUT, and a fresh worker takes its place."""
    timeout = 2.0
    server = workers_server(tmp_path, BACKPROP_WORKER_TIMEOUT=str(timeout))
    victim = server.get("/api/stats")["workers"][0]["pid"]
    try:
        os.kill(victim, signal.SIGSTOP)
        stopped = time.monotonic()
        while not gone(victim) and time.monotonic() - stopped < timeout + 10:
            time.sleep(0.05)
        killed_after = time.monotonic() - stopped
        assert gone(victim), "the stopped worker was never killed"
        # the heartbeat is half a second apart, the supervisor looks twice a second
        assert timeout <= killed_after < timeout + 8, killed_after  # generous: a loaded machine
        pids: list[int] = []
        for _ in range(600):
            with contextlib.suppress(OSError):
                pids = [w["pid"] for w in server.get("/api/stats")["workers"]]
            if len(pids) == 2 and victim not in pids:
                break
            time.sleep(0.1)
        assert len(pids) == 2 and victim not in pids
        replaced_after = time.monotonic() - stopped
        print(
            f"stopped worker: killed {killed_after:.1f} s after SIGSTOP (timeout {timeout:g} s), "
            f"its successor serving after {replaced_after:.1f} s"
        )

        async def main() -> list[str]:
            opened = await asyncio.gather(*(join(server, CONFIG) for _ in range(4)))
            for ws, _ in opened:
                await ws.close()
            return [first["type"] for _, first in opened]

        assert asyncio.run(main()) == ["ready"] * 4
        assert "has not answered for" in (tmp_path / "server.log").read_text()
    finally:
        if not gone(victim):
            os.kill(victim, signal.SIGKILL)
        stop(server)


#: Workers SIGKILLed in the kill storm, one every STORM_EVERY seconds (the long run:
#: `make storm-long`).
STORM_KILLS = int(os.environ.get("STORM_KILLS", "10"))
STORM_EVERY = float(os.environ.get("STORM_EVERY", "2"))


def test_a_kill_storm_leaves_the_server_answering(tmp_path: Path) -> None:
    """Workers SIGKILLed at random moments of a connection storm (sessions opening,
    training and closing, plain requests): afterwards every worker is back, /healthz
    answers and new learners train, whatever the kills interrupted."""
    server = workers_server(tmp_path, BACKPROP_MAX_SESSIONS="64", BACKPROP_WORKER_TIMEOUT="5")
    storming = threading.Event()
    storming.set()
    counts = {"ready": 0, "failed": 0, "requests": 0}

    async def learner() -> None:
        while storming.is_set():
            try:
                ws, first = await asyncio.wait_for(join(server, CONFIG, paused=False), 10)
                counts["ready" if first["type"] == "ready" else "failed"] += 1
                await asyncio.sleep(0.2)
                if counts["ready"] % 2:
                    ws.transport.abort()  # a lid closed
                else:
                    await ws.close()
            # a kill cuts the handshake: older websockets raise a bare EOFError for it
            except (TimeoutError, OSError, EOFError, websockets.WebSocketException):
                counts["failed"] += 1
                await asyncio.sleep(0.1)

    async def requests() -> None:
        while storming.is_set():
            with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
                await asyncio.to_thread(server.get, "/healthz")  # cut by a kill, at times
                counts["requests"] += 1
            await asyncio.sleep(0.05)

    async def storm() -> None:
        await asyncio.gather(*(learner() for _ in range(8)), requests())

    churn = threading.Thread(target=lambda: asyncio.run(storm()), daemon=True)
    churn.start()
    killed: list[int] = []
    try:
        started = time.monotonic()
        while len(killed) < STORM_KILLS:
            time.sleep(STORM_EVERY)
            if pids := worker_pids(server):
                killed.append(pids[len(killed) % len(pids)])
                os.kill(killed[-1], signal.SIGKILL)
            assert time.monotonic() - started < STORM_KILLS * STORM_EVERY + 120
        last_kill = time.monotonic()
        storming.clear()
        churn.join(30)
        assert not churn.is_alive()
        healthy = None
        while time.monotonic() - last_kill < 60:
            with contextlib.suppress(OSError):
                pids = [w["pid"] for w in server.get("/api/stats")["workers"]]
                if len(pids) == 2 and not set(pids) & set(killed) and server.get("/healthz"):
                    healthy = time.monotonic() - last_kill  # two fresh workers serve
                    break
            time.sleep(0.1)
        assert healthy is not None, "the server did not come back after the storm"

        async def after() -> tuple[list[str], list[int]]:
            opened = await asyncio.gather(*(join(server, CONFIG) for _ in range(6)))
            spread = sessions_per_worker(server)
            for ws, _ in opened:
                await ws.close()
            return [first["type"] for _, first in opened], spread

        firsts, spread = asyncio.run(after())
        assert firsts == ["ready"] * 6 and spread == [3, 3]
        print(
            f"kill storm: {len(killed)} kills, {counts['ready']} sessions opened and "
            f"{counts['failed']} cut or refused during it, {counts['requests']} requests; "
            f"both workers serving {healthy:.1f} s after the last kill"
        )
        assert counts["ready"] > len(killed)  # learners kept getting in during the storm
    finally:
        storming.clear()
        stop(server)
