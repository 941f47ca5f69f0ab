"""Usage: .venv/bin/python bench/fuzz.py [--parse 20000] [--render 2000] [--seed N]   (minutes; not run by pytest)

A long fuzzing run of the two places untrusted bytes meet feedpub:

1. `feedpub.reading.article_file.parse_article`: any bytes give a `ParsedFile` (with a title, an absolute
   http(s) URL and an aware UTC date) or an `ArticleError` with a reason — never another exception.
   Inputs: raw bytes, YAML-ish fragments, front matter with arbitrary values in every field, and
   byte-level mutations of the bundled seed articles.
2. Rendering: the articles that parse (from fields holding arbitrary text and values) are built into a
   site the way `feedpub` does (`Catalog` → `SiteBuilder`); every RSS and Atom body must be read by
   feedparser without `bozo`, every JSON Feed must load, every body must be valid UTF-8 without NUL,
   and each item must show the same title in all three formats.

Hypothesis drives both (atheris does not install on this machine). A failure prints Hypothesis's
shrunk example and exits 1.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import feedparser  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from feedpub.catalog.catalog import Catalog  # noqa: E402
from feedpub.reading.article import Entry  # noqa: E402
from feedpub.reading.article_file import ArticleError, ParsedFile, parse_article  # noqa: E402
from feedpub.render.site import SiteBuilder  # noqa: E402
from feedpub.settings import Settings  # noqa: E402
from tests.test_properties import PIECES, TEXT, feedparser_sees, visible  # noqa: E402

NOW = datetime(2026, 2, 1, tzinfo=UTC)
SETTINGS = Settings(base_url="https://feeds.example.org")
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))[:40]
SEED_BYTES = [path.read_bytes() for path in SEEDS]

# -- inputs ---------------------------------------------------------------------------------------

YAML_BITS = st.sampled_from(
    list("-:[]{}&*!|>'\"#%@`,?\n \t\\aZ09é") + [
        "---\n", "...\n", "\ud800", "\x00", "\x85", "\ufeff", "\u2028", "!!int ", "!!float ", "!!bool ",
        "!!binary ", "!!timestamp ", "!!set ", "!!omap ", "!!python/object:os.system ", "!custom ", "&a ", "*a",
        "<<: *a\n", "? ", "title: ", "webUrl: https://x.example/a\n", "publishedDateTime: ", "2021-05-07",
        "2021-05-07T10:00:00+02:00", "published: ", "topics:\n  - ", "provider:\n  name: ", "images:\n  - url: ",
        "related:\n  - title: ", "quality: ", "1e400", "0x1F", "-.inf", ".nan", "~", "null", "yes", "no",
        "9" * 30, "%YAML 1.1\n", "%TAG ! tag:x,2000:\n",
    ]
)
YAMLISH = st.lists(YAML_BITS, max_size=80).map(lambda bits: ("---\n" + "".join(bits) + "\n---\n").encode(
    "utf-8", "surrogatepass"))

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["url", "name", "domain", "title", "webUrl", "originalUrl", "width", "height",
                         "publishedDateTime", "provider"]), children, max_size=4),
    max_leaves=12,
)
FIELD_NAMES = ["title", "excerpt", "publishedDateTime", "webUrl", "originalUrl", "ampWebUrl", "provider",
               "topics", "images", "related", "quality", "heat", "published", "category", "type",
               "featuredContent", "secured"]


def front_matter(fields: dict, ascii_only: bool) -> bytes:
    lines = ["---", *(f"{key}: {json.dumps(value, ensure_ascii=ascii_only)}" for key, value in fields.items()),
             "---"]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


BASE_FIELDS = {
    "title": "Base headline", "excerpt": "Base excerpt", "publishedDateTime": "2026-01-15T12:00:00Z",
    "webUrl": "https://news.example.com/a", "originalUrl": "https://news.example.com/a",
    "provider": {"name": "News", "domain": "news.example.com"}, "topics": ["World"],
}
FIELDS = st.tuples(st.dictionaries(st.sampled_from(FIELD_NAMES), JSONISH, max_size=6), st.booleans()).map(
    lambda pair: front_matter({**BASE_FIELDS, **pair[0]}, ascii_only=True if _surrogates(pair[0]) else pair[1]))


def _surrogates(value: object) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_surrogates(v) for v in value.values())
    if isinstance(value, list):
        return any(_surrogates(v) for v in value)
    return False


@st.composite
def mutated_seed(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEED_BYTES)))
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 12))):
        if not data:
            break
        at = rng.randrange(len(data))
        action = rng.randrange(4)
        if action == 0:
            data[at] = rng.randrange(256)
        elif action == 1:
            del data[at : at + rng.randrange(1, 40)]
        elif action == 2:
            data[at:at] = rng.choice([b"\n", b"---\n", b": ", b"- ", b"\"", b"'", b"&a ", b"*a", b"\t", b"\x00",
                                      b"\xff", b"\xc3", b"]]>", rng.choice(PIECES).encode("utf-8", "replace")])
        else:
            cut = rng.randrange(len(data))
            data = data[:cut]  # a half-written file
    return bytes(data)


ANY_BYTES = st.one_of(st.binary(max_size=400), YAMLISH, FIELDS, mutated_seed())

# -- 1. parsing -----------------------------------------------------------------------------------

outcomes: Counter[str] = Counter()


def check_parse(data: bytes) -> ParsedFile | None:
    try:
        parsed = parse_article(data, source="fuzz.txt")
    except ArticleError as error:
        reason = str(error)
        assert reason and "\n" not in reason and len(reason) < 400, repr(reason)
        outcomes[reason.split(":")[0][:40]] += 1
        return None
    article = parsed.article
    assert isinstance(parsed, ParsedFile)
    assert article.title and article.title == article.title.strip()
    assert article.url.startswith(("http://", "https://"))
    assert article.published.tzinfo is UTC
    assert all(isinstance(topic, str) and topic for topic in article.topics)
    outcomes["ok"] += 1
    return parsed


# -- 2. rendering ---------------------------------------------------------------------------------


@st.composite
def renderable(draw: st.DrawFn) -> list[bytes]:
    files = []
    for n in range(draw(st.integers(1, 4))):
        extra = draw(st.dictionaries(st.sampled_from(["images", "related", "quality", "heat", "category", "type",
                                                     "featuredContent"]), JSONISH, max_size=3))
        fields = {
            **extra,
            "title": draw(TEXT) + draw(st.sampled_from(["A", "é", "中", "😀"])) + draw(TEXT),
            "excerpt": draw(TEXT),
            "publishedDateTime": draw(st.sampled_from(["2026-01-15T12:00:00Z", "2026-01-15 13:00:00 +01:00",
                                                       "2026-01-15", "Thu, 15 Jan 2026 12:00:00 GMT"])),
            "webUrl": f"https://news{n}.example.com/{draw(st.text(max_size=6))}",
            "provider": {"name": draw(TEXT), "domain": draw(st.sampled_from(
                [f"news{n}.example.com", "www.Example.COM.", "münchen.de", "", "../x"]))},
            "topics": draw(st.lists(TEXT, max_size=3)),
            "secured": draw(TEXT),
        }
        files.append(front_matter(fields, ascii_only=_surrogates(fields) or draw(st.booleans())))
    return files


def check_render(files: list[bytes]) -> None:
    articles = [parsed.article for data in files if (parsed := check_parse(data)) is not None]
    if not articles:
        return
    entries = [Entry.of(article) for article in articles]
    catalog = Catalog.build(entries, now=NOW, limit=SETTINGS.limit)
    site = SiteBuilder(SETTINGS).build(catalog, {entry.digest: a for entry, a in zip(entries, articles, strict=True)})
    for path, output in site.items():
        assert b"\x00" not in output.body, path
        output.body.decode("utf-8")
    feeds = sorted({p.rsplit(".", 1)[0] for p in site if p.startswith("feeds/") and p.endswith(".rss")})
    for feed in feeds:
        document = json.loads(site[f"{feed}.json"].body)
        titles = {item["id"]: item["title"] for item in document["items"]}
        for fmt in ("rss", "atom"):
            parsed = feedparser.parse(site[f"{feed}.{fmt}"].body)
            assert not parsed.bozo, (feed, fmt, parsed.get("bozo_exception"))
            for entry in parsed.entries:
                shown, wanted = visible(entry.title_detail), titles[entry.id]
                assert shown in (wanted, feedparser_sees(wanted)), (feed, fmt, shown, wanted)
    json.loads(site["feeds/index.json"].body)
    stats["sites"] += 1
    stats["feeds"] += len(feeds)


stats: Counter[str] = Counter()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parse", type=int, default=20_000, help="examples for the parser")
    parser.add_argument("--render", type=int, default=2_000, help="examples for rendering")
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: random)")
    args = parser.parse_args()
    common = dict(deadline=None, database=None, derandomize=False, print_blob=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])

    failures = 0
    def parse_only(data: bytes) -> None:
        check_parse(data)

    for name, strategy, check, count in (("parse_article", ANY_BYTES, parse_only, args.parse),
                                         ("rendering", renderable(), check_render, args.render)):
        test = settings(max_examples=count, **common)(given(strategy)(check))
        if args.seed is not None:
            from hypothesis import seed

            test = seed(args.seed)(test)
        started = time.perf_counter()
        try:
            test()
            verdict = "ok"
        except Exception as error:  # Hypothesis has printed the shrunk example
            failures += 1
            verdict = f"FAILED: {type(error).__name__}: {str(error)[:300]}"
        print(f"{name}: {count} examples in {time.perf_counter() - started:.0f} s: {verdict}", flush=True)
    print("parse outcomes (reason prefix: count):")
    for reason, count in outcomes.most_common(25):
        print(f"  {count:7d}  {reason}")
    print(f"rendering: {stats['sites']} sites, {stats['feeds']} feeds checked in RSS, Atom and JSON")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
