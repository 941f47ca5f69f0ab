"""The catalog: feed membership, order, limits, drafts, scheduling and slugs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedpub.catalog.catalog import ALL, EVERYTHING, PROVIDER, TOPIC, Catalog
from feedpub.catalog.slugs import assign_slugs, base_slug
from feedpub.reading.article import Article, Entry, Provider

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def make(n: int, *, topics: tuple[str, ...] = ("World",), domain: str = "a.example", hours: float | None = None,
         draft: bool = False, name: str | None = None) -> Entry:
    return Entry.of(Article(
        url=f"https://{domain}/{n}",
        title=f"Story {n}",
        summary="",
        published=NOW - timedelta(hours=n if hours is None else hours),
        provider=Provider(name or domain.upper(), domain),
        topics=topics,
        draft=draft,
    ))


def test_groups_are_everything_topics_then_providers_in_url_order() -> None:
    catalog = Catalog.build([make(1, topics=("Zed", "Alpha")), make(2, domain="b.example")], now=NOW, limit=50)
    assert catalog.groups() == [EVERYTHING, (TOPIC, "Alpha"), (TOPIC, "World"), (TOPIC, "Zed"),
                                (PROVIDER, "a.example"), (PROVIDER, "b.example")]


def test_newest_first_with_ties_broken_by_url_and_limited() -> None:
    tied = [make(n, hours=5) for n in (9, 3, 7)]
    catalog = Catalog.build([make(1), make(20), *tied], now=NOW, limit=4)
    spec = catalog.spec(EVERYTHING)
    assert [a.url for a in spec.items] == ["https://a.example/1", "https://a.example/3",
                                           "https://a.example/7", "https://a.example/9"]
    assert spec.total == 5 and spec.newest == NOW - timedelta(hours=1)


def test_drafts_are_left_out_unless_asked_for() -> None:
    articles = [make(1), make(2, draft=True, topics=("Secret",))]
    catalog = Catalog.build(articles, now=NOW, limit=50)
    assert [a.url for a in catalog.spec(EVERYTHING).items] == ["https://a.example/1"]
    assert (TOPIC, "Secret") not in catalog.groups()
    with_drafts = Catalog.build(articles, now=NOW, limit=50, include_drafts=True)
    assert (TOPIC, "Secret") in with_drafts.groups()


def test_scheduled_articles_wait_for_their_time_and_never_pin_updated() -> None:
    future = make(99, hours=-2)
    catalog = Catalog.build([make(1), future], now=NOW, limit=50)
    assert catalog.scheduled == 1 and catalog.spec(EVERYTHING).newest == NOW - timedelta(hours=1)
    assert catalog.next_due() == NOW + timedelta(hours=2)
    assert catalog.advance(NOW + timedelta(hours=1)) == set()
    touched = catalog.advance(NOW + timedelta(hours=2))
    assert EVERYTHING in touched and catalog.spec(EVERYTHING).items[0] == future
    assert catalog.scheduled == 0
    assert Catalog.build([future], now=NOW, limit=50, include_future=True).scheduled == 0


def test_apply_reports_touched_groups_and_drops_empty_ones() -> None:
    catalog = Catalog.build([make(1, topics=("Solo",), domain="solo.example"), make(2)], now=NOW, limit=50)
    touched = catalog.apply({"https://solo.example/1": None}, now=NOW)
    assert touched == {EVERYTHING, (TOPIC, "Solo"), (PROVIDER, "solo.example"), (TOPIC, "Solo")}
    assert (TOPIC, "Solo") not in catalog.groups() and (PROVIDER, "solo.example") not in catalog.groups()
    assert [a.url for a in catalog.spec(EVERYTHING).items] == ["https://a.example/2"]


def test_changing_an_article_moves_it_between_groups() -> None:
    catalog = Catalog.build([make(1, topics=("Old",)), make(2)], now=NOW, limit=50)
    moved = make(1, topics=("New",))
    touched = catalog.apply({moved.url: moved}, now=NOW)
    assert {(TOPIC, "Old"), (TOPIC, "New")} <= touched
    assert (TOPIC, "Old") not in catalog.groups()
    assert catalog.spec((TOPIC, "New")).items == (moved,)


def test_provider_title_is_the_most_used_name_then_alphabetical() -> None:
    articles = [make(1, name="The Lens"), make(2, name="The Lens"), make(3, name="Lens, The")]
    assert Catalog.build(articles, now=NOW, limit=50).spec((PROVIDER, "a.example")).name == "The Lens"
    tie = [make(1, name="Beta"), make(2, name="Alpha")]
    assert Catalog.build(tie, now=NOW, limit=50).spec((PROVIDER, "a.example")).name == "Alpha"


def test_topic_display_names_come_from_settings() -> None:
    catalog = Catalog.build([make(1, topics=("AI",))], now=NOW, limit=50, topic_titles={"AI": "Artificial intelligence"})
    spec = catalog.spec((TOPIC, "AI"))
    assert spec.name == "Artificial intelligence" and spec.key == "ai"


def test_all_feed_exists_even_when_empty() -> None:
    catalog = Catalog.build([], now=NOW, limit=50)
    assert catalog.groups() == [EVERYTHING]
    assert catalog.spec(EVERYTHING).items == () and catalog.spec(EVERYTHING).kind == ALL


# -- slugs ---------------------------------------------------------------------------------


def test_slugs_are_readable_and_keep_unicode() -> None:
    assert base_slug("Künstliche Intelligenz") == "künstliche-intelligenz"
    assert base_slug("人工知能") == "人工知能"
    assert base_slug("Здоровье") == "здоровье"
    assert base_slug("C++") == "c-plus-plus" and base_slug("C#") == "c-sharp"


def test_slugs_are_safe_in_a_path() -> None:
    for name in ("../etc", "a/b", ".", "..", "x" * 500, "🚀", "  ", "%2e%2e"):
        slug = base_slug(name)
        assert slug and "/" not in slug and slug not in (".", "..") and not slug.startswith(".")
        assert len(slug) <= 80


def test_colliding_names_get_distinct_deterministic_slugs() -> None:
    names = ["AI", "ai", "A.I", "Ai!"]
    slugs = assign_slugs(names)
    assert len(set(slugs.values())) == 4
    assert slugs["AI"] == "ai"  # the plainest spelling keeps the plain slug
    assert assign_slugs(reversed(names)) == slugs
    # Adding a spelling that is not plainer renames nobody.
    more = assign_slugs([*names, "a.i."])
    assert all(more[name] == slugs[name] for name in names)


def test_emoji_only_topics_get_distinct_stable_slugs() -> None:
    slugs = assign_slugs(["🚀", "🔥"])
    assert slugs["🚀"] != slugs["🔥"] and all(s.startswith("topic-") for s in slugs.values())
    assert assign_slugs(["🚀"]) == {"🚀": slugs["🚀"]}


def test_ten_thousand_topics_get_unique_slugs() -> None:
    names = [f"Topic {n}" for n in range(10_000)] + [f"topic-{n}" for n in range(100)]
    slugs = assign_slugs(names)
    assert len(set(slugs.values())) == len(names)


def test_a_large_batch_of_changes_gives_the_same_catalog_as_a_fresh_build() -> None:
    first = [make(n, topics=(f"T{n % 7}",), domain=f"p{n % 5}.example") for n in range(200)]
    catalog = Catalog.build(first, now=NOW, limit=10)
    # Re-date and re-topic every article, and delete some, in one batch (the bulk path).
    second: dict[str, Entry | None] = {a.url: make(n, topics=(f"T{n % 3}",), domain=f"p{n % 5}.example", hours=(n * 7) % 50)
              for n, a in enumerate(first)}
    for n in range(0, 200, 9):
        second[first[n].url] = None
    catalog.apply(second, now=NOW)
    fresh = Catalog.build([a for a in second.values() if a], now=NOW, limit=10)
    assert catalog.groups() == fresh.groups()
    assert all(catalog.spec(g) == fresh.spec(g) for g in fresh.groups())
