"""The web server's guard against clients that hold connections without finishing a request: a
request, its head (its line and headers) and its body, must arrive whole within PROXX_WEB_HEADER_SECONDS
(10) of the connection opening or of the first byte after a finished response (a body sent a byte at
a time held its connection as long as its client liked, and enough of them locked everyone out), and at most
PROXX_WEB_MAX_CONNECTIONS (100) connections are open at once (one more is closed at once, without
reading it). uvicorn has neither: its keep-alive timeout stops at the first byte, so a client sending
a header line every few seconds held its connection, and enough of them locked everyone out."""

from __future__ import annotations

import asyncio
import os

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_HEADER_SECONDS = 10.0
DEFAULT_MAX_CONNECTIONS = 100


class GuardedH11(H11Protocol):
    header_seconds = DEFAULT_HEADER_SECONDS
    max_connections = DEFAULT_MAX_CONNECTIONS
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.close()  # connection_lost forgets it
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._receiving() and not self.transport.is_closing():
            self._arm()  # a request is still coming: its clock runs from its first byte
        else:
            self._disarm()

    def _receiving(self) -> bool:
        """Whether the client is still sending a request: its head, or its body."""
        return self.conn.their_state in (h11.IDLE, h11.SEND_BODY)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.header_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self._receiving() and not self.transport.is_closing():
            self.transport.close()


def guarded(header_seconds: float | None = None, max_connections: int | None = None) -> type[GuardedH11]:
    """The protocol class for one server, its limits given or from the environment."""
    seconds = header_seconds or float(os.environ.get("PROXX_WEB_HEADER_SECONDS", DEFAULT_HEADER_SECONDS))
    most = max_connections or int(os.environ.get("PROXX_WEB_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS))
    return type("GuardedH11", (GuardedH11,), {"header_seconds": seconds, "max_connections": most})
