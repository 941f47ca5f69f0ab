"""The export folder as the tools people publish with see it: git (GitHub and GitLab Pages from a
branch folder), tar, `cp -r` and `cp -a`, all run for real on an export made by `feedpub export`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import article_text, sample_fields

BASE = "https://news.example.com"
GIT = ["git", "-c", "user.name=feedpub tests", "-c", "user.email=tests@example.com", "-c", "init.defaultBranch=main",
       "-c", "commit.gpgsign=false"]


def feedpub(*args: str | Path, cwd: Path) -> str:
    result = subprocess.run([sys.executable, "-m", "feedpub", *map(str, args)], cwd=cwd, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stderr


def files(root: Path) -> dict[str, bytes]:
    """Every file under `root` by its path, and fail on a symlink: the tools must see real files."""
    found = {}
    for path in sorted(root.rglob("*")):
        assert not path.is_symlink(), f"{path} is a symlink"
        if path.is_file():
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def git(*args: str | Path, cwd: Path) -> str:
    result = subprocess.run([*GIT, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def repository(tmp_path: Path, articles: Path) -> Path:
    """A repository whose `docs/` folder is an export (as GitHub Pages publishes from `main /docs`)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    feedpub("export", articles, "--out", repo / "docs", "--base-url", BASE, cwd=tmp_path)
    return repo


def test_git_add_commits_every_file_of_the_export(repository: Path) -> None:
    git("add", "docs", cwd=repository)
    git("commit", "-q", "-m", "export", cwd=repository)
    committed = git("ls-files", "docs", cwd=repository).split()
    assert sorted(committed) == sorted("docs/" + path for path in files(repository / "docs"))
    assert {"docs/index.html", "docs/404.html", "docs/_headers", "docs/feeds/all.rss",
            "docs/feeds/topics/world.atom", "docs/feeds/providers/news0.example.com.json"} <= set(committed)
    # The blobs are the files, byte for byte (not a symlink's target path).
    assert git("show", "HEAD:docs/feeds/all.rss", cwd=repository).encode() == (
        repository / "docs/feeds/all.rss").read_bytes()
    # And nothing of feedpub's own is beside the export, to be committed by a `git add .`.
    assert sorted(os.listdir(repository)) == [".git", "docs"]


def test_a_second_export_is_a_small_commit(repository: Path, articles: Path, tmp_path: Path) -> None:
    git("add", "docs", cwd=repository)
    git("commit", "-q", "-m", "first", cwd=repository)
    (articles / "004.txt").write_text(article_text(**sample_fields(4, title="Changed headline")), encoding="utf-8")
    feedpub("export", articles, "--out", repository / "docs", "--base-url", BASE, cwd=tmp_path)
    status = git("status", "--porcelain", cwd=repository).splitlines()
    changed = {line[3:] for line in status}
    assert "docs/feeds/all.rss" in changed and "docs/feeds/providers/news1.example.com.rss" in changed
    assert "docs/feeds/providers/news0.example.com.rss" not in changed and "docs/_headers" not in changed
    assert all(line.startswith(" M ") for line in status), status  # modified in place: no file came or went


def test_a_checkout_is_exported_into_again(repository: Path, articles: Path, tmp_path: Path) -> None:
    """A CI job clones the repository (no cache, every mtime new) and exports into `docs/` again."""
    git("add", "docs", cwd=repository)
    git("commit", "-q", "-m", "first", cwd=repository)
    clone = tmp_path / "clone"
    git("clone", "-q", repository, clone, cwd=tmp_path)
    (clone / "docs" / "CNAME").write_text("news.example.com\n")
    env_cache = tmp_path / "fresh-cache"
    result = subprocess.run([sys.executable, "-m", "feedpub", "export", str(articles), "--out", str(clone / "docs"),
                             "--base-url", BASE, "--cache-dir", str(env_cache)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert git("status", "--porcelain", cwd=clone).splitlines() == ["?? docs/CNAME"]  # the host's file is kept


def test_tar_and_cp_copy_the_files(tmp_path: Path, articles: Path) -> None:
    out = tmp_path / "site"
    feedpub("export", articles, "--out", out, "--base-url", BASE, cwd=tmp_path)
    (articles / "004.txt").write_text(article_text(**sample_fields(4, title="Changed headline")), encoding="utf-8")
    feedpub("export", articles, "--out", out, "--base-url", BASE, cwd=tmp_path)  # an export over an export
    expected = files(out)
    assert len(expected) > 20

    subprocess.run(["tar", "-cf", tmp_path / "site.tar", "-C", tmp_path, "site"], check=True, timeout=60)
    (tmp_path / "untarred").mkdir()
    subprocess.run(["tar", "-xf", tmp_path / "site.tar", "-C", tmp_path / "untarred"], check=True, timeout=60)
    assert files(tmp_path / "untarred" / "site") == expected

    for flags, name in ((["-r"], "copied"), (["-a"], "archived")):
        subprocess.run(["cp", *flags, out, tmp_path / name], check=True, timeout=60)
        assert files(tmp_path / name) == expected
    shutil.rmtree(tmp_path / "copied")
    subprocess.run(["cp", "-r", f"{out}/.", tmp_path / "copied"], check=True, timeout=60)  # the contents, as CI does
    assert files(tmp_path / "copied") == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archived", "articles", "copied", "site", "site.tar",
                                                          "untarred"]
