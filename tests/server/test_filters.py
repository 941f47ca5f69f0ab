"""Query filters on the live server: each parameter alone and combined against the same selection
computed here from the articles, in all three formats; bad values; RE2's linear time; the cache."""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import feedparser
import pytest

from feedpub.server.app import create_app
from feedpub.server.filtered import FilteredFeeds
from feedpub.server.live.live_site import LiveSite
from feedpub.settings import Settings
from tests.helpers import article_text, sample_fields

with warnings.catch_warnings():  # Starlette 1.x suggests httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

BASE = "https://news.example.com"
COUNT = 150
WORDS = ["Climate talks", "Election night", "AI chips", "climate bill", "Markets rally", "Football final"]
TOPICS = [["World"], ["Machine Learning", "World"], ["machine  learning"], ["C++"], ["Science", "World"]]
PROVIDERS = [("The Daily Ledger", "ledger.example.com"), ("Harbor Post", "harbor.example.org"),
             ("Byte Wire", "bytewire.example.net")]
NOW = datetime.now(UTC).replace(microsecond=0)
LONG_A = "a" * 290  # a title for `(a+)+$` to take exponential time over, were it backtracking


def fields(n: int) -> dict[str, Any]:
    name, domain = PROVIDERS[n % 3]
    title = f"{WORDS[n % 6]} {n}" if n != 7 else LONG_A + "!"
    excerpt = "" if n % 7 == 0 else f"Report number {n} about {WORDS[(n + 2) % 6].lower()}."
    url = f"https://{domain}/story/{n}"
    return sample_fields(n, title=title, excerpt=excerpt, webUrl=url, originalUrl=url,
                         publishedDateTime=(NOW - timedelta(hours=n, minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                         provider={"name": name, "domain": domain}, topics=TOPICS[n % 5],
                         heat=None if n % 11 == 0 else (n * 37) % 1000, quality=(n % 5) * 20)


ARTICLES = [fields(n) for n in range(COUNT)]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> LiveSite:
    folder = tmp_path_factory.mktemp("filters") / "articles"
    folder.mkdir()
    for n, article in enumerate(ARTICLES):
        (folder / f"{n:03d}.txt").write_text(article_text(**article), encoding="utf-8")
    site = LiveSite(folder, Settings(base_url=BASE, limit=20, archive_size=30))
    site.load()
    return site


@pytest.fixture(scope="module")
def client(live: LiveSite) -> Iterator[TestClient]:
    with TestClient(create_app(live, watch=False)) as test_client:
        yield test_client


# -- the selection, computed here from the articles -----------------------------------------------

def description(article: dict[str, Any]) -> str:
    return article["excerpt"] or article["title"]


def topic_names(article: dict[str, Any]) -> list[str]:
    names = list(article["topics"])
    if any(" ".join(t.split()).casefold() == "machine learning" for t in names):
        names.append("Machine Learning")  # the topic's name (its most common spelling)
    return names


def expected(params: dict[str, str], feed: Callable[[dict[str, Any]], bool] = lambda a: True) -> list[str]:
    flags = re.I if params.get("filter_case_sensitive") == "false" else 0

    def found(name: str, text: str) -> bool:
        return re.search(params[name], text, flags) is not None

    chosen = []
    for article in ARTICLES:  # newest first
        title, desc = article["title"], description(article)
        author = [article["provider"]["name"], article["provider"]["domain"]]
        tests = {
            "filter": lambda: found("filter", title) or found("filter", desc),
            "filter_title": lambda: found("filter_title", title),
            "filter_description": lambda: found("filter_description", desc),
            "filter_author": lambda: any(found("filter_author", a) for a in author),
            "filter_category": lambda: any(found("filter_category", t) for t in topic_names(article)),
            "filterout": lambda: not (found("filterout", title) or found("filterout", desc)),
            "filterout_title": lambda: not found("filterout_title", title),
            "filterout_description": lambda: not found("filterout_description", desc),
            "filterout_author": lambda: not any(found("filterout_author", a) for a in author),
            "filterout_category": lambda: not any(found("filterout_category", t) for t in topic_names(article)),
            "min_heat": lambda: article["heat"] is not None and article["heat"] >= float(params["min_heat"]),
            "min_quality": lambda: article["quality"] >= float(params["min_quality"]),
            "filter_time": lambda: datetime.fromisoformat(article["publishedDateTime"]) >= NOW - timedelta(
                seconds=int(params["filter_time"])),
            "provider": lambda: article["provider"]["domain"] == params["provider"],
            "topic": lambda: params["topic"] == "machine-learning" and "Machine Learning" in topic_names(article),
        }
        if feed(article) and all(test() for name, test in tests.items() if name in params):
            chosen.append(article["webUrl"])
    return chosen[: int(params.get("limit", 20))]


def links(client: TestClient, path: str, params: dict[str, str]) -> list[str]:
    answer = client.get(path + "?" + urlencode(params))
    assert answer.status_code == 200, answer.text
    if path.endswith(".json"):  # feedparser 6.0 reads no JSON Feed
        document = json.loads(answer.content)
        assert document["version"] == "https://jsonfeed.org/version/1.1" and document["title"]
        return [item["url"] for item in document["items"]]
    parsed = feedparser.parse(answer.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [entry.link for entry in parsed.entries]


ALONE = [
    {"filter": "climate"}, {"filter": "climate", "filter_case_sensitive": "false"}, {"filter_title": "^AI"},
    {"filter_description": "markets rally"}, {"filter_author": "Harbor"}, {"filter_author": r"bytewire\.example"},
    {"filter_category": "^Machine Learning$"}, {"filter_category": "Sci"}, {"filterout": "Football"},
    {"filterout_title": "[0-9]$"}, {"filterout_description": "Report"}, {"filterout_author": "Ledger"},
    {"filterout_category": "World"}, {"min_heat": "500"}, {"min_quality": "60"}, {"filter_time": str(20 * 3600)},
    {"limit": "7"}, {"limit": "200"}, {"provider": "harbor.example.org"}, {"topic": "machine-learning"},
    {"filter": "a{3}"},
]
COMBINED = [
    {"filter": "(?i)climate|election", "min_heat": "300", "limit": "10"},
    {"filter_title": "AI", "filterout_description": "election", "filter_case_sensitive": "false"},
    {"filter_category": "World", "filterout_author": "Harbor", "min_quality": "40", "limit": "50"},
    {"provider": "ledger.example.com", "topic": "machine-learning", "filter_time": str(60 * 3600)},
    {"filter": "Report", "filter_title": "Markets", "filterout": "9$", "min_heat": "100"},
]


@pytest.mark.parametrize("params", ALONE + COMBINED, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_every_parameter_alone_and_combined_selects_what_the_articles_say(client: TestClient,
                                                                          params: dict[str, str]) -> None:
    want = expected(params)
    assert links(client, "/feeds/all.rss", params) == want
    assert links(client, "/feeds/all.atom", params) == want
    assert links(client, "/feeds/all.json", params) == want


def test_filters_apply_to_every_article_of_a_topic_or_provider_feed(client: TestClient) -> None:
    harbor = lambda a: a["provider"]["domain"] == "harbor.example.org"  # noqa: E731
    world = lambda a: "World" in a["topics"]  # noqa: E731
    for path, feed in (("/feeds/providers/harbor.example.org", harbor), ("/feeds/topics/world", world)):
        for params in ({"filter": "limate"}, {"min_heat": "800", "limit": "100"}, {"topic": "machine-learning"}):
            want = expected(params, feed)
            assert links(client, path + ".atom", params) == want, (path, params)
    # Older than the 20 newest, in the archive: still found.
    assert "https://harbor.example.org/story/148" in links(client, "/feeds/all.rss", {"filter_title": "148$"})


def test_a_filtered_feed_is_a_real_feed(client: TestClient) -> None:
    params = {"filter_case_sensitive": "false", "limit": "5", "filter": "climate"}  # not in the canonical order
    canonical = f"{BASE}/feeds/all.json?filter=climate&filter_case_sensitive=false&limit=5"
    answer = client.get("/feeds/all.json", params=params, headers={"accept-encoding": "gzip"})
    assert answer.status_code == 200 and answer.headers["content-encoding"] == "gzip"
    assert answer.headers["content-type"] == "application/feed+json; charset=utf-8"
    assert answer.headers["access-control-allow-origin"] == "*"
    document = answer.json()
    assert document["feed_url"] == canonical and document["home_page_url"] == f"{BASE}/feeds/all.html"
    assert "climate" in document["title"] and "next_url" not in document
    again = client.get("/feeds/all.json", params=params, headers={"if-none-match": answer.headers["etag"],
                                                                  "accept-encoding": "gzip"})
    assert again.status_code == 304 and again.headers["etag"] == answer.headers["etag"]
    atom = feedparser.parse(client.get("/feeds/all.atom?limit=5&filter=climate&filter_case_sensitive=false").content)
    assert [link.href for link in atom.feed.links if link.rel == "self"] == [canonical.replace(".json", ".atom")]
    rss = client.get("/feeds/all.rss?limit=5&filter=climate&filter_case_sensitive=false").text
    assert "?filter=climate&amp;filter_case_sensitive=false&amp;limit=5" in rss and "fh:" not in rss


def test_unknown_and_empty_parameters_change_nothing(client: TestClient) -> None:
    plain = client.get("/feeds/all.rss")
    for query in ("utm_source=reader", "filter=&limit=", "x=1&y=2", "Filter=AI"):
        other = client.get("/feeds/all.rss?" + query)
        assert other.content == plain.content and other.headers["etag"] == plain.headers["etag"], query
    assert client.get("/feeds/all.rss?filter=AI&utm_source=x").content == client.get("/feeds/all.rss?filter=AI").content


@pytest.mark.parametrize("query, reason", [
    ("limit=0", "limit must be a whole number from 1 to 200"), ("limit=201", "limit"), ("limit=ten", "limit"),
    ("min_heat=hot", "min_heat must be a number"), ("min_quality=nan", "min_quality"),
    ("filter_time=-5", "filter_time"), ("filter_case_sensitive=maybe", "true or false"),
    ("filter=(a", "not a pattern RE2 accepts"), ("filter_title=(?=a)b", "RE2"), (r"filter=(x)\1", "RE2"),
    ("filter=" + "a" * 257, "at most 256"), ("topic=no-such-topic", "no topic"), ("provider=nowhere.example", "no provider"),
    ("filter=a&filter=b", "given twice"),
    # characters XML cannot carry: the pattern is named in the feed's title (a 500 before, in RSS and Atom)
    ("filter=%00", "filter holds a control character"), ("filter=%01", "control character"),
    ("filter_title=a%0Bb", "filter_title holds a control character"), ("filter=%EF%BF%BF", "control character"),
    ("filterout=a%C2%85", "filterout holds"), ("topic=%7F", "topic holds a control character"),
])
def test_bad_values_get_400_with_a_one_line_reason(client: TestClient, query: str, reason: str) -> None:
    for fmt in ("rss", "atom", "json"):
        answer = client.get(f"/feeds/all.{fmt}?" + query)
        assert answer.status_code == 400
        assert reason in answer.text and answer.text.count("\n") == 1
        assert answer.headers["content-type"] == "text/plain; charset=utf-8"


def test_a_catastrophic_pattern_runs_in_linear_time(client: TestClient) -> None:
    for params in ({"filter": "(a+)+$"}, {"filter_title": "(a|a)*(a|a)*b"}, {"filter": "(x+x+)+y"}):
        started = time.perf_counter()
        answer = client.get("/feeds/all.rss", params={**params, "limit": "3"})
        took = time.perf_counter() - started
        # ~10 ms here; a backtracking engine would take longer than the universe has on these. The
        # bound leaves room for a busy CI machine, not for exponential time.
        assert answer.status_code == 200 and took < 2.0, (params, took)
    # (a+)+$ matches the long title (it ends in "!" there, so nothing); and does match at the end of a line:
    assert links(client, "/feeds/all.rss", {"filter_title": "(a+)+!$"}) == ["https://harbor.example.org/story/7"]


def test_answers_are_cached_and_dropped_when_a_change_touches_the_feed(live: LiveSite, client: TestClient) -> None:
    made = live.filtered.made
    first = client.get("/feeds/all.rss?filter_title=Markets")
    assert client.get("/feeds/all.rss?filter_title=Markets").content == first.content
    assert live.filtered.made == made + 1  # the second came from the cache
    folder = live.root
    new = fields(0) | {"title": "Markets soar", "webUrl": "https://harbor.example.org/story/new",
                       "originalUrl": "https://harbor.example.org/story/new"}
    (folder / "new.txt").write_text(article_text(**new), encoding="utf-8")
    try:
        live.apply(["new.txt"])
        changed = client.get("/feeds/all.rss?filter_title=Markets")
        assert live.filtered.made == made + 2
        assert feedparser.parse(changed.content).entries[0].title == "Markets soar"
    finally:
        (folder / "new.txt").unlink()
        live.apply(["new.txt"])
    assert feedparser.parse(client.get("/feeds/all.rss?filter_title=Markets").content).entries[0].title != "Markets soar"


def test_the_cache_stays_within_its_bounds_under_ten_thousand_distinct_queries(live: LiveSite) -> None:
    cache = FilteredFeeds(live.settings, max_entries=300, max_bytes=2 << 20)
    published = live.published
    for n in range(10_000):
        answer = cache.answer(published, "/feeds/all.rss", f"filter_title={n}$&limit=1".encode())
        assert not isinstance(answer, Exception)
        entries, held = cache.size
        assert entries <= 300 and held <= 2 << 20
    entries, held = cache.size
    assert entries == 300 and cache.made == 10_000
