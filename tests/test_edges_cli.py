"""Edge inputs at the command line (issue 16, must-have 6): system folders as ARTICLES, the path
computation under a root of `/`, and file names that would forge report lines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedpub.cli import main
from feedpub.reading import folder as folder_module
from feedpub.reading.folder import Folder
from tests.helpers import article_text, sample_fields


@pytest.mark.parametrize("root", ["/", "/etc", "/usr", "/tmp", "//", "/usr/../"])
@pytest.mark.parametrize("command", ["check", "export", "serve"])
def test_a_system_folder_is_refused_before_anything_is_read(root: str, command: str, tmp_path: Path) -> None:
    extra = {"export": ["--out", str(tmp_path / "site"), "--base-url", "https://news.example.com"],
             "serve": ["--port", "0"]}.get(command, [])
    result = CliRunner().invoke(main, [command, root, *extra, "--no-cache"])
    assert result.exit_code == 1, result.output
    assert "not an article folder" in result.output and "walk every file" in result.output
    assert not (tmp_path / "site").exists()


def test_under_a_root_of_slash_relative_paths_keep_every_character(monkeypatch: pytest.MonkeyPatch) -> None:
    tree = [("/", ["srv"], ["top.md"]), ("/srv", ["news"], []), ("/srv/news", [], ["a.md", "b.txt", "c.jpg"])]
    monkeypatch.setattr(folder_module.os, "walk", lambda root, followlinks=False: iter(tree))
    assert Folder(Path("/")).scan() == ["srv/news/a.md", "srv/news/b.txt", "top.md"]


def test_a_name_with_a_newline_is_escaped_in_the_report(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "good.md").write_text(article_text(**sample_fields(1)), encoding="utf-8")
    (articles / "bad\nforged: all good.md").write_text("no front matter", encoding="utf-8")
    (articles / os.fsdecode(b"caf\xe9.md")).write_text("none either", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(articles), "--no-cache"])
    lines = result.output.splitlines()
    assert "bad\\nforged: all good.md: no front matter: the file must start with a '---' line" in lines
    assert not any(line.startswith("forged") for line in lines)
    assert any(line.startswith("caf\\xe9.md: ") for line in lines), lines
