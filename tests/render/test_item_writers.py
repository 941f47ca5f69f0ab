"""The direct RSS and Atom item writers (feeds/render/items.py) write feedgen's bytes exactly.

feedgen is the reference: each item is compared with the one cut from the whole document
`render_rss`/`render_atom` write for the same articles. Beyond these tests, every item any test of
the suite renders is compared the same way (`item_writer_audit` in conftest.py).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedpub import accelerators
from feedpub.build import Build
from feedpub.corpus import generate
from feedpub.reading.article import Article, Image, Provider, Related
from feedpub.render import items
from feedpub.render.formats import ATOM, RSS, Format
from feedpub.settings import Settings
from tests.helpers import SEEDS, all_articles
from tests.render.item_checks import differences
from tests.test_properties import PIECES, article_files

SETTINGS = Settings(base_url="https://news.example.com")
WRITERS = [RSS, ATOM]


def articles_of(folder: Path, settings: Settings = SETTINGS) -> tuple[Build, list[Article]]:
    build = Build(folder, settings)
    build.load()
    return build, all_articles(build.library)


def articles_of_files(files: list[bytes]) -> tuple[Build, list[Article]]:
    """The articles of these file contents, read as a folder of them would be."""
    with tempfile.TemporaryDirectory() as folder:
        for n, data in enumerate(files):
            (Path(folder) / f"{n:03d}.txt").write_bytes(data)
        return articles_of(Path(folder))


@pytest.mark.parametrize("fmt", WRITERS, ids=lambda fmt: fmt.name)
def test_every_seed_article_s_item_is_feedgen_s(fmt: Format) -> None:
    build, articles = articles_of(SEEDS)
    assert len(articles) > 200
    assert differences(fmt, build.builder._template, articles) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_generated_article_s_items_are_feedgen_s(tmp_path: Path, seed: int) -> None:
    generate(tmp_path / "corpus", 300, seed=seed)
    build, articles = articles_of(tmp_path / "corpus", Settings(base_url="https://example.org/news/", language="de"))
    assert len(articles) > 250
    for fmt in WRITERS:
        assert differences(fmt, build.builder._template, articles) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(article_files())
def test_the_robustness_tests_awkward_texts_as_read_give_feedgen_s_items(files: list[bytes]) -> None:
    build, articles = articles_of_files(files)
    for fmt in WRITERS:
        assert differences(fmt, build.builder._template, articles) == []


# Texts as an Article may hold them after reading: no character XML forbids (text.py removes them),
# everything else, markup and entities included, quotes and line breaks for attributes.
_XML_SAFE = [piece for piece in PIECES if not any(
    ch in piece for ch in "\x00\x08\x1b\x7f\ufffe\uffff") and not any("\ud800" <= ch <= "\udfff" for ch in piece)]
TEXT = st.lists(st.sampled_from([*_XML_SAFE, "&quot;", '"', "\r", "\t", "é", "x"]), min_size=1, max_size=6).map("".join)
URL = st.builds(lambda path, query: f"https://a.example.com/{path}?{query}",
                st.sampled_from(["x", "a&b", 'q"t', "<p>", "é"]), st.sampled_from(["", "a=1&b=2", "x=<y>"]))
WHEN = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@st.composite
def raw_articles(draw: st.DrawFn) -> Article:
    image = draw(st.one_of(st.none(), st.builds(Image, URL, st.sampled_from([None, 0, 640]),
                                                 st.sampled_from([None, 0, 480]))))
    related = draw(st.lists(st.builds(Related, TEXT, URL, st.sampled_from(["", "Other & Co"]), WHEN), max_size=2))
    return Article(url=draw(URL), title=draw(TEXT), summary=draw(st.one_of(st.just(""), TEXT)),
                   published=draw(WHEN), provider=Provider(name=draw(TEXT), domain=draw(st.sampled_from(
                       ["example.com", "münchen.de", "a-b.example"]))),
                   topics=tuple(dict.fromkeys(draw(st.lists(TEXT, max_size=3)))), image=image,
                   related=tuple(related), category="news", kind="article", quality=None, heat=None,
                   draft=False, source="x.txt")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_articles(), min_size=1, max_size=3))
def test_awkward_articles_built_directly_give_feedgen_s_items(articles: list[Article]) -> None:
    build = Build(SEEDS, SETTINGS)
    template = build.builder._template
    for fmt in WRITERS:
        assert differences(fmt, template, articles) == []


def test_dates_before_the_year_1000_are_left_to_feedgen_s_formatter() -> None:
    early = datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert items.rfc2822(early) == "Tue, 31 Dec 999 23:59:59 +0000"
    assert items.rfc2822(early + timedelta(seconds=1)) == "Wed, 01 Jan 1000 00:00:00 +0000"


def test_switched_off_items_are_cut_from_feedgen_s_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    build, articles = articles_of(SEEDS)
    monkeypatch.setenv(accelerators.SWITCH, "0")
    called: list[str] = []

    def content_html(article: Article) -> str:
        called.append(article.url)
        return ""

    monkeypatch.setattr(items, "content_html", content_html)
    made = RSS.items(build.builder._template, articles[:3])
    assert called == [] and made == RSS.cut_items(build.builder._template, articles[:3])
