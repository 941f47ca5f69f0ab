"""Clear answers to a user's mistakes (issue 16, must-have 7), met as a new user would: through the
real command line (a subprocess where the terminal, signals or ports matter)."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from feedpub.build import Build
from feedpub.cli import main
from feedpub.settings import Settings
from tests.helpers import article_text, sample_fields

BASE = "https://news.example.com"


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(3):
        (folder / f"{n:03d}.txt").write_text(article_text(**sample_fields(n)), encoding="utf-8")
    return folder


def test_a_busy_port_is_said_before_anything_is_loaded(articles: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        began = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "feedpub", "serve", str(articles), "--port", str(port),
                               "--no-cache"], capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: the port is in use (another feedpub serve?); choose another "
        "with --port, or --port 0 for any free one"]
    assert time.monotonic() - began < 10


def test_check_and_export_say_when_a_folder_has_no_articles(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "notes").mkdir(parents=True)
    (empty / "notes" / "readme.pdf").write_bytes(b"%PDF")
    code, output = run("check", empty, "--no-cache")
    assert code == 1 and f"{empty} holds no article files (*.txt or *.md" in output
    code, output = run("export", empty, "--out", tmp_path / "site", "--no-cache", "--base-url", BASE)
    assert code == 0 and "holds no article files" in output


def test_a_folder_has_articles_exactly_when_its_scan_finds_some(tmp_path: Path) -> None:
    """`has_articles` (the emptiness check, which stops at the first file) agrees with `scan`."""
    from feedpub.reading.folder import Folder

    root = tmp_path / "root"
    layouts: list[list[str]] = [[], ["notes/readme.pdf"], [".hidden.txt"], [".git/a.txt"], ["a/.b/c.md"],
                                ["x.txt.bak", "y.TXT"], ["deep/er/still/a.md"], ["a.txt"], ["z/.q.md", "z/b.txt"]]
    for files in layouts:
        if root.exists():
            shutil.rmtree(root)
        root.mkdir()
        for name in files:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text("x")
        assert Folder(root).has_articles() == bool(Folder(root).scan()), files


def test_out_equal_to_the_article_folder_says_so_and_touches_nothing(articles: Path) -> None:
    before = sorted(p.name for p in articles.iterdir())
    for out in (articles, articles.parent):
        code, output = run("export", articles, "--out", out, "--no-cache", "--base-url", BASE)
        assert code == 1 and "the article folder" in output and "remove" not in output, output
    assert sorted(p.name for p in articles.iterdir()) == before


def test_generate_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "001_0123456789abcdef.txt").write_text("my own article, named like a sample")
    code, output = run("generate", mine, "3")
    assert code == 1 and "not made by `feedpub generate`" in output and "--force" in output
    assert (mine / "001_0123456789abcdef.txt").read_text() == "my own article, named like a sample"
    code, output = run("generate", tmp_path / "new", "3")
    assert code == 0 and "3 articles written" in output
    code, output = run("generate", tmp_path / "new", "2")  # a folder it made: rerun freely
    assert code == 0 and len(list((tmp_path / "new").glob("*.txt"))) == 2
    code, output = run("generate", mine, "1", "--force")
    assert code == 0 and "1 article written" in output


def test_long_work_reports_progress_reading_then_rendering(articles: Path) -> None:
    told: list[tuple[str, int]] = []

    def rendering(total: int):
        told.append(("render total", total))
        return lambda n: told.append(("rendered", n))

    build = Build(articles, Settings(base_url="https://feeds.example"))
    build.load(progress=lambda n: told.append(("read", n)), rendering=rendering)
    assert sum(n for what, n in told if what == "read") == 3
    assert ("render total", 3) in told and sum(n for what, n in told if what == "rendered") == 3


def test_serve_loads_with_progress_bars(articles: Path) -> None:
    from feedpub.server.live.live_site import LiveSite

    opened: list[tuple[str, int]] = []

    class Recorder:
        def __enter__(self) -> Recorder:
            return self

        def __exit__(self, *_: object) -> None:
            opened.append(("closed", 0))

        def reading(self, total: int):
            opened.append(("reading", total))
            return lambda n: None

        def rendering(self, total: int):
            opened.append(("rendering", total))
            return lambda n: None

    live = LiveSite(articles, Settings(base_url="https://feeds.example"))
    live.start(Recorder())  # type: ignore[arg-type]  # records what a Progress is told
    assert opened == [("reading", 3), ("rendering", 3), ("closed", 0)]


def test_help_follows_common_conventions() -> None:
    code, output = run("-h")
    assert code == 0 and "Usage:" in output and "Commands:" in output
    for description in ("Write every feed, the index page, OPML and catalog to a folder as static files.",
                        "List every problem and warning in the article folder; write nothing.",
                        "Serve every feed live, kept current as article files change.",
                        "Write realistic sample articles to a folder, deterministically."):
        assert description in " ".join(output.split()), output  # in full, never cut with "..."
    for command in main.commands.values():
        code, output = run(command.name or "", "-h")
        assert code == 0, output
        for parameter in command.params:
            if isinstance(parameter, click.Option) and parameter.name != "help":
                assert parameter.help, f"{command.name} {parameter.opts} has no help text"
        if any(p.name == "articles" for p in command.params):
            assert "ARTICLES is the folder of article files" in " ".join(output.split())


def test_one_of_everything_is_said_in_the_singular(tmp_path: Path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.md").write_text(article_text(**sample_fields(0, topics=[], provider={"name": "P", "domain": "p.example"},
                                                              images=None)), encoding="utf-8")
    (folder / "b.md").write_text("---\n- bad\n---\n", encoding="utf-8")
    _, output = run("check", folder, "--no-cache")
    assert "2 files read: 1 published, 0 drafts, 0 scheduled, 0 duplicates, 1 bad file; 2 feeds" in output


def test_check_takes_the_publishing_options_of_export(articles: Path) -> None:
    (articles / "draft.txt").write_text(article_text(**sample_fields(9, published=False)), encoding="utf-8")
    _, plain = run("check", articles, "--no-cache")
    _, drafts = run("check", articles, "--no-cache", "--include-drafts", "--limit", "2",
                    "--base-url", "https://news.example.com")
    assert "3 published, 1 draft" in plain and "4 published, 0 drafts" in drafts


def test_ctrl_c_during_a_long_start_exits_130_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    subprocess.run([sys.executable, "-m", "feedpub", "generate", str(folder), "8000", "--body-bytes", "3000"],
                   check=True, capture_output=True, timeout=120)
    server = subprocess.Popen([sys.executable, "-m", "feedpub", "serve", str(folder), "--port", "0", "--no-cache",
                               "--jobs", "2"], stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        # Mid-load, whatever the machine's speed: once the parse workers are there (a sleep guessed at
        # the load's length, and the load got faster). A Ctrl-C at any moment of a pool's life, its
        # forking included, is tests/test_workers.py's.
        deadline = time.monotonic() + 60
        while not _children(server.pid) and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.poll() is None and _children(server.pid), "no parse workers seen during the load"
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["feedpub: interrupted"], stderr


def _children(pid: int) -> list[int]:
    """The processes `pid` started that are still running (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found
