"""A live server meets file names a careless or hostile folder may hold (issue 16, must-have 6):
names that are not UTF-8 (the watcher used to restart on every event touching one, a warning each
time) and names with a newline (which forged log lines)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import article_text, sample_fields
from tests.live_server import Server, servers


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    yield from servers(tmp_path)


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_a_file_name_that_is_not_utf8_is_reported_once_and_its_article_still_read(
        serve: Callable[..., Server], tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "000.txt").write_text(article_text(**sample_fields(0)), encoding="utf-8")
    server = serve(folder, quiet=False)
    odd = os.path.join(os.fsencode(folder), b"caf\xe9.md")  # Latin-1, as an old sync tool writes it
    for n in range(3):  # three writes: three batches watchfiles cannot decode
        with open(odd, "wb") as handle:
            handle.write(article_text(**sample_fields(1, title=f"Odd name, version {n}")).encode())
        assert wait_for(lambda: f"Odd name, version {n}".encode() in server.get("/feeds/all.rss").content, 15), n
    (folder / "002.txt").write_text(article_text(**sample_fields(2, title="After the odd one")), encoding="utf-8")
    assert wait_for(lambda: b"After the odd one" in server.get("/feeds/all.rss").content, 15)
    log = server.log()
    assert log.count("the file name is not UTF-8") == 1, log
    assert "caf\\xE9.md" in log or "caf\\xe9.md" in log
    assert "watching" not in log or "stopped" not in log


def test_a_file_name_with_a_newline_cannot_forge_a_log_line(serve: Callable[..., Server], tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "000.txt").write_text(article_text(**sample_fields(0)), encoding="utf-8")
    (folder / "bad\nERROR:     forged.md").write_text("no front matter", encoding="utf-8")
    server = serve(folder)
    (folder / "worse\nERROR:     forged too.md").write_text("still none", encoding="utf-8")
    assert wait_for(lambda: "forged too" in server.log(), 15)
    lines = server.log().splitlines()
    assert not any(line.startswith("ERROR:     forged") for line in lines), lines
    assert any("bad\\nERROR:     forged.md: no front matter" in line for line in lines), lines
