"""Publishing scheduled articles when their time comes: the clock's side of the rebuilder."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from .rebuilder import Rebuilder

MAX_SLEEP_S = 60.0  # the clock is read again at least this often (clock changes, suspend)


class Scheduler:
    def __init__(self, rebuilder: Rebuilder) -> None:
        self.rebuilder = rebuilder

    async def run(self) -> None:
        """Publish scheduled articles when their time comes (woken early by every rebuild)."""
        rebuilder = self.rebuilder
        while True:
            due = rebuilder.next_due
            rebuilder.finished.clear()
            wait = MAX_SLEEP_S if due is None else (due - datetime.now(UTC)).total_seconds() + 0.005
            if wait > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(rebuilder.finished.wait(), min(wait, MAX_SLEEP_S))
            due = rebuilder.next_due
            if due is not None and due <= datetime.now(UTC):
                await rebuilder.run(rebuilder.advance)
                if rebuilder.next_due == due:  # not published (a failed rebuild): don't spin
                    await asyncio.sleep(1.0)
