"""The site's paths are in sorted order after every build: a load, an edit (which keeps the last
site's order without sorting again), and changes that add or drop paths (a new topic, a new archive
document, a topic gone), each checked against a fresh build of the same folder."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from feedpub.build import Build
from feedpub.settings import Settings
from tests.helpers import BASE_TIME, article_text, sample_fields

NOW = BASE_TIME + timedelta(days=2)
SETTINGS = Settings(base_url="https://feeds.example.org", limit=3, archive_size=2)


def write(root: Path, n: int, **fields: object) -> None:
    (root / f"a{n:02d}.md").write_text(article_text(**sample_fields(n, **fields)))


def check(build: Build, root: Path) -> list[str]:
    paths = list(build.site)
    assert paths == sorted(paths)
    fresh = Build(root, SETTINGS)
    fresh.load(now=NOW)
    assert paths == list(fresh.site)
    assert all(build.site[path].body == fresh.site[path].body for path in paths)
    return paths


def test_every_rebuild_keeps_the_paths_sorted(tmp_path: Path) -> None:
    for n in range(6):
        write(tmp_path, n)
    build = Build(tmp_path, SETTINGS)
    build.load(now=NOW)
    first = check(build, tmp_path)

    write(tmp_path, 2, title="Edited headline")  # an edit: the same paths
    build.refresh(["a02.md"], now=NOW)
    assert check(build, tmp_path) == first

    write(tmp_path, 6, topics=["Zoology", "Art"])  # two new topics, and one more archive document
    build.refresh(["a06.md"], now=NOW)
    grown = check(build, tmp_path)
    assert len(grown) > len(first) and any("art" in path for path in grown) and any("zoology" in path for path in grown)

    (tmp_path / "a06.md").unlink()  # the topics go again
    build.refresh(["a06.md"], now=NOW)
    assert check(build, tmp_path) == first
