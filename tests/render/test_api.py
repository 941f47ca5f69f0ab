"""The seed site's JSON API (`everyday_api`): its paths and shapes, against JSON written out by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feedpub.build import Build
from feedpub.render.site import Site
from feedpub.settings import Settings
from tests.helpers import article_text, loaded

BASE = "https://news.example.com"
SETTINGS = Settings(base_url=BASE, everyday_api=True, page_size=2, language="de")
NOW = datetime(2026, 2, 1, tzinfo=UTC)

FILES: dict[str, dict[str, Any]] = {
    "a.txt": {
        "category": "news", "title": "Full &amp; complete", "excerpt": "Every field there is.",
        "publishedDateTime": "2026-01-15T12:00:00Z", "updatedDateTime": "2026-01-15T13:30:00+01:00",
        "webUrl": "https://a.example.com/full", "originalUrl": "https://a.example.com/full?utm=x",
        "sourceUrl": "https://wire.example.net/1", "ampWebUrl": "https://a.example.com/amp/full",
        "cdnAmpWebUrl": "https://a-example-com.cdn.ampproject.org/c/s/a.example.com/amp/full",
        "featuredContent": '<iframe width="560" src="//www.youtube.com/embed/xyz?a=1&amp;b=2"></iframe>',
        "highlight": "A highlight", "type": "video", "quality": 55, "heat": -1, "tags": ["Tag one", ""],
        "images": [{"url": "https://img.example.com/1.jpg", "width": 800, "height": 600, "title": "A picture",
                    "attribution": "Someone", "isCached": True}, {"url": "not a url"}],
        "provider": {"name": "A Times", "domain": "www.A.example.com", "images": [{"url": "https://img.example.com/logo.png"}],
                     "publishers": ["A Group"], "authors": [{"name": "Ann Author"}]},
        "topics": ["AI", "Space"], "published": True, "secured": "SECRET-BLOB",
    },
    "b.txt": {"title": "Minimal", "publishedDateTime": "2026-01-15T11:00:00Z", "webUrl": "https://b.example.com/min",
              "provider": "B News", "topics": ["AI"], "heat": 2.5},
    "b-older.txt": {"title": "Minimal, an older crawl", "publishedDateTime": "2026-01-15T10:00:00Z",
                    "webUrl": "https://b.example.com/min", "provider": "B News", "topics": ["AI"]},
    "c.txt": {"title": "A draft", "publishedDateTime": "2026-01-15T12:30:00Z", "webUrl": "https://c.example.com/d",
              "published": False, "topics": ["AI"], "secured": "SECRET-DRAFT"},
    "e.txt": {"title": "Older", "publishedDateTime": "2026-01-14T09:00:00Z", "webUrl": "https://e.example.com/old",
              "provider": {"name": "E", "domain": "e.example.com"}, "topics": ["Space"],
              "featuredContent": "<script>alert(1)</script>"},
}

FULL = {
    "path": "a.txt", "title": "Full & complete", "excerpt": "Every field there is.",
    "sourceUrl": "https://wire.example.net/1", "webUrl": "https://a.example.com/full",
    "originalUrl": "https://a.example.com/full?utm=x", "featuredContent": "https://www.youtube.com/embed/xyz?a=1&b=2",
    "highlight": "A highlight", "heat": -1, "tags": ["Tag one"],
    "images": [{"url": "https://img.example.com/1.jpg", "width": 800, "height": 600, "title": "A picture",
                "attribution": "Someone", "isCached": True}],
    "content": "", "type": "video", "ampWebUrl": "https://a.example.com/amp/full",
    "cdnAmpWebUrl": "https://a-example-com.cdn.ampproject.org/c/s/a.example.com/amp/full",
    "publishedDateTime": "2026-01-15T12:00:00Z", "updatedDateTime": "2026-01-15T12:30:00Z",
    "provider": {"name": "A Times", "domain": "a.example.com",
                 "images": [{"url": "https://img.example.com/logo.png", "width": None, "height": None, "title": None,
                             "attribution": None, "isCached": None}],
                 "publishers": ["A Group"], "authors": ["Ann Author"]},
    "locale": "de", "categories": ["news"], "topics": ["AI", "Space"],
}
MINIMAL = {
    "path": "b.txt", "title": "Minimal", "excerpt": None, "sourceUrl": None, "webUrl": "https://b.example.com/min",
    "originalUrl": None, "featuredContent": None, "highlight": None, "heat": 2.5, "tags": None, "images": None,
    "content": "", "type": None, "ampWebUrl": None, "cdnAmpWebUrl": None, "publishedDateTime": "2026-01-15T11:00:00Z",
    "updatedDateTime": None, "provider": {"name": "B News", "domain": "b.example.com", "images": None,
                                          "publishers": None, "authors": None},
    "locale": "de", "categories": None, "topics": ["AI"],
}
OLDER = {
    "path": "e.txt", "title": "Older", "excerpt": None, "sourceUrl": None, "webUrl": "https://e.example.com/old",
    "originalUrl": None, "featuredContent": None, "highlight": None, "heat": None, "tags": None, "images": None,
    "content": "", "type": None, "ampWebUrl": None, "cdnAmpWebUrl": None, "publishedDateTime": "2026-01-14T09:00:00Z",
    "updatedDateTime": None, "provider": {"name": "E", "domain": "e.example.com", "images": None, "publishers": None,
                                          "authors": None},
    "locale": "de", "categories": None, "topics": ["Space"],
}


@pytest.fixture
def site(tmp_path: Path) -> Site:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, fields in FILES.items():
        (folder / name).write_text(article_text(**fields), encoding="utf-8")
    return loaded(Build(folder, SETTINGS), now=NOW)


def page(site: Site, path: str) -> Any:
    return json.loads(site[path].body)


def test_the_news_of_everything_in_pages_newest_first_one_item_per_url(site: Site) -> None:
    assert page(site, "api/news/index.json") == {"page": 1, "value": [FULL, MINIMAL], "nextPage": 2}
    assert site["api/news/index.json"].body == site["api/news/page/1/index.json"].body
    assert page(site, "api/news/page/2/index.json") == {"page": 2, "value": [OLDER], "nextPage": None}
    assert "api/news/page/3/index.json" not in site


def test_the_news_of_each_topic(site: Site) -> None:
    assert page(site, "api/news/ai/index.json") == {"page": 1, "value": [FULL, MINIMAL], "nextPage": None}
    assert page(site, "api/news/space/index.json") == {"page": 1, "value": [FULL, OLDER], "nextPage": None}
    assert page(site, "api/news/space/page/1/index.json") == page(site, "api/news/space/index.json")


def test_the_topics_sorted_by_id_with_their_endpoints(site: Site) -> None:
    assert page(site, "api/topics/index.json") == {"value": [
        {"name": "AI", "shortname": "AI", "id": "ai",
         "services": [{"name": "news", "endpoint": f"{BASE}/api/news/ai/"}]},
        {"name": "Space", "shortname": "Space", "id": "space",
         "services": [{"name": "news", "endpoint": f"{BASE}/api/news/space/"}]},
    ]}


def test_no_draft_score_flag_or_secret_ever_shows(site: Site) -> None:
    every = b"".join(site[path].body for path in site if path.startswith("api/"))
    for hidden in (b"SECRET", b"quality", b'"published"', b"A draft", b"<script", b"<iframe"):
        assert hidden not in every, hidden
    assert all(site[path].media_type == "application/json; charset=utf-8" for path in site if path.startswith("api/"))


def test_an_empty_site_has_an_empty_first_page(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    empty = loaded(Build(folder, SETTINGS), now=NOW)
    assert page(empty, "api/news/index.json") == {"page": 1, "value": [], "nextPage": None}
    assert page(empty, "api/topics/index.json") == {"value": []}


def test_off_by_default(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "b.txt").write_text(article_text(**FILES["b.txt"]), encoding="utf-8")
    assert not any(path.startswith("api/") for path in loaded(Build(folder, Settings()), now=NOW))


def test_a_change_pages_again_from_rendered_items_and_equals_a_fresh_build(tmp_path: Path) -> None:
    from tests.helpers import fragments_of

    folder = tmp_path / "articles"
    folder.mkdir()
    for name, fields in FILES.items():
        (folder / name).write_text(article_text(**fields), encoding="utf-8")
    build = Build(folder, SETTINGS, cache_dir=tmp_path / "cache")
    build.load(now=NOW)
    (folder / "n.txt").write_text(article_text(title="Newest", publishedDateTime="2026-01-20T00:00:00Z",
                                               webUrl="https://n.example.com/1", topics=["Space"]), encoding="utf-8")
    before = {renderer.fmt.name: renderer.rendered_items for renderer in fragments_of(build).values()}
    build.refresh(["n.txt"], now=NOW)
    after = {renderer.fmt.name: renderer.rendered_items for renderer in fragments_of(build).values()}
    assert all(after[name] - before[name] == 1 for name in after)  # only the new article's items
    assert [item["title"] for item in page(build.site, "api/news/index.json")["value"]] == ["Newest", "Full & complete"]
    fresh = loaded(Build(folder, SETTINGS), now=NOW)
    api = sorted(path for path in fresh if path.startswith("api/"))
    assert api == sorted(path for path in build.site if path.startswith("api/"))
    assert all(build.site[path].body == fresh[path].body and build.site[path].etag == fresh[path].etag
               for path in api)
