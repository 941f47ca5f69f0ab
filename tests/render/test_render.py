"""Every feed as a reader sees it: parsed with feedparser (RSS, Atom) and json (JSON Feed), then
compared item by item with the articles that went in.

One site is built per module from a small folder of articles (tricky text, a `+05:30` date, a
tie on the date, unicode topics, related lists, a missing image, a draft); the tests are small
assertions over it. Expectations come from the input fields, never from the feed model.
"""

from __future__ import annotations

import calendar
import html
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import feedparser
import pytest

from feedpub.build import Build
from feedpub.settings import Settings
from tests.helpers import BASE_TIME, article_text, loaded, sample_fields

BASE_URL = "https://feeds.example.org/news"
NOW = BASE_TIME + timedelta(days=2)
FORMATS = ("rss", "atom", "json")

TRICKY_TITLE = "<script>alert(1)</script> <b>bold</b> ]]> &amp; &#8217; \"double\" 'single' שלום עולם 🎉"
TRICKY_EXCERPT = "Says <script>alert(2)</script> and <b>b</b> ]]> &amp;amp; &#8217; \"q\" مرحبا بالعالم 😀 <i>end"
ONLY_B_TITLE = "<b>Bold</b> claims & counter-claims"  # HTML feedparser would render if it were not escaped
AMP_TITLE = "AT&T and R&D: Q&A < 5 > 3"  # plain text with bare & and <: must stay plain everywhere
DRAFT_TITLE = "Unpublished draft headline"
DRAFT_URL = "https://news2.example.com/draft/99"


def corpus() -> dict[str, dict[str, Any]]:
    """File name → front-matter fields of every article in the module's folder."""
    files = {f"{n:03d}.txt": sample_fields(n) for n in range(6)}
    # 15:00 at +05:30 is 09:30 UTC: between article 2 (10:00Z) and article 3 (09:00Z).
    files["offset.txt"] = sample_fields(6, publishedDateTime="2026-01-15T15:00:00+05:30", topics=["World", "人工知能"])
    # Same instant: the tie is broken by URL (…/tie-a before …/tie-z), not by file name.
    tie = (BASE_TIME - timedelta(hours=7, minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for name, slug in (("tie-1.txt", "tie-z"), ("tie-2.txt", "tie-a")):
        url = f"https://news1.example.com/story/{slug}"
        files[name] = sample_fields(7, publishedDateTime=tie, webUrl=url, originalUrl=url, title=f"Tie {slug}")
    files["tricky.txt"] = sample_fields(
        8,
        title=TRICKY_TITLE,
        excerpt=TRICKY_EXCERPT,
        topics=["World", "Künstliche Intelligenz", "人工知能", "C++", "C", "AI", "A.I."],
        images=[],
        related=[
            {"title": "Related <i>one</i> & more", "webUrl": "https://other.example.net/r/1",
             "provider": {"name": "Other & Co", "domain": "other.example.net"}},
            {"title": "Related two", "webUrl": "https://other.example.net/r/2", "provider": {"name": "Other & Co"}},
            {"title": "Related one again", "webUrl": "https://other.example.net/r/1"},  # duplicate URL
            {"title": "Itself", "webUrl": "https://news2.example.com/story/8"},  # the article itself
            {"title": "No provider", "webUrl": "https://third.example.org/r/3"},
        ],
    )
    files["bold.txt"] = sample_fields(9, title=ONLY_B_TITLE, excerpt="An <em>emphasised</em> excerpt &amp; more")
    files["amp.txt"] = sample_fields(10, title=AMP_TITLE, excerpt="Plain & simple < 5")
    files["bare.txt"] = sample_fields(12, excerpt="", topics=["World"], related=[])  # no summary at all
    files["draft.txt"] = sample_fields(
        11, published=False, title=DRAFT_TITLE, webUrl=DRAFT_URL, originalUrl=DRAFT_URL, topics=["World", "Drafts"]
    )
    return files


def write_folder(folder: Path, files: dict[str, dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, fields in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(article_text(**fields), encoding="utf-8")
    return folder


def build(folder: Path, now: datetime = NOW, **settings: Any) -> dict[str, Any]:
    return dict(loaded(Build(folder, Settings(base_url=BASE_URL, **settings)), now=now))


# -- what the input says a reader should see ------------------------------------------------


def _text(value: str) -> str:
    """The input's text as shown: entities decoded once, whitespace collapsed (plain text)."""
    return " ".join(html.unescape(value).split())


def expected_articles(files: dict[str, dict[str, Any]], *, drafts: bool = False) -> list[dict[str, Any]]:
    found = []
    for fields in files.values():
        if fields.get("published") is False and not drafts:
            continue
        url = fields["webUrl"]
        related, seen = [], {url}
        for r in fields.get("related") or []:
            if r["webUrl"] not in seen:
                seen.add(r["webUrl"])
                related.append((_text(r["title"]), r["webUrl"], (r.get("provider") or {}).get("name", "")))
        images = fields.get("images") or []
        found.append({
            "id": url,
            "title": _text(fields["title"]),
            "summary": _text(fields["excerpt"]) or None,
            "published": datetime.fromisoformat(fields["publishedDateTime"]).astimezone(UTC),
            "tags": list(fields["topics"]),
            "author": fields["provider"]["name"],
            "domain": fields["provider"]["domain"],
            "image": images[0]["url"] if images else None,
            "related": related,
        })
    return sorted(found, key=lambda a: (-a["published"].timestamp(), a["id"]))


def expected_feed(articles: list[dict[str, Any]], kind: str, key: str, limit: int = 50) -> list[dict[str, Any]]:
    if kind == "topic":
        chosen = [a for a in articles if key in a["tags"]]
    elif kind == "provider":
        chosen = [a for a in articles if a["domain"] == key]
    else:
        chosen = articles
    return chosen[:limit]


def url_of(path: str) -> str:
    return BASE_URL + "/" + quote(path, safe="/")


# -- what a reader shows ---------------------------------------------------------------------


class HtmlText(HTMLParser):
    """Text and elements of an HTML fragment, as a browser would build them."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def visible(detail: dict[str, Any]) -> str:
    """What a reader displays for a feedparser text construct: HTML rendered, plain text as is."""
    if detail["type"] in ("text/html", "application/xhtml+xml"):
        page = HtmlText(detail["value"])
        assert page.tags == [], f"live markup in a text field: {detail['value']!r}"
        return page.text
    assert detail["type"] == "text/plain", detail
    return detail["value"]


def _utc(parsed: Any) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC)


def read(body: bytes, fmt: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(feed-level fields, items) of one feed body, as a reader shows them."""
    if fmt == "json":
        doc = json.loads(body)
        head = {
            "title": doc["title"], "description": doc.get("description"), "self": doc["feed_url"],
            "home": doc["home_page_url"],
            "updated": None,
        }
        items = [{
            "id": i["id"], "link": i["url"], "title": i["title"], "summary": i.get("summary"),
            "published": datetime.fromisoformat(i["date_published"]).astimezone(UTC),
            "tags": i.get("tags", []), "author": i["authors"][0]["name"], "image": i.get("image"),
            "thumbnail": i.get("image"), "content": i["content_html"],
        } for i in doc["items"]]
        return head, items
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == {"rss": "rss20", "atom": "atom10"}[fmt]
    f = parsed.feed
    links = {link["rel"]: link["href"] for link in f.links}
    head = {
        "title": None if fmt == "rss" else visible(f.title_detail),
        "description": visible(f.subtitle_detail), "self": links.get("self"),
        "home": links.get("alternate"), "updated": _utc(f.updated_parsed),
    }
    items = []
    for e in parsed.entries:
        media = e.get("media_content") or [{}]
        thumbs = e.get("media_thumbnail") or [{}]
        content = e.content[0].value if "content" in e else e.summary
        items.append({
            "id": e.id, "link": e.link, "title": None if fmt == "rss" else visible(e.title_detail),
            # Without an excerpt the body is the RSS <description>, and feedparser offers an Atom
            # entry's content as its `summary`: either way there is no separate summary.
            "summary": visible(e.summary_detail) if e.get("summary", content) != content else None,
            "published": _utc(e.published_parsed), "tags": [t.term for t in e.get("tags", [])],
            "author": e.author, "image": media[0].get("url"), "thumbnail": thumbs[0].get("url"),
            "content": content,
        })
    if fmt == "rss":
        # RSS titles are plain text (the RSS Board's profile): what a reader that follows it shows
        # (newsboat) is the element's text. feedparser guesses HTML from a `</em>` in it instead.
        root = ElementTree.fromstring(body)
        head["title"] = root.findtext("channel/title")
        for item, element in zip(items, root.iterfind("channel/item"), strict=True):
            item["title"] = element.findtext("title")
    return head, items


# -- the module's site -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files() -> dict[str, dict[str, Any]]:
    return corpus()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, files: dict[str, dict[str, Any]]) -> Path:
    return write_folder(tmp_path_factory.mktemp("render") / "articles", files)


@pytest.fixture(scope="module")
def site(folder: Path) -> dict[str, Any]:
    return build(folder)


@pytest.fixture(scope="module")
def expected(files: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return expected_articles(files)


@pytest.fixture(scope="module")
def readers(site: dict[str, Any]) -> Callable[[str], tuple[dict[str, Any], list[dict[str, Any]]]]:
    cache: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}

    def reader(path: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if path not in cache:
            cache[path] = read(site[path].body, path.rsplit(".", 1)[1])
        return cache[path]

    return reader


# (kind, group key in the input, site path stem, words the feed title and description must hold)
FEEDS = [
    ("all", "", "feeds/all", ""),
    ("topic", "World", "feeds/topics/world", "World"),
    ("topic", "人工知能", "feeds/topics/人工知能", "人工知能"),
    ("provider", "news1.example.com", "feeds/providers/news1.example.com", "News 1"),
]
CASES = [(kind, key, f"{stem}.{fmt}", name) for kind, key, stem, name in FEEDS for fmt in FORMATS]
IDS = [path for _, _, path, _ in CASES]


@pytest.mark.parametrize(("kind", "key", "path", "name"), CASES, ids=IDS)
class TestEveryFeed:
    def test_served_with_its_media_type(self, site, kind, key, path, name):
        media = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
        assert site[path].media_type == media[path.rsplit(".", 1)[1]] + "; charset=utf-8"

    def test_same_items_in_the_same_order(self, readers, expected, kind, key, path, name):
        _, items = readers(path)
        want = expected_feed(expected, kind, key)
        assert [i["id"] for i in items] == [a["id"] for a in want]
        assert len(items) >= 2

    def test_ids_and_links_are_the_canonical_url(self, readers, kind, key, path, name):
        _, items = readers(path)
        assert all(i["id"] == i["link"] for i in items)

    def test_titles_as_typed(self, readers, expected, kind, key, path, name):
        _, items = readers(path)
        assert [i["title"] for i in items] == [a["title"] for a in expected_feed(expected, kind, key)]

    def test_dates_are_the_input_instant(self, readers, expected, kind, key, path, name):
        _, items = readers(path)
        assert [i["published"] for i in items] == [a["published"] for a in expected_feed(expected, kind, key)]

    def test_categories_are_the_topics(self, readers, expected, kind, key, path, name):
        _, items = readers(path)
        assert [i["tags"] for i in items] == [a["tags"] for a in expected_feed(expected, kind, key)]

    def test_author_is_the_provider_name(self, readers, expected, kind, key, path, name):
        _, items = readers(path)
        assert [i["author"] for i in items] == [a["author"] for a in expected_feed(expected, kind, key)]

    def test_image(self, readers, expected, kind, key, path, name):
        _, items = readers(path)
        want = [a["image"] for a in expected_feed(expected, kind, key)]
        assert [i["image"] for i in items] == want
        assert [i["thumbnail"] for i in items] == want

    def test_summary_is_the_excerpt(self, readers, expected, kind, key, path, name):
        _, items = readers(path)
        assert [i["summary"] for i in items] == [a["summary"] for a in expected_feed(expected, kind, key)]

    def test_content_html(self, readers, expected, kind, key, path, name):
        _, items = readers(path)
        for item, article in zip(items, expected_feed(expected, kind, key), strict=True):
            page = HtmlText(item["content"])
            tags = [tag for tag, _ in page.tags]
            assert set(tags) <= {"p", "img", "a", "h3", "ul", "li"}, item["content"]
            assert (article["summary"] or "") in page.text
            images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
            assert images == ([article["image"]] if article["image"] else [])
            links = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
            assert links[0] == article["id"]
            assert links[1:] == [url for _, url, _ in article["related"]]
            assert ("Related" in page.text) == bool(article["related"])
            for title, _, provider in article["related"]:
                assert title in page.text
                if provider:
                    assert f"({provider})" in page.text
            assert tags.count("li") == len(article["related"])

    def test_feed_names_the_group(self, readers, kind, key, path, name):
        head, _ = readers(path)
        assert name in head["title"]
        assert name in head["description"]
        assert head["title"].startswith("feedpub")

    def test_self_and_alternate_links(self, readers, kind, key, path, name):
        head, _ = readers(path)
        assert head["self"] == url_of(path)
        assert head["home"] == url_of(path.rsplit(".", 1)[0] + ".html")  # the feed's page for people

    def test_updated_is_the_newest_item(self, readers, kind, key, path, name):
        head, items = readers(path)
        if not path.endswith(".json"):  # JSON Feed has no feed-level date
            assert head["updated"] == items[0]["published"]

    def test_no_generator_version(self, site, kind, key, path, name):
        body = site[path].body.lower()
        assert b"feedgen" not in body
        assert b"lkiesow" not in body


def test_tie_on_the_date_is_broken_by_url(readers):
    for fmt in FORMATS:
        _, items = readers(f"feeds/providers/news1.example.com.{fmt}")
        ids = [i["id"] for i in items]
        assert ids.index("https://news1.example.com/story/tie-a") + 1 == ids.index("https://news1.example.com/story/tie-z")


def test_offset_date_shows_the_utc_instant(readers, site):
    want = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    for fmt in FORMATS:
        _, items = readers(f"feeds/all.{fmt}")
        assert [i["published"] for i in items if i["id"] == "https://news0.example.com/story/6"] == [want]
    assert b"<pubDate>Thu, 15 Jan 2026 09:30:00 +0000</pubDate>" in site["feeds/all.rss"].body
    assert b"<published>2026-01-15T09:30:00+00:00</published>" in site["feeds/all.atom"].body
    assert b'"date_published":"2026-01-15T09:30:00Z"' in site["feeds/all.json"].body


@pytest.mark.parametrize("title", [TRICKY_TITLE, ONLY_B_TITLE, AMP_TITLE])
def test_tricky_titles_display_identically(readers, title):
    want = _text(title)
    shown = {}
    for fmt in FORMATS:
        _, items = readers(f"feeds/all.{fmt}")
        (shown[fmt],) = [i["title"] for i in items if i["title"] == want] or ["<missing>"]
    assert shown == {fmt: want for fmt in FORMATS}


def test_plain_titles_stay_plain_text(site):
    # A reader that shows RSS/Atom titles verbatim sees the same string as JSON: no entity noise.
    for fmt in ("rss", "atom"):
        entries = feedparser.parse(site[f"feeds/all.{fmt}"].body).entries
        (amp,) = [e for e in entries if e.id == "https://news1.example.com/story/10"]
        assert amp.title_detail["type"] == "text/plain"
        assert amp.title == _text(AMP_TITLE)


def test_rss_plain_text_uses_hexadecimal_references(site):
    body = site["feeds/all.rss"].body.decode()
    assert "<title>AT&#x26;T and R&#x26;D: Q&#x26;A &#x3C; 5 &#x3E; 3</title>" in body
    assert "<category>C++</category>" in body


def test_markup_is_text_in_every_body(site):
    for path, output in site.items():
        body = output.body.lower()
        if path == "index.html":  # the front page's one script of its own (the search box, the form)
            assert body.count(b"<script") == 1
            body = body[: body.index(b"<script>")] + body[body.index(b"</script>") :]
        assert b"<script" not in body, path
        assert b"<b>" not in output.body.lower(), path
        assert b"<i>" not in output.body.lower(), path


def test_no_library_name_or_version_in_any_body(site):
    import feedgen.version

    for path, output in site.items():
        assert b"feedgen" not in output.body.lower(), path
        assert feedgen.version.version_str.encode() not in output.body, path


def test_related_list_is_deduplicated(readers):
    _, items = readers("feeds/all.json")
    (tricky,) = [i for i in items if i["id"] == "https://news2.example.com/story/8"]
    page = HtmlText(tricky["content"])
    assert [a["href"] for tag, a in page.tags if tag == "a"] == [
        "https://news2.example.com/story/8",
        "https://other.example.net/r/1",
        "https://other.example.net/r/2",
        "https://third.example.org/r/3",
    ]
    assert page.text.count("(Other & Co)") == 2
    assert "Related <i>one</i> & more (Other & Co)" in page.text


def test_ids_identical_across_formats(readers):
    for _, _, stem, _ in FEEDS:
        ids = {fmt: [i["id"] for i in readers(f"{stem}.{fmt}")[1]] for fmt in FORMATS}
        assert ids["rss"] == ids["atom"] == ids["json"]


def test_no_bozo_anywhere(site):
    for path, output in site.items():
        if path.endswith((".rss", ".atom")):
            parsed = feedparser.parse(output.body)
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))


def test_updated_never_comes_from_the_clock(folder, site):
    later = build(folder, now=NOW + timedelta(days=400))
    assert later.keys() == site.keys()
    for path, output in site.items():
        assert later[path].body == output.body, path
        assert later[path].etag == output.etag, path


def test_limit_keeps_the_newest(folder, files):
    site = build(folder, limit=3)
    want_all = expected_articles(files)
    for kind, key, stem, _ in FEEDS:
        want = [a["id"] for a in expected_feed(want_all, kind, key, limit=3)]
        assert len(want) <= 3
        for fmt in FORMATS:
            _, items = read(site[f"{stem}.{fmt}"].body, fmt)
            assert [i["id"] for i in items] == want, (stem, fmt)
    for path, output in site.items():  # subscription documents; the older items are in archives
        if path.endswith(".json") and path != "feeds/index.json" and not path.startswith("feeds/archive/"):
            assert len(json.loads(output.body)["items"]) <= 3, path


def test_limit_one(articles):
    site = build(articles, limit=1)
    for fmt in FORMATS:
        _, items = read(site[f"feeds/all.{fmt}"].body, fmt)
        assert [i["id"] for i in items] == ["https://news0.example.com/story/0"]


# -- determinism -----------------------------------------------------------------------------


def test_two_builds_are_byte_identical(folder, site):
    again = build(folder)
    assert list(again) == list(site)
    assert all(again[p].body == site[p].body for p in site)


def test_reading_order_does_not_matter(tmp_path, files, site):
    # Same articles, other file names, written in reverse order, one in a subfolder.
    renamed = {f"zz-{len(files) - n:02d}-{name}": fields for n, (name, fields) in enumerate(files.items())}
    renamed = dict(reversed(list(renamed.items())))
    first = next(iter(renamed))
    renamed[f"sub/{first}"] = renamed.pop(first)
    other = write_folder(tmp_path / "other", renamed)
    rebuilt = build(other)
    assert list(rebuilt) == list(site)
    for path, output in site.items():
        assert rebuilt[path].body == output.body, path


# -- drafts and secrets ----------------------------------------------------------------------


def _bodies(site: dict[str, Any]) -> dict[str, bytes]:
    return {path: output.body for path, output in site.items()}


def test_drafts_and_secrets_never_published(site):
    for path, body in _bodies(site).items():
        assert b"SECRET-BLOB" not in body, path
        assert DRAFT_TITLE.encode() not in body, path
        assert DRAFT_URL.encode() not in body, path
        assert b"draft/99" not in body, path
    assert not any("drafts" in path for path in site)  # the draft's only topic has no feed


def test_include_drafts_publishes_drafts_but_never_secrets(folder, files):
    site = build(folder, include_drafts=True)
    assert "feeds/topics/drafts.rss" in site
    for fmt in FORMATS:
        _, items = read(site[f"feeds/all.{fmt}"].body, fmt)
        want = expected_articles(files, drafts=True)
        assert [i["id"] for i in items] == [a["id"] for a in want]
        assert DRAFT_URL in [i["id"] for i in items]
    for path, body in _bodies(site).items():
        assert b"SECRET-BLOB" not in body, path
