"""The folder survey in C (reading/_survey.c) gives what the Python survey gives, entry for entry and
in the same order, for every kind of thing a folder can hold (`Folder.survey` against
`Folder.survey_in_python`): hidden files and folders, links in and out and to nothing, links to
folders, folders named like articles, FIFOs and sockets, names that are not UTF-8, unreadable folders,
and a folder large enough to be stat'ed by several threads."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from feedpub import accelerators
from feedpub.reading import folder as folder_module
from feedpub.reading.folder import Folder, identity_of, stamp
from tests.helpers import article_text, sample_fields

if os.environ.get("FEEDPUB_REQUIRE_ACCELERATOR") != "1":  # .ci/run requires it, having installed gcc
    pytestmark = pytest.mark.skipif(not folder_module.BUILT, reason="the C folder survey is not built")


def same_survey(root: Path) -> dict[str, tuple[int, tuple[int, int, int]]]:
    """The C survey of `root`, having checked it is the Python one in content and order."""
    found = Folder(root).survey()
    expected = Folder(root).survey_in_python()
    assert list(found.items()) == list(expected.items())
    return found


def write(path: Path, number: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(article_text(**sample_fields(number)))
    return path


def test_an_awkward_folder_is_surveyed_as_python_surveys_it(tmp_path: Path) -> None:
    root = tmp_path / "articles"
    outside = write(tmp_path / "elsewhere" / "outside.md")
    write(root / "plain.md")
    write(root / "plain.txt")
    write(root / "notes.rst")  # not an article name
    write(root / ".hidden.md")
    write(root / ".drafts" / "in-hidden-folder.md")
    write(root / "news" / "2026" / "deep.md")
    write(root / "news" / "a.md")
    write(root / "news" / "a b é 🗞.md")
    (root / "a.md.d").mkdir()
    (root / "folder.md").mkdir()  # a folder named like an article is no file
    (root / "link-in.md").symlink_to(root / "plain.md")
    (root / "link-out.md").symlink_to(outside)  # surveyed: the reader refuses it later, with a reason
    (root / "dangling.md").symlink_to(tmp_path / "nothing.md")
    (root / "linked-folder").symlink_to(tmp_path / "elsewhere")  # not entered
    (root / "linked-folder.md").symlink_to(tmp_path / "elsewhere")  # a link to a folder: no file
    os.mkfifo(root / "fifo.md")
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(root / "socket.md"))
        found = same_survey(root)
    assert set(found) == {"plain.md", "plain.txt", "news/2026/deep.md", "news/a.md", "news/a b é 🗞.md",
                          "link-in.md", "link-out.md", "fifo.md", "socket.md"}
    info = os.stat(root / "link-in.md")  # a link's row is its file's stat
    assert found["link-in.md"] == (stamp(info), identity_of(info))


def test_names_that_are_not_utf8_come_back_escaped_and_in_str_order(tmp_path: Path) -> None:
    # In bytes b"\xff" sorts after b"\xee\x80\x80" (U+E000); as str, its escape U+DCFF sorts before it.
    for name in (b"\xff.md", "\ue000.md".encode(), b"caf\xe9.md", b"cafe.md", b"z.md"):
        write(Path(os.fsdecode(bytes(tmp_path) + b"/" + name)))
    found = same_survey(tmp_path)
    assert list(found) == sorted(found) and "\udcff.md" in found and "caf\udce9.md" in found


def test_an_unreadable_folder_is_passed_over(tmp_path: Path) -> None:
    write(tmp_path / "a.md")
    write(tmp_path / "locked" / "b.md")
    (tmp_path / "locked").chmod(0)
    try:
        found = same_survey(tmp_path)
        if os.geteuid() != 0:  # root reads it anyway, and so both surveys list it
            assert list(found) == ["a.md"]
    finally:
        (tmp_path / "locked").chmod(0o755)


@pytest.mark.parametrize("given", ["missing", "a file", "a link to the folder", "with a trailing slash"])
def test_the_root_itself(tmp_path: Path, given: str) -> None:
    real = tmp_path / "real"
    write(real / "a.md")
    write(real / "sub" / "b.md")
    root = {"missing": tmp_path / "missing", "a file": real / "a.md", "a link to the folder": tmp_path / "link",
            "with a trailing slash": Path(f"{real}/")}[given]
    if given == "a link to the folder":
        root.symlink_to(real)
    found = same_survey(root)
    assert list(found) == ([] if given in ("missing", "a file") else ["a.md", "sub/b.md"])


def test_a_large_folder_shared_among_threads_keeps_every_file_once(tmp_path: Path) -> None:
    # More than one thread's share (4,096 files), over nested folders, with files gone in between
    # left out by both.
    text = article_text(**sample_fields(1))
    for number in range(9000):
        place = tmp_path / f"part{number % 7}" if number % 3 else tmp_path
        place.mkdir(exist_ok=True)
        (place / f"{number:05d}.md").write_text(text)
    for number in range(0, 9000, 97):
        place = tmp_path / f"part{number % 7}" if number % 3 else tmp_path
        (place / f"{number:05d}.md").unlink()
        (place / f"{number:05d}.md").symlink_to(tmp_path / "gone")
    found = same_survey(tmp_path)
    assert len(found) == 9000 - len(range(0, 9000, 97))


def test_switched_off_it_is_the_python_survey(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "a.md")
    called: list[bool] = []
    real = Folder.survey_in_python

    def in_python(self: Folder) -> dict[str, tuple[int, tuple[int, int, int]]]:
        called.append(True)
        return real(self)

    monkeypatch.setattr(Folder, "survey_in_python", in_python)
    monkeypatch.setenv(accelerators.SWITCH, "0")
    assert list(Folder(tmp_path).survey()) == ["a.md"] and called
