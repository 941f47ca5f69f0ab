"""Starting the live server: load the folder, print where to look, hand the app to uvicorn."""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import uvicorn

from feedpub import logs
from feedpub.progress import Progress
from feedpub.settings import Settings, SettingsError

from .access_log import AccessLog
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
        jobs: int = 1, base_url_given: bool = True, access_log: Path | None = None) -> None:
    """Serve the articles under `root`; without `base_url_given`, links use the address really bound.
    The access log goes to standard output, or appended to `access_log`; `quiet` turns it off."""
    logging.basicConfig(format="%(levelname)s:     %(message)s", stream=sys.stderr,
                        level=logging.WARNING if quiet else logging.INFO)
    logs.install()  # a file name with a newline cannot forge a line of the log
    started = time.perf_counter()
    sock = listening_socket(host, port)
    try:
        sink = None if quiet else open_access_log(access_log)
    except ServeError:
        sock.close()
        raise
    port = sock.getsockname()[1]
    if not base_url_given:
        try:
            settings = settings.replace(base_url=local_base_url(host, port))
        except SettingsError:  # an IPv6 literal: base_url takes host names and IPv4 addresses only
            sock.close()
            if sink is not None:
                sink.close()
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
        # uvicorn's access logger (logging, a lock and a write per line) stays off: every request
        # is logged to `sink` instead, by the protocol and by uvicorn's request cycles alike.
        access_log=False,
        server_header=False,
        # Only a proxy on this machine may set X-Forwarded-*; they affect logs, never bodies.
        forwarded_allow_ips="127.0.0.1",
        # httptools with a bounded request head (protocol/bounded.py) that answers published paths
        # itself (protocol/fast_path.py); past this many open connections uvicorn answers 503
        # instead of running out of file descriptors.
        http=logged(http_protocol(), sink),
        limit_concurrency=1000,
    )
    server = uvicorn.Server(config) if sink is None else LoggedServer(config, sink)
    if sink is not None and sink.path is not None:
        # logrotate moves the file and sends SIGHUP; uvicorn leaves SIGHUP alone. The handler only
        # marks the log, which is reopened by its next write, on the event loop.
        signal.signal(signal.SIGHUP, lambda signum, frame: sink.reopen_soon())
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if sink is not None:
            sink.close()
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE, as uvicorn.run exits


class LoggedServer(uvicorn.Server):
    """uvicorn's server writing the access log's last lines once the connections are closed: after a
    SIGTERM or SIGINT uvicorn raises the signal again as it returns, which ends the process before
    any code after `run` would."""

    def __init__(self, config: uvicorn.Config, sink: AccessLog) -> None:
        super().__init__(config)
        self.sink = sink

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().shutdown(sockets=sockets)
        finally:
            self.sink.flush()


def open_access_log(path: Path | None) -> AccessLog:
    """The access log on standard output, or appended to `path`, opened before anything is loaded so
    that a path that cannot be written is said at once."""
    try:
        return AccessLog(path)
    except OSError as error:
        raise ServeError(f"cannot open the access log {path}: {error.strerror or error}; "
                         "give a file that can be written with --access-log, or --quiet for none") from None


def logged(protocol: type[BoundedHttpToolsProtocol], sink: AccessLog | None) -> type[BoundedHttpToolsProtocol]:
    """`protocol` logging each request to `sink` (none when None) instead of uvicorn's logger."""

    class Logged(protocol):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.access_log = sink is not None
            if sink is not None:
                self.access_logger = sink

    Logged.__name__ = Logged.__qualname__ = protocol.__name__
    return Logged


def http_protocol() -> type[BoundedHttpToolsProtocol]:
    """The fast path when this uvicorn has every hook it relies on, else the plain bounded protocol."""
    missing = missing_hook()
    if missing is None:
        return FeedProtocol
    logging.getLogger("feedpub").warning(
        "uvicorn %s lacks %s, which the fast path needs: serving through the plain protocol (same bytes, slower)",
        uvicorn.__version__, missing)
    return BoundedHttpToolsProtocol
