"""Properties over arbitrary text: whatever an article's fields hold, every format reads back the same.

Articles go through the real path: their fields are written into article files as JSON-quoted YAML
(as `conftest.article_text` does, sometimes with every non-ASCII character escaped, which is how
lone surrogates and escaped emoji arrive), read and normalised by the library, and built into a
site. CI-sized (150 examples each); `bench/fuzz.py` runs the long version.
"""

from __future__ import annotations

import json
import tempfile
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedpub.build import Build
from feedpub.reading import text as text_module
from feedpub.reading.text import clean_text, clean_url
from feedpub.settings import Settings
from tests.helpers import BASE_TIME, all_articles, loaded

BASE_URL = "https://feeds.example.org"
NOW = BASE_TIME + timedelta(days=1)

# Pieces that have broken feeds somewhere: CDATA ends, markup, entities (real, numeric, bogus,
# unterminated), characters XML forbids, bidi controls and RTL scripts, emoji with modifiers and
# joiners, combining marks, unusual line breaks, lone and paired surrogates.
PIECES = [
    "]]>", "<![CDATA[", "<b>bold</b>", "</title>", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "&amp;", "&lt;b&gt;", "&#x26;", "&#38;", "&#0;", "&#xD800;", "&bogus;", "&amp", "&", "<", ">", '"', "'",
    "AT&T", "a < b", "&nbsp;", "\x00", "\x08", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029", "\ufeff",
    "\ufffe", "\uffff", "\u200b", "\u200d", "\u202e", "\u200f", "שלום עולם", "مرحبا", "😀", "👍🏽", "👨‍👩‍👧",
    "🇺🇦", "e\u0301", "\u0915\u094d\u0937", " ", "  ", "\t", "\n", "\r\n", "\\", "\\u0000", "{{x}}", "%s",
    "\ud800", "\udfff", "\ud83d\ude00", "--", "-->", "<!--", "?>", "<?xml", "\u00a0", "\u00ad",
]
TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=6).map("".join)
# A title with at least one visible letter, so the file is always a good article.
TITLE = st.tuples(TEXT, st.sampled_from(["A", "é", "中", "Ж", "ש", "😀"]), TEXT).map("".join)


def has_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(has_surrogate(v) for v in value.values())
    if isinstance(value, list):
        return any(has_surrogate(v) for v in value)
    return False


def front_matter(fields: dict[str, Any], *, ascii_only: bool) -> bytes:
    """The file as `conftest.article_text` writes it; `ascii_only` escapes every non-ASCII character."""
    lines = ["---"]
    for key, value in fields.items():
        lines.append(f"{key}: {json.dumps(value, ensure_ascii=ascii_only)}")
    lines.append("---")
    return ("\n".join(lines) + "\n").encode("utf-8")


@st.composite
def article_files(draw: st.DrawFn) -> list[bytes]:
    files = []
    for n in range(draw(st.integers(1, 3))):
        url = f"https://news{n}.example.com/story/{n}"
        fields = {
            "title": draw(TITLE),
            "excerpt": draw(TEXT),
            "publishedDateTime": (BASE_TIME - timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "webUrl": url,
            "originalUrl": url,
            "provider": {"name": draw(TEXT), "domain": f"news{n}.example.com"},
            "topics": draw(st.lists(TEXT, max_size=3)),
            "category": draw(TEXT),
            "secured": draw(TEXT),
        }
        files.append(front_matter(fields, ascii_only=has_surrogate(fields) or draw(st.booleans())))
    return files


class _Text(HTMLParser):
    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible(detail: dict[str, Any]) -> str:
    """What a reader shows for a feedparser text construct: HTML rendered (and never live), text as is."""
    if detail["type"] in ("text/html", "application/xhtml+xml"):
        page = _Text(detail["value"])
        assert page.tags == [], f"live markup in a text field: {detail['value']!r}"
        return "".join(page.parts)
    assert detail["type"] == "text/plain", detail
    return detail["value"]


def feedparser_sees(text: str) -> str:
    """feedparser "repairs" text that reads as UTF-8 mis-decoded as Latin-1 (`Ã©` → `é`, in `pop()`),
    so for such text it shows something other than what the feed says; other readers do not."""
    try:
        return text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def same(shown: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """feedparser's reading equals the JSON values, allowing for its Latin-1 repair."""
    def one(got: Any, want: Any) -> bool:
        if isinstance(want, list):
            return isinstance(got, list) and len(got) == len(want) and all(map(one, got, want))
        return got == want or got == feedparser_sees(want)
    return shown.keys() == wanted.keys() and all(one(shown[key], wanted[key]) for key in wanted)


def build(files: list[bytes]) -> tuple[Build, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        for n, data in enumerate(files):
            (Path(folder) / f"{n:03d}.txt").write_bytes(data)
        site = Build(Path(folder), Settings(base_url=BASE_URL))
        return site, dict(loaded(site, now=NOW))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(article_files())
def test_any_text_reads_back_the_same_in_rss_atom_and_json(files: list[bytes]) -> None:
    built, site = build(files)
    assert built.library.bad == {}, built.library.bad
    articles = {a.url: a for a in all_articles(built.library)}
    assert len(articles) == len(files)
    feeds = sorted({path.rsplit(".", 1)[0] for path in site if path.startswith("feeds/") and path.endswith(".json")
                    and not path.endswith("index.json")})
    assert "feeds/all" in feeds
    for feed in feeds:
        document = json.loads(site[f"{feed}.json"].body)
        json_titles = {item["id"]: item["title"] for item in document["items"]}
        json_tags = {item["id"]: item.get("tags", []) for item in document["items"]}
        for item_id, title in json_titles.items():
            assert title == articles[item_id].title  # JSON carries the normalised title as is
        for fmt in ("rss", "atom"):
            parsed = feedparser.parse(site[f"{feed}.{fmt}"].body)
            assert not parsed.bozo, (feed, fmt, parsed.get("bozo_exception"))
            if fmt == "rss":
                # RSS titles are plain text (the RSS Board's profile): a reader that follows it shows
                # the element's text as it is; feedparser would guess HTML from a `</b>` in it.
                root = ElementTree.fromstring(site[f"{feed}.rss"].body)
                assert root.findtext("channel/title") == document["title"], feed
                plain = {item.findtext("guid"): item.findtext("title") for item in root.iterfind("channel/item")}
                assert plain == json_titles, (feed, plain, json_titles)
            else:
                assert same({"": visible(parsed.feed.title_detail)}, {"": document["title"]}), (feed, fmt)
                shown = {entry.id: visible(entry.title_detail) for entry in parsed.entries}
                assert same(shown, json_titles), (feed, fmt, shown, json_titles)
            tags = {entry.id: [tag.term for tag in entry.get("tags", [])] for entry in parsed.entries}
            assert same(tags, json_tags), (feed, fmt, tags, json_tags)
        if feed == "feeds/all":
            assert set(json_titles) == set(articles)
    for path, output in site.items():
        assert b"\x00" not in output.body, path
        if path.endswith((".json", ".html", ".opml", ".rss", ".atom")):
            output.body.decode("utf-8")  # valid UTF-8: no lone surrogate survived


# -- URL cleaning ------------------------------------------------------------------------------------

URL_PIECES = [
    "http://", "https://", "HTTP://", "javascript:", "//", "/", "?", "#", "&", "=", "%", "%2F", "%zz", "%41",
    "@", ":", ":80", ":99999", "[", "]", "[::1]", "user:pw@", "xn--", "例え.jp", "münchen.de", "example.com",
    "www.", ".", "..", " ", "\t", "\n", "\x00", "\u202e", "\ufeff", "😀", "\\", "'", '"', "<", ">", "{", "|",
]
URLISH = st.lists(st.one_of(st.sampled_from(URL_PIECES), st.text(max_size=4)), max_size=10).map("".join)
_URI_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=%")


@settings(max_examples=200, deadline=None)
@given(st.one_of(URLISH, st.builds(lambda a, b: "https://example.com/" + a + b, URLISH, URLISH)))
def test_clean_url_gives_an_absolute_http_uri_and_is_idempotent(raw: str) -> None:
    url = clean_url(raw)
    if url is None:
        return
    assert url.startswith(("http://", "https://")), url
    assert set(url) <= _URI_CHARS, url
    assert clean_url(url) == url  # cleaning a clean URL changes nothing


_URL_ALPHABET = "abcxyzABC019-._~!$&'()*+,;=:@%/?#[] éß\t"


@settings(max_examples=500, deadline=None)
@given(st.one_of(
    URLISH,
    st.builds(lambda scheme, host, rest: f"{scheme}://{host}/{rest}",
              st.sampled_from(["http", "https", "HTTP", "ftp"]),
              st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}[a-z0-9]", fullmatch=True)
              | st.sampled_from(["EXAMPLE.com", "a_b.com", "x.com:80", "u@x.com", "münchen.de", "x.com."]),
              st.text(alphabet=_URL_ALPHABET, max_size=40)),
))
def test_clean_url_fast_path_agrees_with_the_slow_path(raw: str) -> None:
    assert clean_url(raw) == text_module.slow_clean_url(raw)


_TEXT_ALPHABET = st.sampled_from(list("ab Z.&;#x1 \t\n\r\u00a0\u00ad\u200b\u2060\ufeff\x85\x9f\x00\x7f"
                                      "é\u0301e\u0308“’—…日😀\ud83d\ude00\udfff\ufffe\u2028"))


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.text(alphabet=_TEXT_ALPHABET, max_size=30), st.text(max_size=30),
                 st.sampled_from(["&amp;", "a&b", "a  b", " a", "a ", "x" * 12, "e\u0301", "é", "AT&T"])),
       st.sampled_from([1, 5, 12, 300]))
def test_clean_text_fast_path_agrees_with_the_slow_path(raw: str, limit: int) -> None:
    assert clean_text(raw, limit=limit) == text_module.slow_clean_text(raw, limit=limit)


def test_the_text_fast_path_takes_clean_text_and_leaves_the_rest() -> None:
    clean = ["Helix Robotics to cut 24 jobs", "Zürich’s “new” plan — 2026", "日本語のニュース", "a"]
    unclean = ["AT&amp;T", "two  spaces", " lead", "trail ", "soft\u00adhyphen", "nb\u00a0sp", "tab\there",
               "e\u0301 (not NFC)", "x" * 301]
    for raw in clean:
        assert text_module._already_clean(raw, 300) and clean_text(raw, limit=300) == raw
    for raw in unclean:
        assert not text_module._already_clean(raw, 300)


def test_the_fast_path_takes_plain_urls_and_agrees_on_near_misses() -> None:
    plain = ["https://thelensnola.org/2020/11/12/new-orleans-police/", "http://a.b/x?y=1&z=%20",
             "https://i0.wp.com/x/DSC_8767.jpg?fit=2560%2C1709&ssl=1"]
    near = ["https://a.b", "https://a.b/x?", "https://a.b/x#f", "HTTPS://a.b/x", "https://A.b/x",
            "https://a.b:443/x", "https://a.b./x", "https://a_b.c/x", "https://a.b/x y", "https://a.b/é",
            "https://u@a.b/x", " https://a.b/x", "https://a.b/x\t"]
    for raw in plain:
        assert text_module._PLAIN_URL.fullmatch(raw) and clean_url(raw) == raw
    for raw in near:
        assert not text_module._PLAIN_URL.fullmatch(raw)
        assert clean_url(raw) == text_module.slow_clean_url(raw)
