"""What many tests share: small valid articles, the bundled seeds, a fixed clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feedpub.build import Build
from feedpub.reading.article import Article, Entry
from feedpub.reading.folder import Folder, Survey
from feedpub.reading.library import Library
from feedpub.reading.loader import Loader
from feedpub.render.fragments import FragmentRenderer
from feedpub.render.site import Site
from feedpub.server.published import Published, Resource

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
REFERENCE = SEEDS / "000_3f08816b81f43964.txt"

BASE_TIME = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def article_text(**fields: Any) -> str:
    """Front matter for an article; every value is written as JSON, which is valid YAML.

    A field given as None is left out entirely (use `yaml_null=True`-style raw text via
    `raw_article` when a literal `null` is wanted).
    """
    lines = ["---"]
    for key, value in fields.items():
        if value is None:
            continue
        lines.append(f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def sample_fields(n: int, **overrides: Any) -> dict[str, Any]:
    """A complete, valid article number `n`: distinct URL, descending dates (n=0 is newest)."""
    fields: dict[str, Any] = {
        "category": "news",
        "title": f"Headline number {n}",
        "excerpt": f"Summary of article {n}.",
        "publishedDateTime": (BASE_TIME - timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "originalUrl": f"https://news{n % 3}.example.com/story/{n}",
        "webUrl": f"https://news{n % 3}.example.com/story/{n}",
        "type": "article",
        "quality": 50,
        "heat": 1,
        "provider": {"name": f"News {n % 3}", "domain": f"news{n % 3}.example.com"},
        "topics": ["World", "Science"] if n % 2 else ["World"],
        "images": [{"url": f"https://img.example.com/{n}.jpg", "width": 800, "height": 600}],
        "secured": f"SECRET-BLOB-{n}",
    }
    fields.update(overrides)
    return fields


# -- a library on its own, and what only tests ask of it -------------------------------------

def library_of(root: Path, *, max_bytes: int | None = None, cache: Any = None, jobs: int = 1) -> Library:
    """A `Library` of the folder at `root`, reading through a parse cache when one is given."""
    folder = Folder(root) if max_bytes is None else Folder(root, max_bytes=max_bytes)
    return Library(Loader(folder, cache, jobs=jobs))


def full_article(library: Library, entry: Entry) -> Article:
    found, gone = library.articles_for([entry])
    assert not gone, gone
    return found[entry.digest]


def parsed(library: Library, rel: str) -> Article:
    """The last good article of one file."""
    return full_article(library, library.good[rel])


def article_at(library: Library, url: str) -> Article | None:
    """The published version of a URL, in full."""
    entry = library.entry(url)
    return None if entry is None else full_article(library, entry)


def all_articles(library: Library) -> list[Article]:
    """Every distinct article, by URL."""
    urls = sorted({entry.url for entry in library.good.values()})
    return [article for url in urls if (article := article_at(library, url)) is not None]


def survey(library: Library) -> Survey:
    return library.loader.folder.survey()


def loaded(build: Build, **options: Any) -> Site:
    """`build.load(...)`, for its site."""
    build.load(**options)
    return build.site


def fragments_of(build: Build) -> dict[str, FragmentRenderer]:
    """The build's item fragment renderers, by format name."""
    return {renderer.fmt.name: renderer for renderer in build.builder.fragments}


def held(published: Published, path: str) -> Resource:
    """A resource the server holds as bytes (a subscription document or page, not an archive one)."""
    resource = published.get(path)
    assert isinstance(resource, Resource), (path, resource)
    return resource
