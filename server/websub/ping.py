"""The live server's publish pings to outside hubs, beside serving (the client is `feedpub.pings`).

One sender per hub; topics that change again before they are sent are coalesced; each batch is
retried with backoff by `feedpub.pings.ping_with_retries`, and a failure is logged and kept in
`status()` for `/healthz`, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from feedpub.pings import BATCH, DEADLINE_S, RETRY_DELAYS_S, batches, ping_client, ping_with_retries

log = logging.getLogger("feedpub.websub")


@dataclass
class HubStatus:
    url: str
    pending: set[str] = field(default_factory=set)  # topics to ping, coalesced
    pinged: int = 0  # topics the hub accepted
    failed: int = 0  # topics given up after the retries
    last_ok_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def as_dict(self) -> dict[str, object]:
        return {"url": self.url, "pending": len(self.pending), "pinged": self.pinged, "failed": self.failed,
                "last_ok": _iso(self.last_ok_at), "last_error": self.last_error,
                "last_error_at": _iso(self.last_error_at)}


class Pinger:
    """Pings outside hubs from the live server (see the module docstring)."""

    def __init__(self, hubs: Iterable[str], *, batch: int = BATCH, retry_delays: tuple[float, ...] = RETRY_DELAYS_S,
                 deadline: float = DEADLINE_S) -> None:
        self.hubs = {hub: HubStatus(hub) for hub in hubs}
        self.batch = batch
        self.retry_delays = retry_delays
        self.deadline = deadline
        self._client: httpx.AsyncClient | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def ping(self, topics: Iterable[str]) -> None:
        """Ping every hub for these topics, soon (on the event loop's thread)."""
        topics = set(topics)
        if not topics:
            return
        for status in self.hubs.values():
            status.pending |= topics
            status.wake.set()

    def status(self) -> list[dict[str, object]]:
        return [status.as_dict() for status in self.hubs.values()]

    def start(self) -> None:
        self._client = ping_client()
        self._tasks = [asyncio.create_task(self._sender(status, self._client), name=f"websub-ping-{status.url}")
                       for status in self.hubs.values()]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _sender(self, status: HubStatus, client: httpx.AsyncClient) -> None:
        while True:
            await status.wake.wait()
            status.wake.clear()
            while status.pending:
                topics = batches(status.pending, self.batch)[0]
                status.pending.difference_update(topics)
                error = await ping_with_retries(client, status.url, topics, retry_delays=self.retry_delays,
                                                deadline=self.deadline)
                if error is None:
                    status.pinged += len(topics)
                    status.last_ok_at = time.time()
                else:
                    status.failed += len(topics)
                    status.last_error, status.last_error_at = error, time.time()
                    log.warning("WebSub ping of %d topics given up: %s", len(topics), error)


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
