"""Topics as people mean them: case, spacing and typographic variants merge; punctuation does not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.catalog.catalog import TOPIC, Catalog
from feedpub.catalog.topics import Topics, topic_key
from feedpub.settings import Settings, SettingsError, validate
from tests.catalog.test_catalog import NOW, make


def test_keys_ignore_case_spacing_and_typographic_variants() -> None:
    assert topic_key("Machine Learning") == topic_key("machine  learning") == topic_key("Machine\u00a0learning")
    assert topic_key("Women’s health") == topic_key("women's health")
    assert topic_key("COVID‑19") == topic_key("covid-19")  # a non-breaking hyphen
    assert topic_key("Straße") == topic_key("STRASSE")
    assert len({topic_key(name) for name in ("C", "C++", "C#", "A.I.", "AI")}) == 5


def test_spellings_are_one_topic_named_by_the_most_common() -> None:
    articles = [make(1, topics=("Machine Learning",)), make(2, topics=("machine  learning",)),
                make(3, topics=("machine learning",)), make(4, topics=("machine learning", "Machine Learning")),
                make(5, topics=("machine learning",))]
    catalog = Catalog.build(articles, now=NOW, limit=50)
    topics = [group for group in catalog.groups() if group[0] == TOPIC]
    assert topics == [(TOPIC, "machine learning")]  # written so 3 times, against 2 and 1
    spec = catalog.spec(topics[0])
    assert spec.total == 5 and spec.key == "machine-learning"
    assert catalog.topic_name("MACHINE LEARNING") == "machine learning"


def test_ties_go_to_the_first_spelling_in_code_point_order_whatever_the_reading_order() -> None:
    one = [make(1, topics=("machine learning",)), make(2, topics=("Machine Learning",))]
    for articles in (one, one[::-1]):
        catalog = Catalog.build(articles, now=NOW, limit=50)
        assert [g for g in catalog.groups() if g[0] == TOPIC] == [(TOPIC, "Machine Learning")]


def test_the_name_moves_with_the_counts_and_the_slug_stays() -> None:
    catalog = Catalog.build([make(1, topics=("Machine Learning",))], now=NOW, limit=50)
    assert catalog.spec((TOPIC, "Machine Learning")).key == "machine-learning"
    touched = catalog.apply({e.url: e for e in (make(2, topics=("machine learning",)), make(3, topics=("machine learning",)))},
                            now=NOW)
    assert {(TOPIC, "Machine Learning"), (TOPIC, "machine learning")} <= touched
    assert [g for g in catalog.groups() if g[0] == TOPIC] == [(TOPIC, "machine learning")]
    spec = catalog.spec((TOPIC, "machine learning"))
    assert spec.key == "machine-learning" and spec.total == 3
    # And back, as articles go.
    catalog.apply({"https://a.example/2": None, "https://a.example/3": None}, now=NOW)
    assert [g for g in catalog.groups() if g[0] == TOPIC] == [(TOPIC, "Machine Learning")]
    assert catalog.spec((TOPIC, "Machine Learning")).total == 1


def test_aliases_merge_what_punctuation_keeps_apart() -> None:
    articles = [make(1, topics=("A.I.",)), make(2, topics=("AI",)), make(3, topics=("a.i.",)), make(4, topics=("C++",))]
    plain = Catalog.build(articles, now=NOW, limit=50)
    assert {name for kind, name in plain.groups() if kind == TOPIC} == {"A.I.", "AI", "C++"}
    merged = Catalog.build(articles, now=NOW, limit=50, topic_aliases={"A.I.": "AI"})
    assert {name for kind, name in merged.groups() if kind == TOPIC} == {"AI", "C++"}
    assert merged.spec((TOPIC, "AI")).total == 3 and merged.spec((TOPIC, "AI")).key == "ai"


def test_display_names_from_settings_apply_to_every_spelling() -> None:
    catalog = Catalog.build([make(1, topics=("ai",)), make(2, topics=("ai",))], now=NOW, limit=50,
                            topic_titles={"AI": "Artificial intelligence"})
    assert catalog.spec((TOPIC, "ai")).name == "Artificial intelligence"


def test_an_article_with_two_spellings_is_in_the_topic_once() -> None:
    catalog = Catalog.build([make(1, topics=("AI", "ai"))], now=NOW, limit=50)
    assert catalog.spec((TOPIC, "AI")).items == (make(1, topics=("AI", "ai")),)


def test_aliases_must_name_a_final_topic() -> None:
    assert validate(Settings(topic_aliases={"A.I.": "AI"})).topic_aliases == {"A.I.": "AI"}
    with pytest.raises(SettingsError, match="alias itself"):
        validate(Settings(topic_aliases={"A.I.": "AI", "ai": "Artificial intelligence"}))
    with pytest.raises(SettingsError, match="topic_aliases must map"):
        validate(Settings(topic_aliases={"A.I.": ""}))


@given(st.lists(st.tuples(st.lists(st.sampled_from(["World", "world", "WORLD", "Science", "science", "Art"]),
                                   min_size=1, max_size=3), st.booleans()), max_size=60))
def test_names_after_any_counts_in_and_out_are_the_names_counted_from_scratch(
        steps: list[tuple[list[str], bool]]) -> None:
    """Each topic's name is its most common spelling (ties: code point order), however the counts got
    there: kept up article by article, with shortcuts, it equals counting what is in from nothing."""
    topics = Topics()
    inside: list[tuple[str, ...]] = []
    for names, out in steps:
        if out and inside:
            topics.count(inside.pop(0), -1)
        else:
            inside.append(tuple(names))
            topics.count(tuple(names), +1)
    fresh = Topics()
    for article in inside:
        fresh.count(article, +1)
    assert topics.names() == fresh.names()
