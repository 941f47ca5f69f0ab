"""The access log of the real `feedpub serve`: one uvicorn line per request, whichever way it was
answered (the fast path or ASGI), on standard output by default or appended to `--access-log FILE`,
written at most about a second late, reopened after SIGHUP, flushed at shutdown; none with `--quiet`."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.live_server import Server, servers

LINE = re.compile(r'^INFO:     127\.0\.0\.1:\d+ - "(GET|HEAD|POST) (\S+) HTTP/1\.1" (\d{3}) [A-Za-z ]+$', re.M)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    yield from servers(tmp_path)


def requests(server: Server, tag: str) -> list[tuple[str, str, str]]:
    """A mix answered by the fast path (plain feeds, 200 and 304) and through ASGI (pages, a 404, a
    filtered feed made when asked, a POST); what each should log as (method, path, status)."""
    made = []
    first = server.get("/feeds/all.rss")
    made.append(("GET", "/feeds/all.rss", first.status_code))
    again = server.get("/feeds/all.rss", headers={"If-None-Match": first.headers["etag"]})
    made.append(("GET", "/feeds/all.rss", again.status_code))
    made.append(("HEAD", "/feeds/all.atom", server.client.head("/feeds/all.atom").status_code))
    made.append(("GET", "/", server.get("/").status_code))
    made.append(("GET", f"/missing-{tag}", server.get(f"/missing-{tag}").status_code))
    made.append(("GET", f"/feeds/all.json?filter={tag}", server.get(f"/feeds/all.json?filter={tag}").status_code))
    made.append(("POST", "/feeds/all.rss", server.client.post("/feeds/all.rss").status_code))
    assert {status for _, _, status in made} >= {200, 304, 404, 405}
    return [(method, path, str(status)) for method, path, status in made]


def logged(text: str) -> list[tuple[str, str, str]]:
    """The requests a log shows, less the start-up's /healthz polls (tests/live_server.py)."""
    return [line for line in LINE.findall(text) if line[1] != "/healthz"]


def wait_for(read: Callable[[], str], count: int, within: float) -> float:
    started = time.monotonic()
    while len(logged(read())) < count:
        assert time.monotonic() - started < within, f"{len(logged(read()))} of {count} lines after {within} s"
        time.sleep(0.02)
    return time.monotonic() - started


def test_every_request_is_one_line_on_standard_output_within_about_a_second(serve, articles: Path) -> None:
    server = serve(articles, quiet=False)
    expected = requests(server, "stdout")
    late = wait_for(server.log, len(expected), 2.5)
    assert logged(server.log()) == expected
    assert '"GET /healthz HTTP/1.1" 200 OK' in server.log()
    print(f"the lines arrived {late:.2f} s after the last request")


def test_a_file_reopened_after_sighup_and_flushed_at_shutdown(serve, articles: Path, tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    server = serve(articles, "--access-log", str(path), quiet=False)
    assert not logged(server.log()), "the lines go to the file, not standard output"
    before = requests(server, "before")
    wait_for(lambda: path.read_text("utf-8"), len(before), 2.5)
    start = logged(path.read_text("utf-8"))
    assert start == before

    path.rename(tmp_path / "access.log.1")  # as logrotate does, then SIGHUP
    server.process.send_signal(signal.SIGHUP)
    time.sleep(0.2)  # the signal is handled between two steps of the loop
    after = requests(server, "after")
    wait_for(lambda: path.read_text("utf-8") if path.exists() else "", len(after), 2.5)
    assert logged(path.read_text("utf-8")) == after
    assert logged((tmp_path / "access.log.1").read_text("utf-8")) == start
    assert server.process.poll() is None, "SIGHUP does not stop the server"

    last = requests(server, "last")
    server.stop()  # SIGTERM at once: the lines still waiting for their second are written on the way out
    # uvicorn ends by raising the signal it caught again, so the exit status says SIGTERM.
    assert server.process.returncode in (0, -signal.SIGTERM), server.log()
    assert "Finished server process" in server.log()
    assert logged(path.read_text("utf-8")) == after + last


def test_quiet_logs_no_request(serve, articles: Path) -> None:
    server = serve(articles, quiet=True)
    requests(server, "quiet")
    time.sleep(1.3)
    assert not logged(server.log())


def test_quiet_and_a_log_file_together_or_a_file_that_cannot_be_written_are_clear_errors(
        articles: Path, tmp_path: Path) -> None:
    base = [sys.executable, "-m", "feedpub", "serve", str(articles), "--port", "0"]
    both = subprocess.run([*base, "--quiet", "--access-log", str(tmp_path / "a.log")],
                          capture_output=True, text=True, timeout=60)
    assert both.returncode == 2
    assert "give one of them" in both.stderr
    nowhere = tmp_path / "no-such-folder" / "access.log"
    missing = subprocess.run([*base, "--access-log", str(nowhere)], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    assert f"cannot open the access log {nowhere}: No such file or directory" in missing.stderr
    assert "--access-log" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert not nowhere.parent.exists()
