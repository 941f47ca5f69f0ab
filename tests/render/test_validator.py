"""Every RSS and Atom file of an export, through the W3C feed validator, warnings included.

The validator is not a project dependency and is not available in CI: these tests run only when
the environment variable FEEDVALIDATOR names the `validate-feed` script, e.g.

    FEEDVALIDATOR=/work/tools/validate-feed pytest tests/test_validator.py

The script prints `PATH: OK` or one line per message and exits 1 on an error (with `--strict`, on
a warning too). Files are written under a folder by site path and validated as if served from
BASE_URL, so `rel="self"` must match the document's own URL.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feedpub.build import Build
from feedpub.settings import Settings, WebSubSettings
from tests.helpers import SEEDS, article_text, loaded, sample_fields

VALIDATOR = os.environ.get("FEEDVALIDATOR", "")
BASE_URL = "http://127.0.0.1:8000"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
TYPES = {".rss": "application/rss+xml; charset=utf-8", ".atom": "application/atom+xml; charset=utf-8"}

pytestmark = pytest.mark.skipif(
    not (VALIDATOR and os.path.isfile(VALIDATOR) and os.access(VALIDATOR, os.X_OK)),
    reason="W3C feed validator not configured: set FEEDVALIDATOR to the validate-feed script to run it",
)


def tricky_articles() -> dict[str, dict[str, Any]]:
    """Seeds-like articles with everything that has tripped feeds up: markup, entities, unicode, gaps."""
    files = {f"{n:03d}.txt": sample_fields(n) for n in range(9)}
    files["markup.txt"] = sample_fields(
        20,
        title="<script>alert(1)</script> <b>bold</b> ]]> &amp; &#8217; \"double\" 'single' שלום 🎉",
        excerpt="<i>Italic</i> excerpt &amp;amp; <script>x</script> مرحبا 😀 ]]>",
        topics=["Künstliche Intelligenz", "人工知能", "C++", "C", "C#", "AI", "A.I.", "ai", "R&D <Labs>", "&copy; Zone"],
        images=[],
        related=[
            {"title": "Related <i>one</i>", "webUrl": "https://other.example.net/r/1",
             "provider": {"name": "Other & Co", "domain": "other.example.net"}},
            {"title": "Related again", "webUrl": "https://other.example.net/r/1"},
            {"title": "Related two", "webUrl": "https://other.example.net/r/2?a=1&b=2"},
        ],
    )
    files["plain-amp.txt"] = sample_fields(21, title="AT&T, R&D and Q&A: 1 < 2 > 0", excerpt="Tom & Jerry < cats",
                                            provider={"name": "Smith & Sons <News>", "domain": "smith.example.org"})
    files["entity-like.txt"] = sample_fields(22, title="Use &amp;lt; for < and &#38; for &", excerpt="&copy; 2026")
    files["offset.txt"] = sample_fields(23, publishedDateTime="2026-01-15T15:00:00+05:30", topics=["Здоровье"])
    files["date-only.txt"] = sample_fields(24, publishedDateTime="2026-01-10", images=[{"url": "https://img.example.com/x.jpg"}])
    files["no-extras.txt"] = sample_fields(25, excerpt="", images=None, topics=None, related=None)
    files["unicode-url.txt"] = sample_fields(26, webUrl="https://例え.jp/記事/1?q=ü", originalUrl="https://例え.jp/記事/1")
    files["long.txt"] = sample_fields(27, title="Long " * 200, excerpt="word " * 1000)
    files["draft.txt"] = sample_fields(28, published=False)
    return files


def export(folder: Path, out: Path, settings: Settings | None = None) -> list[Path]:
    site = loaded(Build(folder, settings or Settings(base_url=BASE_URL)), now=NOW)
    feeds = []
    for path, output in site.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(output.body)
        if target.suffix in TYPES:
            feeds.append(target)
    return sorted(feeds)


# RSS titles are plain text, as the RSS Board's profile says (issue 16): a title that reads
# `<em>(video)</em>` is written `&#x3C;em&#x3E;(video)…`, which plain-text readers (newsboat) show as
# typed. The validator's heuristic warns about any title whose text looks like a tag (ContainsHTML),
# though this is the profile's own encoding. That warning, on an RSS item's title, is the one allowed.
PLAIN_TEXT_TITLE = "warning: ContainsHTML {'parent': 'item', 'element': 'title',"


def validate(out: Path, files: list[Path], *ignore: str) -> None:
    assert files
    for suffix, media_type in TYPES.items():
        chosen = [str(f) for f in files if f.suffix == suffix]
        args = [VALIDATOR, "--strict", "--base-url", BASE_URL + "/", "--root", str(out), "--content-type", media_type]
        args += [f"--ignore={name}" for name in ignore]
        result = subprocess.run([*args, *chosen], capture_output=True, text=True, timeout=300)
        lines = result.stdout.splitlines()
        allowed = [line for line in lines if suffix == ".rss" and PLAIN_TEXT_TITLE in line]
        problems = [line for line in lines if not line.endswith(": OK") and line not in allowed]
        assert not problems and (result.returncode == 0 or allowed), "\n".join(problems) + result.stderr
        checked = {line.rsplit(": ", 1)[0] for line in lines if line.endswith(": OK")}
        checked |= {line.split(": warning: ", 1)[0] for line in allowed}
        assert checked == set(chosen)


def test_tricky_articles_validate(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, fields in tricky_articles().items():
        (folder / name).write_text(article_text(**fields), encoding="utf-8")
    out = tmp_path / "site"
    files = export(folder, out)
    assert any("人工知能" in f.name for f in files)
    validate(out, files)


def test_topic_with_end_tag_in_rss_category(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(article_text(**sample_fields(0, topics=["<b>Tag</b> & Co"])), encoding="utf-8")
    out = tmp_path / "site"
    validate(out, export(folder, out))


def test_seeds_validate(tmp_path: Path) -> None:
    if not SEEDS.is_dir() or not any(SEEDS.glob("*.txt")):
        pytest.skip(f"no bundled articles in {SEEDS} yet")
    out = tmp_path / "site"
    # Articles published in the same second (date-only inputs) share atom:updated; the validator's
    # DuplicateUpdated is advice ("no action is necessary" when they were), not a fault of the feed.
    validate(out, export(SEEDS, out), "DuplicateUpdated")


def test_feeds_with_hub_links_validate(tmp_path: Path) -> None:
    """WebSub: the built-in hub and an outside one in every subscription document (atom:link rel="hub"),
    archive documents beside them, and the tricky articles."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, fields in tricky_articles().items():
        (folder / name).write_text(article_text(**fields), encoding="utf-8")
    websub = WebSubSettings(hubs=("https://pubsubhubbub.appspot.com/",), builtin=True)
    out = tmp_path / "site"
    files = export(folder, out, Settings(base_url=BASE_URL, limit=5, archive_size=5, websub=websub))
    hubs = [f for f in files if b'rel="hub"' in f.read_bytes()]
    assert any(f.suffix == ".rss" for f in hubs) and any(f.suffix == ".atom" for f in hubs)
    assert any("/archive/" in str(f) for f in files)
    # A feed with one archive document gives it neither a prev- nor a next-archive link (it has no
    # neighbour), which RFC 5005 allows and the validator warns about (ArchiveIncomplete, "add links
    # ... as appropriate"): a property of the archives, not of the hub links checked here.
    validate(out, files, "ArchiveIncomplete")


def test_filtered_feeds_validate(tmp_path: Path) -> None:
    """Filtered feeds (the live server's) too: their self links carry the canonical query."""
    from datetime import UTC, datetime

    from feedpub.catalog.query import parse_query
    from feedpub.render.filtered import FilterState

    folder = tmp_path / "articles"
    folder.mkdir()
    for name, fields in tricky_articles().items():
        (folder / name).write_text(article_text(**fields), encoding="utf-8")
    build = Build(folder, Settings(base_url=BASE_URL), filters=True)
    build.load(now=NOW)
    state = FilterState.of(build.catalog, build.builder, build.settings)
    out = tmp_path / "site"
    files = []
    for path in ("feeds/all.rss", "feeds/all.atom", "feeds/topics/world.rss", "feeds/topics/world.atom"):
        query = parse_query("filter=(?i)headline|number&min_quality=10&limit=30&utm=x", max_limit=200, default_limit=50)
        assert query is not None
        output, chosen = state.answer(path, query, now=datetime.now(UTC))
        assert chosen.entries
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(output.body)
        files.append(target)
    # Checked as files without the query their self links carry: that the two differ is no fault of
    # the feed, which the server answers at exactly its self link.
    validate(out, files, "DuplicateUpdated", "SelfDoesntMatchLocation")
