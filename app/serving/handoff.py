"""A worker's end of the supervisor's channel: connections arrive as file descriptors.

The supervisor accepts every connection and sends its socket over a Unix socketpair
(``SCM_RIGHTS``, :func:`socket.send_fds`).  :class:`Handoff` receives each one and attaches it
to this process's uvicorn server with :meth:`asyncio.loop.connect_accepted_socket`, through
the same protocol factory uvicorn's ``create_server`` uses, so the connection is served,
counted and drained at shutdown as if this process had accepted it.

Each connection carries a :class:`~app.serving.table.Placed` record in its scope's state
until it is settled (:mod:`app.serving.table`): :class:`SettleRequests` settles a plain
HTTP request at once and a WebSocket when its handler returns (a session is settled by
:meth:`~app.state.AppState.open_session`, with its verdict); a connection that closes
without a request is noticed by a sweep twice a second.

The same event loop writes the worker's heartbeat (:meth:`~app.state.AppState.beat`) every
:data:`~app.serving.table.HEARTBEAT_SECONDS`, even while it drains: a loop that stops
turning shows in the table, and the supervisor replaces the worker.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from app.serving.table import HEARTBEAT_SECONDS, Placed, placed_in
from app.state import AppState

#: Received sockets are not inherited by anything this process might start.
RECV_FLAGS = getattr(socket, "MSG_CMSG_CLOEXEC", 0)
SWEEP_SECONDS = 0.5


class Handoff:
    """Receives the supervisor's connections on ``channel`` and serves each with a
    protocol from ``create_protocol(placed)``; ``gone`` is called if the supervisor is."""

    def __init__(
        self,
        channel: socket.socket,
        create_protocol: Callable[[Placed], asyncio.Protocol],
        state: AppState,
        gone: Callable[[], None],
    ) -> None:
        self.channel = channel
        self.create_protocol = create_protocol
        self.state = state
        self.gone = gone
        self.pending: set[Placed] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.sweeper: asyncio.TimerHandle | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.channel.setblocking(False)
        loop.add_reader(self.channel.fileno(), self._receive)
        self.sweeper = loop.call_later(SWEEP_SECONDS, self._sweep)
        self._beat(loop)

    def _beat(self, loop: asyncio.AbstractEventLoop) -> None:
        self.state.beat()
        loop.call_later(HEARTBEAT_SECONDS, self._beat, loop)

    def close(self) -> None:
        """Take no more connections (the first step of shutdown, as closing a listener)."""
        if self.loop is None:
            return
        self.loop.remove_reader(self.channel.fileno())
        if self.sweeper is not None:
            self.sweeper.cancel()
        self.channel.close()
        self.loop = None

    def _receive(self) -> None:
        while self.loop is not None:
            try:
                message, fds, _, _ = socket.recv_fds(self.channel, 1, 1, RECV_FLAGS)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message, fds = b"", []
            if not message and not fds:  # the supervisor has gone: finish what we serve
                self.close()
                self.gone()
                return
            for fd in fds:
                self._attach(socket.socket(fileno=fd))

    def _attach(self, sock: socket.socket) -> None:
        assert self.loop is not None
        sock.setblocking(False)
        placed = Placed()
        self.pending.add(placed)
        task = self.loop.create_task(self._connect(sock, placed))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _connect(self, sock: socket.socket, placed: Placed) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.connect_accepted_socket(
                lambda: self.create_protocol(placed), sock
            )
        except BaseException as exc:
            sock.close()
            self.state.settle(placed)  # never load here
            if isinstance(exc, OSError):  # the client left before we could attach it
                return
            raise
        if not placed.settled:
            placed.transport = transport

    def _sweep(self) -> None:
        """Settle the connections that closed without a request (probes, aborted
        handshakes): they are no longer load."""
        for placed in list(self.pending):
            transport = placed.transport
            if not placed.settled and transport is not None and transport.is_closing():
                self.state.settle(placed)
            if placed.settled:
                self.pending.discard(placed)
        if self.loop is not None:
            self.sweeper = self.loop.call_later(SWEEP_SECONDS, self._sweep)


class SettleRequests:
    """ASGI middleware of a worker: a plain HTTP request settles its connection when it
    begins (it is not a session); a WebSocket's settles when its handler returns, if the
    session did not settle it first (a refused origin, a failed handshake)."""

    def __init__(self, app: Any, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        placed = placed_in(scope) if scope["type"] in ("http", "websocket") else None
        if placed is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            self.state.settle(placed)
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.state.settle(placed)
