"""A FIFO (or any file that is not regular) where an article was never blocks a read (issue 16, must-have 3).

Opening a FIFO for reading waits for a writer: a FIFO swapped in between the `is_file()` check and
the open used to block the live server's rebuild thread (and an export) forever.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from feedpub.build import Build
from feedpub.reading.article_file import NotRegularFile, read_article
from feedpub.reading.folder import Folder
from feedpub.settings import Settings
from tests.helpers import article_text, sample_fields


def bounded(work: Callable[[], Any], *, release: Path, seconds: float = 5.0) -> Any:
    """`work()`'s result, failing the test if it has not returned within `seconds` (a writer then
    opens the FIFO so the stuck thread can finish)."""
    result: list[Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        fd = os.open(release, os.O_WRONLY | os.O_NONBLOCK)  # lets the blocked open return
        os.close(fd)
        thread.join(5)
        pytest.fail(f"reading a FIFO blocked for {seconds} s")
    if failure:
        raise failure[0]
    return result[0] if result else None


def test_reading_a_fifo_refuses_it_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "a.md"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile):
        bounded(lambda: read_article(fifo), release=fifo)


def test_a_fifo_swapped_in_after_the_check_is_no_article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.md").write_text(article_text(**sample_fields(1)))
    folder = Folder(tmp_path)
    real_lstat = os.lstat

    def swapped(path: str, *args: object, **kwargs: object) -> os.stat_result:
        answer = real_lstat(path, *args, **kwargs)  # type: ignore[arg-type]
        if str(path).endswith("/a.md") and stat.S_ISREG(answer.st_mode):
            # the race: a regular file at the check, a FIFO at the open
            os.unlink(path)
            os.mkfifo(path)
        return answer

    monkeypatch.setattr(os, "lstat", swapped)
    assert bounded(lambda: folder.read("a.md"), release=tmp_path / "a.md") is None


def test_an_export_and_a_rebuild_pass_over_fifos_and_devices(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "good.md").write_text(article_text(**sample_fields(1)))
    os.mkfifo(articles / "fifo.md")
    os.symlink("/dev/zero", articles / "zero.md")  # outside the folder too, but a device first of all
    build = Build(articles, Settings(base_url="https://feeds.example"))
    bounded(build.load, release=articles / "fifo.md")
    summary = build.summary()
    assert summary.published == 1
    assert all("fifo" not in path for path, _ in summary.bad)
    (articles / "good.md").unlink()
    os.mkfifo(articles / "good.md")
    bounded(lambda: build.refresh(["good.md", "fifo.md"]), release=articles / "good.md")
    assert build.summary().published == 0


def test_check_names_each_article_name_passed_over_and_what_it_is(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from feedpub.cli import main

    articles = tmp_path / "articles"
    (articles / "news").mkdir(parents=True)
    (articles / "good.md").write_text(article_text(**sample_fields(1)))
    os.mkfifo(articles / "news" / "fifo.md")
    os.symlink(tmp_path / "gone.md", articles / "dangling.txt")
    os.symlink("/dev/null", articles / "null.txt")
    os.symlink("good.md", articles / "alias.md")  # a link to an article: read (a duplicate), not listed
    (articles / "folder.md").mkdir()  # a folder is no candidate at all
    result = bounded(lambda: CliRunner().invoke(main, ["check", str(articles)], catch_exceptions=False),
                     release=articles / "news" / "fifo.md")
    lines = [line for line in result.output.splitlines() if "not read" in line]
    assert lines == [f"dangling.txt: warning: not read: a symlink to {str(tmp_path / 'gone.md')!r}, which is not there",
                     "news/fifo.md: warning: not read: a FIFO",
                     "null.txt: warning: not read: a symlink to a character device"], result.output
    assert result.exit_code == 0  # passed over, as an export does: warnings, not bad files
    assert "1 published" in result.output


def test_a_folder_read_quickly_gives_what_checking_each_name_first_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a file of a folder showed the folder is inside, its next files are opened without a look
    first (no lstat; a link is refused by the open itself): each kind of name must come out as it
    does when every name is looked at before it is opened."""
    import socket

    from feedpub.reading import folder as folder_module

    root, outside = tmp_path / "articles", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "o.md").write_text(article_text(**sample_fields(9)))
    for where in ("", "sub/"):
        (root / f"{where}a.md").write_text(article_text(**sample_fields(1)))  # regular, read first
        (root / f"{where}b.md").symlink_to(outside / "o.md")  # a link out: refused with its reason
        (root / f"{where}c.md").symlink_to(root / f"{where}a.md")  # a link inside: followed
        (root / f"{where}d.md").symlink_to(root / "gone.md")  # dangling: no file
        os.mkfifo(root / f"{where}e.md")
        (root / f"{where}f.md").write_bytes(b"\xff\xfe\x00")  # bad bytes: its reason
        (root / f"{where}g.md").mkdir()  # a folder with an article's name
        (root / f"{where}h.md").write_text(article_text(**sample_fields(2)))
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "sub" / "s.md"))
    try:
        names = sorted(str(path.relative_to(root)) for path in root.rglob("*.md"))

        def outcomes() -> list[object]:
            read = Folder(root).reader()
            return [bounded(lambda rel=rel: read(rel), release=root / "e.md") for rel in names]  # type: ignore[misc]

        quick = outcomes()
        monkeypatch.setattr(folder_module, "CAN_REFUSE_LINKS", False)
        assert quick == outcomes()
    finally:
        server.close()
    by_name = dict(zip(names, quick, strict=True))
    assert by_name["a.md"] == by_name["c.md"] and by_name["sub/a.md"] == by_name["sub/c.md"]
    assert by_name["b.md"] == by_name["sub/b.md"] == "a symlink to outside the article folder; not followed"
    assert by_name["d.md"] is by_name["e.md"] is by_name["g.md"] is by_name["sub/s.md"] is None
    assert isinstance(by_name["f.md"], str) and by_name["h.md"] is not None


def test_a_short_read_goes_on_to_the_end_of_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read that gives fewer bytes than the file holds (FUSE, NFS) is not the file's end."""
    path = tmp_path / "a.md"
    path.write_text(article_text(**sample_fields(1)))
    whole = read_article(path)
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, size: real_read(fd, min(size, 100)))
    assert read_article(path) == whole
