"""The Starlette app: answers every path of the published site from memory, plus `/healthz`.

No feed logic lives here: bodies, ETags and dates come prepared from `published.py`, and the
request only picks a representation and decides between 200 and 304. Nothing a request sends
(Host, forwarded headers, query string) can change a body: URLs come from the settings.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from html import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .http import accepts_gzip, is_not_modified
from .live import LiveSite


class Prepared(Response):
    """A response whose headers were prepared ahead of the request."""

    def __init__(self, status_code: int, body: bytes, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = raw_headers


def create_app(live: LiveSite, *, watch: bool = True) -> Starlette:
    not_found = _not_found_page(live.settings.url("/"))

    async def serve_file(request: Request) -> Response:
        resource = live.published.get(request.scope["path"])  # one read: the old state or the new one
        if resource is None:
            return Response(not_found, 404, media_type="text/html; charset=utf-8",
                            headers={"cache-control": "no-cache", "x-content-type-options": "nosniff"})
        headers = request.headers
        compressed = resource.gzip_body is not None and accepts_gzip(headers.get("accept-encoding"))
        etag = resource.gzip_etag if compressed else resource.etag
        raw = [*resource.headers, (b"etag", etag.encode("latin-1"))]  # type: ignore[union-attr]
        if is_not_modified(headers, resource.etags, resource.output.last_modified):
            return Prepared(304, b"", raw)
        body = resource.gzip_body if compressed else resource.output.body
        assert body is not None
        if compressed:
            raw.append((b"content-encoding", b"gzip"))
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
        return Prepared(200, b"" if request.method == "HEAD" else body, raw)

    async def healthz(request: Request) -> Response:
        summary = live.build.summary()
        last = live.last
        document = {
            "status": "degraded" if live.held else "ok",
            "articles": summary.published,
            "feeds": summary.feeds,
            "scheduled": summary.scheduled,
            "drafts": summary.drafts,
            "last_rebuild": {"at": last.at.isoformat(timespec="milliseconds"), "seconds": round(last.seconds, 4),
                             "files": last.files, "feeds": last.feeds} if last else None,
            "bad_files": [{"file": path, "reason": reason} for path, reason in summary.bad],
        }
        return Response(json.dumps(document, indent=2), media_type="application/json",
                        headers={"cache-control": "no-store", "x-content-type-options": "nosniff"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        import asyncio

        tasks = [asyncio.create_task(live.watch()), asyncio.create_task(live.schedule())] if watch else []
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    routes = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/{path:path}", serve_file, methods=["GET", "HEAD"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _not_found_page(index_url: str) -> bytes:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>\n'
        f'<body><h1>Not found</h1><p>There is no feed at this address. '
        f'<a href="{escape(index_url)}">See every feed</a>.</p></body></html>\n'
    ).encode("utf-8")
