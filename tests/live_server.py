"""The real `feedpub serve` in a subprocess, for the tests that meet it as an operator would.

Every wait is bounded, and a server is always stopped (terminate, then kill).
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 20.0
SITE_PATHS = ("/", "/index.html", "/feeds/index.json", "/feeds/index.opml")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


OPEN = re.compile(r"feedpub: open (http://\S+?)/")  # the line `feedpub serve` prints once it has bound


class Server:
    """`feedpub serve` on a free port; with `port=0` it is asked to pick one, and the port is read
    from the URL it prints."""

    def __init__(self, folder: Path, logs: Path, *args: str, quiet: bool = True,
                 headers: dict[str, str] | None = None, port: int | None = None) -> None:
        self.port = free_port() if port is None else port
        self.log_path = logs / f"serve-{self.port or secrets.token_hex(4)}.log"
        command = [sys.executable, "-m", "feedpub", "serve", str(folder), "--port", str(self.port), *args]
        if quiet:
            command.append("--quiet")
        env = dict(os.environ)
        started = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=logs, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}" if self.port else self._printed_base(started)
        self.port = httpx.URL(self.base).port or 80
        self.client = httpx.Client(base_url=self.base, timeout=5.0, headers=headers)
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"feedpub serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if self.client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() - started > STARTUP_TIMEOUT_S:
                raise AssertionError(f"feedpub serve did not answer within {STARTUP_TIMEOUT_S} s:\n{self.log()}")
            time.sleep(0.02)
        self.startup = time.perf_counter() - started

    def _printed_base(self, started: float) -> str:
        while time.perf_counter() - started < STARTUP_TIMEOUT_S:
            found = OPEN.search(self.log())
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                raise AssertionError(f"feedpub serve exited with {self.process.returncode}:\n{self.log()}")
            time.sleep(0.02)
        self.process.kill()
        raise AssertionError(f"feedpub serve printed no URL within {STARTUP_TIMEOUT_S} s:\n{self.log()}")

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def health(self) -> dict[str, Any]:
        return self.client.get("/healthz").json()

    def catalog(self) -> dict[str, Any]:
        return self.client.get("/feeds/index.json").json()

    def paths(self) -> list[str]:
        """Every path the server publishes: the index pages and each feed of the catalog, every format."""
        found = list(SITE_PATHS)
        for entry in self.catalog()["feeds"]:
            found += [httpx.URL(url).raw_path.decode("ascii") for url in entry["urls"].values()]
        return found

    def snapshot(self, paths: list[str]) -> dict[str, tuple[int, bytes]]:
        return {path: (response.status_code, response.content) for path in paths
                for response in [self.get(path)]}

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:  # a graceful stop saves the state and flushes the access log: time for a busy machine
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def servers(tmp_path: Path, **defaults: Any) -> Iterator[Callable[..., Server]]:
    """Body of a `serve` fixture: `serve(folder, *args, **options)` starts one; all stop at the end."""
    started: list[Server] = []
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(folder: Path, *args: str, **options: Any) -> Server:
        server = Server(folder, logs, *args, **{**defaults, **options})
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
