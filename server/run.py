"""Starting the live server: load the folder, print where to look, hand the app to uvicorn."""

from __future__ import annotations

import errno
import logging
import socket
import sys
import time
from pathlib import Path

import uvicorn

from feedpub import logs
from feedpub.progress import Progress
from feedpub.settings import Settings, SettingsError

from .app import create_app
from .live.live_site import LiveSite
from .protocol.bounded import BoundedHttpToolsProtocol
from .protocol.fast_path import FeedProtocol, missing_hook


class ServeError(RuntimeError):
    """The server cannot start; the message says what to change."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` (0: any free port), before anything is loaded: the port it
    really has goes into every link, and a port in use is reported at once. Bound as uvicorn binds
    (IPv6 for an address with a colon, SO_REUSEADDR); uvicorn listens on it once the site is loaded."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        where = f"{_shown(host)}:{port}"
        if error.errno == errno.EADDRINUSE:
            raise ServeError(f"cannot listen on {where}: the port is in use (another feedpub serve?); "
                             "choose another with --port, or --port 0 for any free one") from None
        if error.errno == errno.EACCES:
            raise ServeError(f"cannot listen on {where}: permission denied (ports below 1024 need privileges); "
                             "choose a port of 1024 or more with --port") from None
        raise ServeError(f"cannot listen on {where}: {error.strerror or error}; check --host and --port") from None
    sock.set_inheritable(True)
    return sock


WILDCARDS = ("0.0.0.0", "::", "")


def local_base_url(host: str, port: int) -> str:
    """The base URL of a server bound to `host`:`port` when none was given. A wildcard address is no
    place to link to: the machine's host name stands in for it."""
    name = socket.gethostname() if host in WILDCARDS else host
    return f"http://{_shown(name)}:{port}"


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def run(root: Path, settings: Settings, *, host: str, port: int, quiet: bool, cache_dir: Path | None = None,
        jobs: int = 1, base_url_given: bool = True) -> None:
    """Serve the articles under `root`; without `base_url_given`, links use the address really bound."""
    logging.basicConfig(format="%(levelname)s:     %(message)s", stream=sys.stderr,
                        level=logging.WARNING if quiet else logging.INFO)
    logs.install()  # a file name with a newline cannot forge a line of the log
    started = time.perf_counter()
    sock = listening_socket(host, port)
    port = sock.getsockname()[1]
    if not base_url_given:
        try:
            settings = settings.replace(base_url=local_base_url(host, port))
        except SettingsError:  # an IPv6 literal: base_url takes host names and IPv4 addresses only
            sock.close()
            raise ServeError(f"links cannot be made from the address {host}: give the URL readers use with "
                             f"--base-url, e.g. --base-url http://localhost:{port}") from None
    live = LiveSite(root, settings, cache_dir=cache_dir, jobs=jobs)
    live.start(Progress())  # bars on a terminal, for a start that loads a large folder
    summary = live.summary
    assert summary is not None
    for path, reason in summary.bad:
        logging.getLogger("feedpub").warning("%s: %s", path, reason)
    local = f"http://{_shown('127.0.0.1' if host == '0.0.0.0' else '::1' if host in WILDCARDS else host)}:{port}/"
    how = "" if live.resumed is None else f" (resumed the last run's state; files read again: {live.resumed})"
    print(f"feedpub: {summary.describe()} from {root}{how} in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    print(f"feedpub: open {local}" + ("" if settings.url("/") == local else f" (links use {settings.url('/')})"),
          file=sys.stderr, flush=True)
    if host in WILDCARDS and not base_url_given:
        print("feedpub: listening on every address: links use this machine's name; if readers reach it by "
              "another name, give it with --base-url https://news.example.com", file=sys.stderr, flush=True)
    config = uvicorn.Config(
        create_app(live),
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
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE, as uvicorn.run exits


def http_protocol() -> type[BoundedHttpToolsProtocol]:
    """The fast path when this uvicorn has every hook it relies on, else the plain bounded protocol."""
    missing = missing_hook()
    if missing is None:
        return FeedProtocol
    logging.getLogger("feedpub").warning(
        "uvicorn %s lacks %s, which the fast path needs: serving through the plain protocol (same bytes, slower)",
        uvicorn.__version__, missing)
    return BoundedHttpToolsProtocol
