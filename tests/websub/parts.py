"""Real parts for the WebSub tests: a subscriber and a stand-in for an outside hub, each an HTTP
server on 127.0.0.1 in a thread of the test process, recording every request it is sent; and a
small published site whose feeds change on demand.

Every wait is bounded; each server is shut down by the fixture that made it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from feedpub.render.site import make_output
from feedpub.server.published import Published, publish
from feedpub.settings import Settings, WebSubSettings
from tests.helpers import article_text, sample_fields


async def until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Wait for `condition`, polling: a busy machine may take a while, a quiet one returns at once."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.01)

BASE = "https://news.example.com"
ALL = f"{BASE}/feeds/all.rss"
TOPIC = f"{BASE}/feeds/topics/k%C3%BCnstliche-intelligenz.atom"  # a unicode slug, as the feeds link it
PROVIDER = f"{BASE}/feeds/providers/news0.example.com.json"
WHEN = datetime(2026, 1, 15, tzinfo=UTC)
FAST = (0.05, 0.05, 0.05, 0.05, 0.05)  # retry delays for the tests


def feedpub_yaml(folder: Path, **websub: Any) -> Path:
    """A feedpub.yaml in `folder` holding only these `websub:` settings."""
    path = folder / "feedpub.yaml"
    path.write_text(json.dumps({"websub": websub}), encoding="utf-8")  # JSON is YAML
    return path


def write(articles: Path, n: int, **fields: Any) -> float:
    """Write article `n` (provider news{n%3}, topic World, and Science when n is odd); when it was written."""
    (articles / f"{n:03d}.txt").write_text(article_text(**sample_fields(n, **fields)), encoding="utf-8")
    return time.perf_counter()


def site(version: int, *, topic: int = 0, provider: int = 0) -> Published:
    """A published site whose three feeds have the given versions (same version, same bytes)."""
    outputs = {
        "feeds/all.rss": make_output(f"<rss>all v{version}</rss>".encode(), "application/rss+xml", WHEN),
        "feeds/topics/künstliche-intelligenz.atom": make_output(f"<feed>ki v{topic}</feed>".encode(),
                                                               "application/atom+xml", WHEN),
        "feeds/providers/news0.example.com.json": make_output(f'{{"v": {provider}}}'.encode(),
                                                             "application/feed+json", WHEN),
        "index.html": make_output(f"<p>index v{version}</p>".encode(), "text/html", WHEN),
        "feeds/index.json": make_output(f'{{"catalog": {version}}}'.encode(), "application/json", WHEN),
    }
    return publish(outputs, settings=Settings(max_age=60))


def body_of(published: Published, path: str) -> bytes:
    resource = published.get(path)
    assert resource is not None, path
    return resource.output.body


def hub_settings(**websub: Any) -> Settings:
    """The site's settings with the built-in hub on and callbacks on 127.0.0.1 allowed, unless told otherwise."""
    return Settings(base_url=BASE, websub=WebSubSettings(**{"builtin": True, "allow_private_callbacks": True,
                                                            **websub}))


@dataclass
class Received:
    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lowercased names
    body: bytes
    at: float  # time.perf_counter() when the request was read
    status: int = 0  # what it was answered


@dataclass
class Behaviour:
    """How one callback path answers."""
    verify: str = "echo"  # "echo" the challenge, answer a "wrong" one, or "refuse" (404)
    statuses: list[int] = field(default_factory=list)  # delivery answers in turn; then `status`
    status: int = 200
    delay: float = 0.0  # seconds before answering a delivery
    body: bytes = b""  # a delivery's answer body


class Recorder:
    """A threaded HTTP server that records requests; `answer(received)` gives (status, body)."""

    def __init__(self, answer: Callable[[Received], tuple[int, bytes]]) -> None:
        self.received: list[Received] = []
        self._answer = answer
        self._changed = threading.Condition()
        self.in_flight = 0
        self.most_in_flight = 0
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                received = Received(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                                    {k.lower(): v for k, v in self.headers.items()}, body, time.perf_counter())
                with recorder._changed:
                    recorder.in_flight += 1
                    recorder.most_in_flight = max(recorder.most_in_flight, recorder.in_flight)
                try:
                    status, answer = recorder._answer(received)
                    received.status = status
                finally:
                    with recorder._changed:
                        recorder.in_flight -= 1
                        recorder.received.append(received)
                        recorder._changed.notify_all()
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self, method: str | None = None, path: str | None = None) -> list[Received]:
        with self._changed:
            return [r for r in self.received if (method is None or r.method == method)
                    and (path is None or r.path == path)]

    def wait_for(self, count: int, method: str | None = None, path: str | None = None,
                 timeout: float = 20.0) -> list[Received]:
        """Wait until at least `count` such requests arrived (or `timeout`); returns them all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [r for r in self.received if (method is None or r.method == method)
                         and (path is None or r.path == path)]
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    return found
                self._changed.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class Subscriber(Recorder):
    """A WebSub subscriber: answers verifications (GET) and deliveries (POST) per callback path."""

    def __init__(self) -> None:
        self.behaviours: dict[str, Behaviour] = {}
        super().__init__(self._respond)

    def behave(self, path: str, **how: Any) -> str:
        """Set how `path` answers; returns its callback URL."""
        self.behaviours[path] = Behaviour(**how)
        return self.url(path)

    def verifications(self, path: str | None = None) -> list[Received]:
        return self.requests("GET", path)

    def deliveries(self, path: str | None = None) -> list[Received]:
        return self.requests("POST", path)

    def _respond(self, received: Received) -> tuple[int, bytes]:
        how = self.behaviours.get(received.path, Behaviour())
        if received.method == "GET":
            challenge = received.query.get("hub.challenge", [""])[0]
            if how.verify == "refuse":
                return 404, b""
            return 200, (challenge if how.verify == "echo" else "not-" + challenge).encode()
        if how.delay:
            time.sleep(how.delay)
        status = how.statuses.pop(0) if how.statuses else how.status
        return status, how.body


class HubStandIn(Recorder):
    """An outside hub as far as pings go: records each `hub.mode=publish` and answers `statuses` in
    turn, then 204."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        super().__init__(lambda received: (self.statuses.pop(0) if self.statuses else 204, b""))

    def pinged_topics(self) -> list[str]:
        """Every topic named by the pings that were accepted (2xx), in order."""
        topics: list[str] = []
        for request in self.requests("POST"):
            if not 200 <= request.status < 300:
                continue
            form = parse_qs(request.body.decode("ascii"))
            assert form["hub.mode"] == ["publish"], form
            assert form["hub.url"] == form["hub.topic"], form
            topics += form["hub.url"]
        return topics


def running(make: Callable[[], Recorder]) -> Iterator[Any]:
    """Body of a fixture: a started server, closed after the test."""
    server = make()
    try:
        yield server
    finally:
        server.close()
