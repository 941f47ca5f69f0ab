"""The C item writer (feeds/render/_items.c) writes the Python writers' bytes, and feedgen's.

Every kind it writes (RSS items, Atom entries, JSON Feed items, feed pages' items) is compared with the
Python writer (`Format.python_items`), and RSS and Atom with the item cut from feedgen's document too,
for the seeds, generated corpora, the robustness tests' awkward texts, random articles and the edge
cases on both sides of what it leaves to Python. Beyond these tests, every item any test renders is
checked the same way (`item_writer_audit` in conftest.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedpub import accelerators
from feedpub.catalog.catalog import ALL, FeedSpec
from feedpub.corpus import generate
from feedpub.reading.article import Article, Image, Provider, Related
from feedpub.reading.article_file import ParsedFile
from feedpub.render import fast_items
from feedpub.render.feed import Feed
from feedpub.render.feed_pages import PAGE
from feedpub.render.formats import ATOM, FORMATS, JSON_FEED, RSS, Format
from feedpub.render.fragments import Spooled, appending_workers, render_chunk
from feedpub.render.site import make_feed
from feedpub.settings import Settings
from feedpub.stores.fragment_spool import FragmentSpool
from feedpub.stores.packing import article_from, article_values
from feedpub.stores.parse_cache import pack_outcome
from tests.helpers import SEEDS
from tests.render.item_checks import differences
from tests.render.test_item_writers import articles_of, articles_of_files, raw_articles
from tests.test_properties import article_files

pytestmark = pytest.mark.skipif(not fast_items.available(), reason="the C item writer is not built here")

KINDS = [*FORMATS, PAGE]
SETTINGS = Settings(base_url="https://news.example.com")


def template_of(settings: Settings = SETTINGS) -> Feed:
    return make_feed(FeedSpec(kind=ALL, key=ALL, name="", items=(), total=0), settings)


def mismatches(template: Feed, articles: list[Article]) -> list[str]:
    """Every item the C writer wrote that differs from the Python writer's, or from feedgen's."""
    found = []
    for fmt in KINDS:
        written = fast_items.write(fmt.name, template, articles)
        assert written is not None
        python = fmt.python_items(template, articles)
        found += [f"{fmt.name} {a.url!r}\n  C:      {ours!r}\n  Python: {theirs!r}"
                  for a, ours, theirs in zip(articles, written, python, strict=True)
                  if ours is not None and ours != theirs]
        if fmt.write_item is not None:  # RSS and Atom: what Format.items gives is feedgen's
            found += differences(fmt, template, articles, fmt.items(template, articles))
    return found


def left_to_python(template: Feed, articles: list[Article]) -> dict[str, int]:
    counts = {}
    for fmt in KINDS:
        written = fast_items.write(fmt.name, template, articles)
        assert written is not None
        counts[fmt.name] = sum(piece is None for piece in written)
    return counts


def test_every_seed_article_is_written_in_c_as_python_and_feedgen_write_it() -> None:
    build, articles = articles_of(SEEDS)
    assert len(articles) > 200
    assert mismatches(build.builder._template, articles) == []
    assert left_to_python(build.builder._template, articles) == {fmt.name: 0 for fmt in KINDS}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_generated_article_is_written_in_c_as_python_writes_it(tmp_path: Path, seed: int) -> None:
    generate(tmp_path / "corpus", 300, seed=seed)
    settings = Settings(base_url="https://example.org/news/", language="de")
    _, articles = articles_of(tmp_path / "corpus", settings)
    assert len(articles) > 250
    assert mismatches(template_of(settings), articles) == []
    assert left_to_python(template_of(settings), articles) == {fmt.name: 0 for fmt in KINDS}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(article_files())
def test_the_robustness_tests_awkward_texts_as_read_are_written_as_python_writes_them(files: list[bytes]) -> None:
    build, articles = articles_of_files(files)
    assert mismatches(build.builder._template, articles) == []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_articles(), min_size=1, max_size=3))
def test_awkward_articles_built_directly_are_written_as_python_writes_them(articles: list[Article]) -> None:
    assert mismatches(template_of(), articles) == []


BASE = Article(url="https://a.example.com/story?x=1&y=2", title="A title", summary="An excerpt",
               published=datetime(2024, 2, 29, 23, 5, 9, tzinfo=UTC),
               provider=Provider(name="Example News", domain="a.example.com"), topics=("AI", "Science"),
               image=Image("https://img.example.com/a.jpg", 640, 480),
               related=(Related("Other", "https://b.example.com/1", "B News"),), source="x.txt")

ALL_KINDS = {fmt.name for fmt in KINDS}

# (what differs from BASE, the kinds the C writer leaves to Python)
EDGES: list[tuple[dict[str, object], set[str]]] = [
    ({}, set()),
    ({"summary": ""}, set()),
    ({"topics": ()}, set()),
    ({"image": None}, set()),
    ({"related": ()}, set()),
    ({"image": Image("https://img.example.com/a.jpg")}, set()),
    ({"image": Image("https://img.example.com/a.jpg", 0, 0)}, set()),
    ({"image": Image("", 10, None)}, set()),  # an empty URL: feedgen skips the attribute, the thumbnail keeps it
    ({"image": Image("https://i.example.com/x.jpg?a=1&b=\"2\"", -5, 2**40)}, set()),
    ({"image": Image("https://i.example.com/x.jpg", 2**70, 1)}, ALL_KINDS),  # beyond C's ints
    ({"image": Image("https://i.example.com/x.jpg", True, 1)}, ALL_KINDS),  # not an int
    ({"title": "</b> & <i>", "summary": "AT&T &amp; a < b"}, set()),
    ({"title": "AT&T", "summary": "&nbsp; &#8217 &bogus;"}, set()),
    ({"title": "line\r\nbreak\ttab \x7f \x85 \u2028\u2029", "summary": "\r\n \t"}, set()),
    ({"title": 'quotes " and \' and \\ and \\u0000', "summary": "{{x}} %s %d"}, set()),
    ({"title": "שלום 😀 👨‍👩‍👧 e\u0301 \ufeff"}, set()),
    ({"title": "lone \ud800 surrogate"}, ALL_KINDS),  # not UTF-8: Python's to refuse
    ({"published": datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)}, set()),
    ({"published": datetime(1000, 1, 1, tzinfo=UTC)}, set()),
    ({"published": datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)}, set()),
    ({"published": datetime(1970, 1, 1, tzinfo=UTC)}, set()),
    ({"published": datetime(1969, 12, 31, tzinfo=UTC)}, set()),
    ({"published": datetime(1900, 3, 1, tzinfo=UTC)}, set()),
    ({"published": datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)}, ALL_KINDS),
    ({"published": datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))}, ALL_KINDS),
    ({"provider": Provider(name="München & Co", domain="münchen.de")}, {"rss"}),  # quote() changes it
    ({"provider": Provider(name="x", domain="a b.example")}, {"rss"}),
    ({"provider": Provider(name="x", domain="a_b-c~d.example/")}, set()),  # quote() keeps these
    ({"related": (Related("T<i>", "https://b.example.com/?a=1&b=2", ""),
                  Related("", "https://c.example.com/", "C & D", datetime(2020, 1, 1, tzinfo=UTC)))}, set()),
    ({"topics": ("a&b", "<c>", 'd"e', "f\rg")}, set()),
]


@pytest.mark.parametrize(("change", "left"), EDGES, ids=lambda value: repr(value)[:60])
def test_edge_cases_are_written_as_python_writes_them_or_left_to_it(change: dict[str, object], left: set[str]) -> None:
    article = replace(BASE, **change)  # type: ignore[arg-type]  # the fields of an Article
    template = template_of()
    counts = left_to_python(template, [article])
    assert {name for name, count in counts.items() if count} == left
    if "lone \ud800 surrogate" in article.title:
        return  # no writer can encode it: the Python writer raises, as before
    assert mismatches(template, [article]) == []
    for fmt in KINDS:  # what Format.items gives is whole either way
        assert fmt.items(template, [article]) == fmt.python_items(template, [article])


def test_json_escapes_every_control_character_as_json_dumps_does() -> None:
    # No article holds these (text.py removes what XML forbids, and feedgen refuses them), but a JSON
    # string must escape them as json.dumps does, whatever it holds.
    odd = "".join(chr(c) for c in range(32)) + "\x7f \\ \" </script> &amp; \u2028"
    article = replace(BASE, title=odd, summary=odd, topics=(odd,),
                      provider=Provider(name=odd, domain="a.example.com"))
    for fmt in (JSON_FEED, PAGE):
        written = fast_items.write(fmt.name, template_of(), [article])
        assert written == fmt.python_items(template_of(), [article])


def test_items_mixed_with_ones_left_to_python_keep_their_order() -> None:
    early = replace(BASE, url="https://a.example.com/early", published=datetime(999, 1, 1, tzinfo=UTC))
    later = replace(BASE, url="https://a.example.com/later")
    articles = [BASE, early, later, early, BASE]
    template = template_of()
    for fmt in KINDS:
        written = fast_items.write(fmt.name, template, articles)
        assert written is not None and [piece is None for piece in written] == [False, True, False, True, False]
        assert fmt.items(template, articles) == fmt.python_items(template, articles)


def test_something_that_is_not_an_article_is_left_to_python() -> None:
    assert fast_items.write(RSS.name, template_of(), [object()]) == [None]  # type: ignore[list-item]


def test_switched_off_nothing_is_written_in_c(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(accelerators.SWITCH, "0")
    assert not fast_items.available()
    assert fast_items.write(ATOM.name, template_of(), [BASE]) is None
    template = template_of()
    for fmt in (RSS, ATOM):  # cut from feedgen's documents, as without the writers
        assert fmt.items(template, [BASE]) == fmt.cut_items(template, [BASE])
    assert JSON_FEED.items(template, [BASE]) == JSON_FEED.python_items(template, [BASE])


def test_an_unknown_format_is_not_written_in_c() -> None:
    unknown = Format("text", ".txt", "text/plain", "Text", lambda feed, items: b"")
    assert fast_items.write(unknown.name, template_of(), [BASE]) is None


# -- from the stored values: what a render worker is sent ----------------------------------------------


def from_values_mismatches(template: Feed, articles: list[Article]) -> list[str]:
    """Every item written from an article's stored values that differs from the Python writer's item of
    the article those values make (`packing.article_from`: what the worker would otherwise render)."""
    values = [article_values(article) for article in articles]
    found = []
    for fmt in KINDS:
        written = fast_items.write_values(fmt.name, template, values)
        assert written is not None
        for value, piece in zip(values, written, strict=True):
            if piece is not None and [piece] != fmt.python_items(template, [article_from(value)]):
                found.append(f"{fmt.name} {value[0]!r}: {piece!r}")
    return found


def test_every_seed_article_s_stored_values_give_its_items() -> None:
    build, articles = articles_of(SEEDS)
    template = build.builder._template
    assert from_values_mismatches(template, articles) == []
    values = [article_values(article) for article in articles]
    for fmt in KINDS:
        assert fast_items.write_values(fmt.name, template, values) == fast_items.write(fmt.name, template, articles)


@pytest.mark.parametrize("seed", [1, 5])
def test_a_generated_corpus_s_stored_values_give_its_items(tmp_path: Path, seed: int) -> None:
    generate(tmp_path / "corpus", 300, seed=seed)
    _, articles = articles_of(tmp_path / "corpus")
    assert from_values_mismatches(template_of(), articles) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_articles(), min_size=1, max_size=3))
def test_awkward_articles_stored_values_give_their_items(articles: list[Article]) -> None:
    assert from_values_mismatches(template_of(), articles) == []


@pytest.mark.parametrize(("change", "left"), EDGES, ids=lambda value: repr(value)[:60])
def test_edge_cases_stored_values_give_their_items(change: dict[str, object], left: set[str]) -> None:
    article = replace(BASE, **change)  # type: ignore[arg-type]  # the fields of an Article
    if "lone \ud800 surrogate" in article.title:
        assert all(fast_items.write_values(fmt.name, template_of(), [article_values(article)]) == [None]
                   for fmt in KINDS)
        return
    assert from_values_mismatches(template_of(), [article]) == []


def _with(index: int, value: object) -> tuple[object, ...]:
    values = list(article_values(BASE))
    values[index] = value
    return tuple(values)


@pytest.mark.parametrize("values", [
    _with(0, 5), _with(1, b"bytes"), _with(3, "2024-01-01"), _with(3, True), _with(3, 10**20), _with(3, -(10**17)),
    _with(6, ["a list"]), _with(6, ("AI", 3)), _with(7, ("u", True, None)), _with(7, ("u", 1)), _with(7, ("u", 1.5, 2)),
    _with(8, (("t", "u", "p", "when"),)), _with(8, (("t", "u", "p"),)), _with(8, (("t", "u", "p", 10**19),)),
    _with(9, None), _with(11, 1), _with(12, "hot"), _with(13, 0), _with(14, None),
    _with(15, ("anything",)),  # the JSON API's fields: the Python path checks and shows them
    article_values(BASE)[:15], [*article_values(BASE)], "not values",
], ids=lambda values: repr(values)[:50])
def test_values_article_from_would_refuse_or_with_api_fields_are_left_to_python(values: object) -> None:
    for fmt in KINDS:
        assert fast_items.write_values(fmt.name, template_of(), [values]) == [None]  # type: ignore[list-item]


def test_dates_at_the_ends_of_what_datetime_holds_are_written_or_left_to_python() -> None:
    for when, written in [(datetime(1000, 1, 1, tzinfo=UTC), True), (datetime(999, 12, 31, 23, 59, tzinfo=UTC), False),
                          (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), True),
                          (datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC), True)]:
        values = article_values(replace(BASE, published=when))
        for fmt in KINDS:
            made = fast_items.write_values(fmt.name, template_of(), [values])
            assert made is not None and (made[0] is not None) == written
            if written:
                assert made == fmt.python_items(template_of(), [article_from(values)])


def test_a_packed_outcome_opens_to_its_values_and_nothing_else_does() -> None:
    good = ("a.txt", pack_outcome("a.txt", ParsedFile(BASE, ("a warning",))))
    assert fast_items.stored_values(good) == article_values(BASE)
    assert fast_items.stored_values(("b.txt", good[1])) is None  # sealed under another name
    assert fast_items.stored_values(("a.txt", good[1][:-1] + b"x")) is None  # damaged
    assert fast_items.stored_values(("a.txt", pack_outcome("a.txt", "a reason"))) is None  # a bad file's
    assert fast_items.stored_values(BASE) is None  # an Article: written as one


def worker_chunk(title: str) -> tuple[list[Article], list[Article | tuple[str, bytes]]]:
    """Three articles, packed as a render worker gets them, and a fourth held whole (the second again)."""
    early = replace(BASE, url="https://a.example.com/early", published=datetime(999, 1, 1, tzinfo=UTC))
    articles = [BASE, early, replace(BASE, url="https://a.example.com/b", title=title)]
    chunk: list[Article | tuple[str, bytes]] = [
        (f"{n}.txt", pack_outcome(f"{n}.txt", ParsedFile(article, ()))) for n, article in enumerate(articles)]
    chunk.append(early)
    return [*articles, early], chunk


def test_a_render_worker_s_chunk_is_what_format_items_gives_for_its_articles() -> None:
    articles, chunk = worker_chunk("</b>")
    made = render_chunk((template_of(), tuple(fmt.name for fmt in KINDS), chunk, None))
    assert isinstance(made, dict)
    for fmt in KINDS:
        assert made[fmt.name] == fmt.items(template_of(), articles)


def test_a_render_worker_writing_into_the_spool_reports_where_each_fragment_lies_and_the_held_ones_bytes() -> None:
    articles, chunk = worker_chunk("</b> & <c>")
    names = tuple(fmt.name for fmt in KINDS)
    spool = FragmentSpool()
    spool.put([("rss:before", b"before")])
    with spool.appending() as appender:
        assert appender is not None
        with appending_workers(appender):  # as a worker forked inside would
            made = render_chunk((template_of(), names, chunk, (1, 3)))
    assert isinstance(made, Spooled) and made.generation == spool.generation
    for fmt in KINDS:
        expected = fmt.items(template_of(), articles)
        keys = [f"{fmt.name}:{n}" for n in range(4)]
        assert spool.place(fmt.name, [str(n) for n in range(4)], made.places[fmt.name], made.generation)
        assert spool.get(keys) == dict(zip(keys, expected, strict=True))
        assert made.held[fmt.name] == [expected[1], expected[3]]
    assert spool.get(["rss:before"]) == {"rss:before": b"before"}
    assert render_chunk((template_of(), names, chunk, (1,))) == render_chunk((template_of(), names, chunk, None))
    spool.close()
