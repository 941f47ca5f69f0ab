"""The fields only the JSON API shows are read only when it is published (`everyday_api`): a build
without it neither cleans nor keeps them, and its parse cache is not shared with one that does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from feedpub.build import Build
from feedpub.reading.article import Article, Extras
from feedpub.reading.article_file import parse_article
from feedpub.settings import Settings
from feedpub.stores.keys import StoreKeys
from tests.helpers import article_text, sample_fields

SEED = Path(__file__).resolve().parents[2] / "seeds"


def test_without_the_api_the_extras_are_not_read_and_the_rest_is_the_same() -> None:
    files = sorted(SEED.glob("*.txt"))
    assert len(files) > 200
    for path in files:
        data = path.read_bytes()
        full = parse_article(data, source=path.name)
        lean = parse_article(data, source=path.name, extras=False)
        assert lean.article.extras == Extras()
        assert lean.warnings == full.warnings  # nothing in the extras warns or makes a file bad
        assert lean.article == _without_extras(full.article)
    assert all(parse_article(p.read_bytes()).article.extras != Extras() for p in files[:20])


def _without_extras(article: Article) -> Article:
    return replace(article, extras=Extras())


def test_a_build_reads_them_only_for_the_api_and_keeps_separate_parse_caches(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "a.md").write_text(article_text(**sample_fields(1, tags=["Tag one"])), "utf-8")
    for api in (False, True):
        build = Build(articles, Settings(base_url="https://feeds.example", everyday_api=api))
        build.load()
        (entry,) = build.library.good.values()
        article = build.library.articles_for([entry])[0][entry.digest]
        assert (article.extras.tags == ("Tag one",)) is api
    assert StoreKeys(Settings(everyday_api=True)).parses() != StoreKeys(Settings()).parses()
