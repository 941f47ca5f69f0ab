"""Starting the live server: load the folder, print where to look, hand the app to uvicorn."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import uvicorn

from feedpub import logs
from feedpub.progress import Progress
from feedpub.settings import Settings

from .app import create_app
from .live.live_site import LiveSite
from .protocol.bounded import BoundedHttpToolsProtocol
from .protocol.fast_path import FeedProtocol, missing_hook


def run(root: Path, settings: Settings, *, host: str, port: int, quiet: bool, cache_dir: Path | None = None,
        jobs: int = 1) -> None:
    logging.basicConfig(format="%(levelname)s:     %(message)s", stream=sys.stderr,
                        level=logging.WARNING if quiet else logging.INFO)
    logs.install()  # a file name with a newline cannot forge a line of the log
    started = time.perf_counter()
    live = LiveSite(root, settings, cache_dir=cache_dir, jobs=jobs)
    live.start(Progress())  # bars on a terminal, for a start that loads a large folder
    summary = live.summary
    assert summary is not None
    for path, reason in summary.bad:
        logging.getLogger("feedpub").warning("%s: %s", path, reason)
    local = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    how = "" if live.resumed is None else f" (resumed the last run's state; files read again: {live.resumed})"
    print(f"feedpub: {summary.describe()} from {root}{how} in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    print(f"feedpub: open {local}" + ("" if settings.url("/") == local else f" (links use {settings.url('/')})"),
          file=sys.stderr, flush=True)
    uvicorn.run(
        create_app(live),
        host=host,
        port=port,
        log_level="warning" if quiet else "info",
        access_log=not quiet,
        server_header=False,
        # Only a proxy on this machine may set X-Forwarded-*; they affect logs, never bodies.
        forwarded_allow_ips="127.0.0.1",
        # httptools with a bounded request head (protocol/bounded.py) that answers published paths
        # itself (protocol/fast_path.py); past this many open connections uvicorn answers 503
        # instead of running out of file descriptors.
        http=http_protocol(),
        limit_concurrency=1000,
    )


def http_protocol() -> type[BoundedHttpToolsProtocol]:
    """The fast path when this uvicorn has every hook it relies on, else the plain bounded protocol."""
    missing = missing_hook()
    if missing is None:
        return FeedProtocol
    logging.getLogger("feedpub").warning(
        "uvicorn %s lacks %s, which the fast path needs: serving through the plain protocol (same bytes, slower)",
        uvicorn.__version__, missing)
    return BoundedHttpToolsProtocol
