"""The access log: uvicorn's lines, formatted directly and written in batches.

uvicorn logs each request through Python's `logging` (a record, a formatter that copies it, a
handler lock, one write per line), which cost more than answering a polled feed. `AccessLog` stands
in for uvicorn's `uvicorn.access` logger, so both the fast path and uvicorn's own request cycles call
it: each line is the text uvicorn's `AccessFormatter` would make (tests/server/test_access_log.py
compares them), kept in memory and written when 64 KiB have gathered, at most a second after the
first line waiting (as nginx's `access_log ... buffer=64k flush=1s`), and when the server stops.

It writes to standard output, as uvicorn does, or appends to a file (`--access-log FILE`), opened
again after SIGHUP so that logrotate can move it away: the handler only marks the file, which is
reopened by the next write, on the event loop, never in the middle of one.
"""

from __future__ import annotations

import asyncio
import http
import os
import select
import sys
from pathlib import Path
from typing import Any

import click

FLUSH_BYTES = 64 * 1024
FLUSH_SECONDS = 1.0

_PHRASES = {status.value: status.phrase for status in http.HTTPStatus}
_STATUS_COLOURS = {1: "bright_white", 2: "green", 3: "yellow", 4: "red", 5: "bright_red"}


class AccessLog:
    """A drop-in for the `logging.Logger` uvicorn's protocols log requests to (`info`, `hasHandlers`)."""

    def __init__(self, path: Path | None = None, *, flush_bytes: int = FLUSH_BYTES,
                 flush_seconds: float = FLUSH_SECONDS, colours: bool | None = None) -> None:
        self.path = path
        self.flush_bytes = flush_bytes
        self.flush_seconds = flush_seconds
        self._fd = self._open() if path is not None else sys.stdout.fileno()
        # As uvicorn's formatter decides: colours when the log goes to a terminal.
        self.colours = os.isatty(self._fd) if colours is None else colours
        self._lines: list[str] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None
        self._reopen = False
        self.lost = 0  # bytes that could not be written (a full disk, a closed pipe): counted, never raised

    def _open(self) -> int:
        assert self.path is not None
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    # -- what uvicorn calls -------------------------------------------------------------------

    def hasHandlers(self) -> bool:  # logging.Logger's name: uvicorn asks it
        return True

    def info(self, message: str, *args: Any, **_: Any) -> None:
        """One request: uvicorn passes (client, method, path with query, HTTP version, status)."""
        client, method, path, version, status = args
        status = int(status)
        shown = f"{status} {_PHRASES.get(status, '')}"
        request = f"{method} {path} HTTP/{version}"
        if self.colours:
            colour = _STATUS_COLOURS.get(status // 100)
            line = (f'{click.style("INFO", fg="green")}:     {client} - "{click.style(request, bold=True)}" '
                    f"{click.style(shown, fg=colour) if colour else shown}\n")
        else:
            line = f'INFO:     {client} - "{request}" {shown}\n'
        self._lines.append(line)
        self._size += len(line)
        if self._size >= self.flush_bytes:
            self.flush()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self.flush_seconds, self.flush)
            except RuntimeError:  # no loop (a test, or logging from another thread): write now
                self.flush()

    # -- writing ------------------------------------------------------------------------------

    def reopen_soon(self) -> None:
        """For SIGHUP: the file is opened again (by its name) before the next write."""
        self._reopen = True

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._reopen and self.path is not None:
            self._reopen = False
            try:
                fd = self._open()
            except OSError:
                pass  # keep writing where we were: better than losing the lines
            else:
                os.close(self._fd)
                self._fd = fd
        if not self._lines:
            return
        data = memoryview("".join(self._lines).encode("utf-8", "backslashreplace"))
        self._lines.clear()
        self._size = 0
        while data:
            try:
                written = os.write(self._fd, data)
            except BlockingIOError:  # a non-blocking stdout that is full: wait for it to drain
                select.select([], [self._fd], [], 1.0)
                continue
            except OSError:
                self.lost += len(data)
                return
            data = data[written:]

    def close(self) -> None:
        """Write what is left (the server is stopping) and close the file."""
        self.flush()
        if self.path is not None:
            os.close(self._fd)
