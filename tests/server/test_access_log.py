"""The access log: uvicorn's lines, written in batches, flushed on time, at shutdown and after SIGHUP."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

import pytest
from uvicorn.logging import AccessFormatter

from feedpub.server.access_log import AccessLog

UVICORN_FORMAT = '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'


def uvicorn_line(args: tuple[object, ...], *, colours: bool) -> str:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 0, '%s - "%s %s HTTP/%s" %d', args, None)
    return AccessFormatter(fmt=UVICORN_FORMAT, use_colors=colours).format(record) + "\n"


@pytest.mark.parametrize("colours", [False, True])
@pytest.mark.parametrize("args", [
    ("127.0.0.1:51234", "GET", "/feeds/all.rss", "1.1", 200),
    ("[::1]:8000", "HEAD", "/feeds/topics/künstliche-intelligenz.atom?x=1&y=%20", "1.1", 304),
    ("10.0.0.1:1", "POST", "/websub", "1.0", 202),
    ("127.0.0.1:2", "GET", "/nope", "1.1", 404),
    ("127.0.0.1:3", "GET", "/healthz", "1.1", 503),
    ("127.0.0.1:4", "GET", "/", "1.1", 799),  # no phrase, no colour class
])
def test_each_line_is_the_one_uvicorn_s_formatter_writes(tmp_path: Path, args: tuple[object, ...],
                                                        colours: bool) -> None:
    log = AccessLog(tmp_path / "access.log", colours=colours)
    log.info('%s - "%s %s HTTP/%s" %d', *args)  # no event loop: written at once
    log.close()
    assert (tmp_path / "access.log").read_text("utf-8") == uvicorn_line(args, colours=colours)


def test_lines_wait_for_64_kib_or_a_second_then_go_in_one_write(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    log = AccessLog(path, flush_seconds=0.3, colours=False)
    writes: list[int] = []
    real_write = os.write

    def counting_write(fd: int, data: bytes | memoryview) -> int:
        writes.append(len(data))
        return real_write(fd, data)

    async def scenario() -> None:
        started = time.monotonic()  # the timer starts with the first line
        for n in range(100):
            log.info("", "127.0.0.1:1", "GET", f"/feeds/{n}.rss", "1.1", 200)
        assert path.read_bytes() == b""  # buffered
        while not path.read_bytes():
            await asyncio.sleep(0.01)
        assert 0.25 <= time.monotonic() - started < 3.0  # 0.3 s; the upper bound is a busy machine's
        assert len(path.read_text().splitlines()) == 100
        for _ in range(2000):  # ~100 KB: the 64 KiB mark writes without waiting for the timer
            log.info("", "127.0.0.1:1", "GET", "/feeds/all.rss", "1.1", 304)
        assert len(path.read_text().splitlines()) > 1000

    os.write = counting_write  # type: ignore[assignment]
    try:
        asyncio.run(scenario())
    finally:
        os.write = real_write
    log.close()
    assert len(path.read_text().splitlines()) == 2100  # the rest at close: none lost
    assert len(writes) <= 4


def test_sighup_reopens_the_file_by_name_so_logrotate_can_move_it(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    log = AccessLog(path, colours=False)
    log.info("", "127.0.0.1:1", "GET", "/before", "1.1", 200)
    path.rename(tmp_path / "access.log.1")  # logrotate moves the file, then sends SIGHUP
    log.info("", "127.0.0.1:1", "GET", "/between", "1.1", 200)  # still the old file, by its open descriptor
    log.reopen_soon()
    log.info("", "127.0.0.1:1", "GET", "/after", "1.1", 200)
    log.close()
    assert "/before" in (tmp_path / "access.log.1").read_text() and "/between" in (tmp_path / "access.log.1").read_text()
    assert path.read_text().splitlines() == ['INFO:     127.0.0.1:1 - "GET /after HTTP/1.1" 200 OK']


def test_a_write_that_fails_is_counted_not_raised(tmp_path: Path) -> None:
    log = AccessLog(tmp_path / "access.log", colours=False)
    os.close(log._fd)
    log._fd = os.open("/dev/full", os.O_WRONLY)
    log.info("", "127.0.0.1:1", "GET", "/x", "1.1", 200)
    assert log.lost > 0
    log.close()


def test_a_path_that_is_not_utf_8_is_escaped_not_an_error(tmp_path: Path) -> None:
    log = AccessLog(tmp_path / "access.log", colours=False)
    log.info("", "127.0.0.1:1", "GET", "/a\udcff", "1.1", 404)
    log.close()
    assert "/a\\udcff" in (tmp_path / "access.log").read_text()
