"""The Starlette app: answers every path of the published site from memory, plus `/healthz`.

No feed logic lives here: bodies, ETags and dates come prepared from `published.py`, and the
request only picks a representation and decides between 200 and 304. Nothing a request sends
(Host, forwarded headers) can change a body: URLs come from the settings. A subscription
document's query string is its filters (`filtered.py`): a filtered feed, or a 400 saying what is
wrong; a query with no known parameter changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from feedpub.catalog.query import QueryError
from feedpub.render import formats
from feedpub.render.fragments import FragmentMissing
from feedpub.render.headers import UnknownPathError, media_type_for
from feedpub.render.pages import render_not_found
from feedpub.render.websub import HUB_PATH

from .filtered import PLAIN, Plain
from .http import accepts_gzip, is_not_modified
from .live.live_site import LiveSite
from .published import LazyResource, Resource

if TYPE_CHECKING:
    from .websub.service import WebSub

log = logging.getLogger("feedpub")

# An encoded slash, backslash or NUL names no file of the site, whatever it decodes to.
_ENCODED = re.compile(rb"%(?:2f|5c|00)", re.IGNORECASE)
READY_TIMEOUT_S = 10.0


class Prepared(Response):
    """A response whose headers were prepared ahead of the request."""

    def __init__(self, status_code: int, body: bytes, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = raw_headers


def create_app(live: LiveSite, *, watch: bool = True, websub: WebSub | None = None) -> FeedFiles:
    if websub is None and live.settings.websub.enabled:  # WebSub (server/websub): hub and pings
        from .websub.service import WebSub  # httpx loads only when WebSub is on

        websub = WebSub.for_site(live.settings, live.cache_dir, live.root)
    if websub is not None:
        live.on_published = websub.announce
        websub.announce(live.published)  # what the start published, announced once the loop runs
    not_found_body = render_not_found(live.settings)  # the export's 404.html
    not_found_headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"x-content-type-options", b"nosniff"),
        (b"content-length", str(len(not_found_body)).encode("latin-1")),
    ]

    async def not_found(request: Request) -> Response:
        # Every published path was answered by `FeedFiles` before Starlette saw the request.
        return Prepared(404, b"" if request.method == "HEAD" else not_found_body, list(not_found_headers))

    async def healthz(request: Request) -> Response:
        summary = live.summary
        last = live.last
        failure = live.failure
        document: dict[str, object] = {
            "status": "degraded" if live.held or failure else "ok",
            "watching": live.ready.is_set() if watch else False,
            "articles": summary.published if summary else 0,
            "feeds": summary.feeds if summary else 0,
            "files": summary.files if summary else 0,
            "scheduled": summary.scheduled if summary else 0,
            "drafts": summary.drafts if summary else 0,
            "rebuilds": live.rebuilds,
            "bad": len(summary.bad) if summary else 0,
            "last_rebuild": {"at": last.at.isoformat(timespec="milliseconds"), "seconds": round(last.seconds, 4),
                             "files": last.files, "feeds": last.feeds} if last else None,
        }
        if failure is not None:  # until a rebuild succeeds: the last good site is what is served
            document["error"] = {"kind": failure.kind, "message": failure.message,
                                 "at": failure.at.isoformat(timespec="milliseconds")}
        filters = live.published.filters
        answers, held = live.filtered.size
        document["filters"] = {  # what query filters hold: every article's record, the cached answers
            "records": {"articles": sum(len(block.entries) for block in filters.blocks) if filters else 0,
                        "bytes": sum(block.size for block in filters.blocks) if filters else 0},
            "cache": {"answers": answers, "bytes": held},
        }
        # Names of files (a draft's among them) and of WebSub subscribers are for the operator only.
        if live.settings.health_details or operator(request):
            document["bad_files"] = [{"file": path, "reason": reason} for path, reason in summary.bad] if summary else []
            if websub is not None:
                document["websub"] = websub.status()
        return Response(json.dumps(document, indent=2), media_type="application/json",
                        headers={"cache-control": "no-store", "x-content-type-options": "nosniff"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if websub is not None:
            await websub.start()
        tasks = [asyncio.create_task(live.watch()), asyncio.create_task(live.schedule())] if watch else []
        if watch:  # answer only once changes are seen, so a write after the first answer is never missed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(live.ready.wait(), READY_TIMEOUT_S)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if watch:  # what is served now, for a quick next start (see Persistence.save_on_exit)
                try:
                    await asyncio.to_thread(live.save_on_exit)
                except Exception:
                    log.exception("could not save the state for the next start")
            if websub is not None:
                await websub.stop()

    routes = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        *([Route("/" + HUB_PATH, websub.hub.endpoint, methods=["POST"])]  # WebSub: the built-in hub
          if websub is not None and websub.hub is not None else []),
        Route("/{path:path}", not_found, methods=["GET", "HEAD"]),
    ]
    return FeedFiles(Starlette(routes=routes, lifespan=lifespan), live)


class FeedFiles:
    """The hot path as bare ASGI: a GET or HEAD of a published path is answered from prepared
    headers and bodies without building a Request or walking the router; everything else
    (`/healthz`, 404, 405, lifespan) goes to the Starlette app behind it.
    """

    def __init__(self, app: Starlette, live: LiveSite) -> None:
        self.app = app
        self.live = live
        self._gzip: dict[bytes, bool] = {}  # Accept-Encoding value → gzip acceptable; clients repeat theirs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            published = self.live.published  # one read: the old state or the new one
            resource = published.get(scope["path"])
            raw_path = scope.get("raw_path") or b""
            if resource is not None and not (b"%" in raw_path and _ENCODED.search(raw_path)):
                head = scope["method"] == "HEAD"
                query = scope.get("query_string") or b""
                if query and isinstance(resource, Resource):
                    filtered = self.live.filtered
                    answer: Resource | Plain | QueryError | None = filtered.cached(published, scope["path"], query)
                    if answer is None:  # made in a worker thread: a query over every article takes a while
                        try:
                            answer = await filtered.answer_async(published, scope["path"], query)
                        except FragmentMissing:  # the state was replaced while this request read the old one
                            await send({"type": "http.response.start", "status": 503, "headers": [
                                (b"retry-after", b"1"), (b"cache-control", b"no-store"), (b"content-length", b"0")]})
                            await send({"type": "http.response.body", "body": b""})
                            return
                    if isinstance(answer, QueryError):
                        await _bad_request(send, str(answer), head)
                        return
                    if answer is not PLAIN:
                        assert isinstance(answer, Resource)
                        resource = answer
                if isinstance(resource, LazyResource):
                    status, headers, body = await self.respond_lazily(resource, head, scope["headers"])
                else:
                    status, headers, body = self.respond(resource, head, scope["headers"])
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        if scope["type"] == "http" and scope["method"] == "OPTIONS" and _preflight(self.live, scope):
            # A browser's CORS preflight, before a web-based reader polls with If-None-Match.
            await send({"type": "http.response.start", "status": 204, "headers": _PREFLIGHT})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)

    async def respond_lazily(self, resource: LazyResource, head: bool, headers: list[tuple[bytes, bytes]]
                             ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """`respond` for an archive document: a 304 straight away, a 200 once it is put together (off
        the event loop: it reads stored fragments)."""
        status, compressed = self.decide(resource, headers)
        if status == 304:
            return 304, resource.not_modified(compressed), b""
        try:
            made = await asyncio.to_thread(resource.materialize)
        except FragmentMissing:  # the site was replaced while this request held the old one
            return 503, [(b"retry-after", b"1"), (b"cache-control", b"no-store"), (b"content-length", b"0")], b""
        return self.respond(made, head, headers)

    def respond(self, resource: Resource, head: bool, headers: list[tuple[bytes, bytes]]
                ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Status, headers and body for a GET (or HEAD) of a published resource with these request headers."""
        status, compressed = self.decide(resource, headers)
        body = b"" if head or status == 304 else resource.body(compressed)
        return status, resource.response_headers(status, compressed), body

    def decide(self, resource: Resource | LazyResource, headers: list[tuple[bytes, bytes]]) -> tuple[int, bool]:
        """200 or 304, and whether gzip, for a GET or HEAD with these request headers. Plain and
        synchronous: the HTTP protocol also calls it directly (see fast_path.py)."""
        if_none_match = if_modified_since = accept_encoding = None
        for name, value in headers:
            if name == b"accept-encoding":
                accept_encoding = value
            elif name == b"if-none-match":
                if_none_match = value
            elif name == b"if-modified-since":
                if_modified_since = value
        compressed = False
        if resource.gzip_etag is not None and accept_encoding is not None:
            known = self._gzip.get(accept_encoding)
            if known is None:
                known = accepts_gzip(accept_encoding.decode("latin-1"))
                if len(self._gzip) < 256:
                    self._gzip[accept_encoding] = known
            compressed = known
        # A feed reader revalidates with the one ETag it was given: a set lookup, not a parse.
        if (if_none_match is not None and if_none_match in resource.tags) or (
                (if_none_match is not None or if_modified_since is not None) and is_not_modified(
                    _conditions(if_none_match, if_modified_since), resource.etags, resource.output.last_modified)):
            return 304, compressed
        return 200, compressed


_FORWARDED = ("x-forwarded-for", "forwarded", "x-real-ip")
_PREFLIGHT = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
    (b"access-control-allow-headers", b"If-None-Match, If-Modified-Since"),
    (b"access-control-max-age", b"86400"),
    (b"cache-control", b"public, max-age=86400"),
]


def _preflight(live: LiveSite, scope: Scope) -> bool:
    """A CORS preflight (it names the method it asks for) of a published path that carries CORS
    (every one but the HTML page: `headers_for`); any other OPTIONS gets 405 as before."""
    path = scope["path"]
    if live.published.get(path) is None or not any(name == b"access-control-request-method"
                                                    for name, _ in scope["headers"]):
        return False
    try:
        return media_type_for(path) != formats.HTML
    except UnknownPathError:
        return False


def operator(request: Request) -> bool:
    """A request from this machine that no proxy passed on: the README's proxy config makes every
    request come from loopback, with X-Forwarded-For naming the stranger behind it."""
    client = request.client
    try:
        address = ipaddress.ip_address(client.host if client else "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback and not any(name in request.headers for name in _FORWARDED)


async def _bad_request(send: Send, reason: str, head: bool) -> None:
    """A 400 with its one-line reason, readable by web apps on other origins like the feeds."""
    body = (reason + "\n").encode("utf-8")
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store"),
               (b"x-content-type-options", b"nosniff"), (b"access-control-allow-origin", b"*"),
               (b"content-length", str(len(body)).encode("latin-1"))]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def _conditions(if_none_match: bytes | None, if_modified_since: bytes | None) -> dict[str, str]:
    conditions = {}
    if if_none_match is not None:
        conditions["if-none-match"] = if_none_match.decode("latin-1")
    if if_modified_since is not None:
        conditions["if-modified-since"] = if_modified_since.decode("latin-1")
    return conditions
