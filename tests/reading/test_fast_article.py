"""The C article builder (feeds/reading/_articles.c) gives exactly what the Python path gives.

For every front matter it builds, the stored values (`article_values`), their types and the warnings
equal the Python path's; for a bad file it builds nothing, so every reason stays Python's. Beyond
these tests, every front matter any test of the suite turns into an article is checked the same way
(`article_builder_audit` in conftest.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub import accelerators
from feedpub.corpus import generate
from feedpub.reading import article_file, fast_article
from feedpub.reading.parallel import _parse_chunk
from tests.helpers import SEEDS, sample_fields
from tests.reading.article_checks import difference, python_reads

if os.environ.get("FEEDPUB_REQUIRE_ACCELERATOR") != "1":  # .ci/run requires it, having installed gcc
    pytestmark = pytest.mark.skipif(not fast_article.available(), reason="the C article builder is not built")


def front_of(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    front = article_file._accelerated_front_matter(data)
    return front if front is not None else article_file.load_front_matter(article_file.decode(data))


def built_as_python_reads(front: dict[str, Any]) -> bool:
    """Asserts the builder gives the Python path's values or nothing; whether it built them."""
    found = difference(front)
    assert found is None, found
    return fast_article.build(front, "a.txt") is not None


def test_the_builder_is_built_and_on() -> None:
    assert fast_article.available()


def test_every_seed_and_generated_article_is_built_as_the_python_path_reads_it(tmp_path: Path) -> None:
    paths = sorted(SEEDS.glob("*.txt"))
    for seed in (1, 2, 3, 4):
        generate(tmp_path / f"corpus{seed}", 250, seed=seed)
        paths += sorted((tmp_path / f"corpus{seed}").rglob("*.txt"))
    assert len(paths) > 1000
    built = sum(built_as_python_reads(front_of(path)) for path in paths)
    # Entities, long or odd texts and dates go to Python; the usual file is built (the speed-up).
    assert built > 0.85 * len(paths), (built, len(paths))


def test_the_test_suite_s_sample_articles_too() -> None:
    assert all(built_as_python_reads(sample_fields(n)) for n in range(50))


def test_a_worker_s_blobs_are_the_same_with_and_without_the_builder(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    generate(tmp_path / "corpus", 600, seed=7)
    rels = sorted(str(path.relative_to(tmp_path / "corpus")) for path in (tmp_path / "corpus").rglob("*.txt"))
    job = (tmp_path / "corpus", article_file.MAX_FILE_BYTES, False, rels)
    shipped = _parse_chunk(job)
    monkeypatch.setenv(accelerators.SWITCH, "0")
    assert not fast_article.available()
    assert _parse_chunk(job) == shipped


GOOD = sample_fields(1)
URL = GOOD["webUrl"]

# One field changed at a time: each fast path's edges, on both of its sides.
CASES: list[dict[str, Any]] = [
    # titles and other texts
    {"title": "Plain title"}, {"title": ""}, {"title": None}, {"title": 12}, {"title": " edge"}, {"title": "edge "},
    {"title": "two  spaces"}, {"title": "AT&T"}, {"title": "&amp;"}, {"title": "tab\there"}, {"title": "new\nline"},
    {"title": "Zoë “quoted” — ü"}, {"title": "e\u0301 not NFC"}, {"title": "\u00a0nbsp"}, {"title": "soft\u00adhyphen"},
    {"title": "zero\u200bwidth"}, {"title": "\x7fdel"}, {"title": "\x85c1"}, {"title": "x" * 300}, {"title": "x" * 301},
    {"title": "emoji 😀 ok"}, {"title": "\ufeffbom"}, {"title": "<b>bold</b>"},
    {"excerpt": ""}, {"excerpt": None}, {"excerpt": 5}, {"excerpt": "y" * 2000}, {"excerpt": "y " * 1001},
    {"excerpt": "Read more &raquo;"}, {"category": "x" * 201}, {"category": ["news"]}, {"type": "video"},
    {"type": None},
    # URLs
    {"webUrl": "https://example.com/a"}, {"webUrl": "http://example.com/"}, {"webUrl": "https://example.com"},
    {"webUrl": "HTTPS://example.com/a"}, {"webUrl": "https://Example.com/a"}, {"webUrl": "https://example.com:443/a"},
    {"webUrl": "https://example.com./a"}, {"webUrl": "https://a..b/a"}, {"webUrl": "https://-a.com/a"},
    {"webUrl": "https://a-.com/a"}, {"webUrl": "https://a_b.com/a"}, {"webUrl": "https://example.com/a#frag"},
    {"webUrl": "https://example.com/a?"}, {"webUrl": "https://example.com/a?b=1&c=%20?d"},
    {"webUrl": "https://example.com/a b"}, {"webUrl": "https://example.com/ü"}, {"webUrl": "https://例え.jp/a"},
    {"webUrl": "https://user@example.com/a"}, {"webUrl": "ftp://example.com/a"}, {"webUrl": " https://example.com/a"},
    {"webUrl": "https://example.com/" + "a" * 2030}, {"webUrl": "https://example.com/" + "a" * 2040},
    {"webUrl": None, "originalUrl": "https://example.org/o"}, {"webUrl": None, "originalUrl": None},
    {"webUrl": 5, "originalUrl": "https://example.org/o"}, {"webUrl": "", "originalUrl": "https://example.org/o"},
    {"webUrl": "https://[::1]/a"}, {"webUrl": "https://1.2.3.4/a"},
    # dates
    {"publishedDateTime": "2026-05-29T22:36:00Z"}, {"publishedDateTime": "2026-05-29T22:36:00+05:30"},
    {"publishedDateTime": "2026-05-29T22:36:00-11:45"}, {"publishedDateTime": "2026-05-29T22:36:00-00:00"},
    {"publishedDateTime": "2026-05-29T22:36:00+23:59"}, {"publishedDateTime": "2026-05-29T22:36:00+24:00"},
    {"publishedDateTime": "2026-05-29T22:36:00.5Z"}, {"publishedDateTime": "2026-05-29T22:36:00.123456Z"},
    {"publishedDateTime": "2026-05-29T22:36:00.1234567Z"}, {"publishedDateTime": "2026-05-29T22:36:00."},
    {"publishedDateTime": "2026-05-29 22:36:00"}, {"publishedDateTime": "2026-05-29 22:36:00Z"},
    {"publishedDateTime": "2026-05-29 22:36:00 +02:00"}, {"publishedDateTime": "2026-05-29t22:36:00Z"},
    {"publishedDateTime": "2026-05-29T22:36:00"}, {"publishedDateTime": "2026-05-29"}, {"publishedDateTime": "2026-5-29"},
    {"publishedDateTime": "2026-02-29T00:00:00Z"}, {"publishedDateTime": "2024-02-29T00:00:00Z"},
    {"publishedDateTime": "2000-02-29T00:00:00Z"}, {"publishedDateTime": "1900-02-29T00:00:00Z"},
    {"publishedDateTime": "2026-13-01T00:00:00Z"}, {"publishedDateTime": "2026-04-31T00:00:00Z"},
    {"publishedDateTime": "2026-01-01T24:00:00Z"}, {"publishedDateTime": "2026-01-01T23:60:00Z"},
    {"publishedDateTime": "2026-01-01T23:59:60Z"}, {"publishedDateTime": "1970-01-01T00:00:00Z"},
    {"publishedDateTime": "1970-01-02T00:00:00Z"}, {"publishedDateTime": "1970-01-01T00:30:00+01:00"},
    {"publishedDateTime": "1969-12-31T23:00:00-02:00"}, {"publishedDateTime": "9999-12-31T00:00:00Z"},
    {"publishedDateTime": "9999-12-30T23:00:00-05:00"}, {"publishedDateTime": "0001-01-01T00:00:00Z"},
    {"publishedDateTime": " 2026-05-29T22:36:00Z"}, {"publishedDateTime": "Fri, 29 May 2026 22:36:00 GMT"},
    {"publishedDateTime": "٢٠٢٦-05-29T22:36:00Z"}, {"publishedDateTime": None}, {"publishedDateTime": 2026},
    # published
    {"published": True}, {"published": False}, {"published": None}, {"published": "yes"}, {"published": 0},
    {"published": "maybe"},
    # providers
    {"provider": {"name": "Name", "domain": "example.com"}}, {"provider": {"name": "", "domain": "example.com"}},
    {"provider": {"name": "Name", "domain": "WWW.Example.COM."}}, {"provider": {"name": "N", "domain": "www.a"}},
    {"provider": {"name": "N", "domain": "localhost"}}, {"provider": {"name": "N", "domain": "a_b.c-d.e"}},
    {"provider": {"name": "N", "domain": "-a.com"}}, {"provider": {"name": "N", "domain": "a." + "b" * 63}},
    {"provider": {"name": "N", "domain": "a." + "b" * 64}}, {"provider": {"name": "N", "domain": "a" * 64 + ".com"}},
    {"provider": {"name": "N", "domain": ("a" * 60 + ".") * 4 + "com"}}, {"provider": {"name": "N", "domain": "a..com"}},
    {"provider": {"name": "N", "domain": "https://example.com/x"}}, {"provider": {"name": "N", "domain": "example.com:8080"}},
    {"provider": {"name": "N", "domain": ""}}, {"provider": {"name": "N", "domain": None}}, {"provider": {"name": "N"}},
    {"provider": {"name": "N", "domain": 5}}, {"provider": {"name": "&amp; Co", "domain": "x.com"}},
    {"provider": {"domain": "x.com"}}, {"provider": "Just a name"}, {"provider": None}, {"provider": ["x"]},
    {"provider": {"name": "N", "domain": "例え.jp"}},
    {"webUrl": "https://www.example.net/a", "provider": {"name": "N"}},
    {"webUrl": "https://localhost/a", "provider": {"name": ""}},
    # topics
    {"topics": []}, {"topics": None}, {"topics": "Single"}, {"topics": ["AI", "ai", "A.I.", "Ai"]},
    {"topics": ["AI", True, None, 3, 2.5, ["x"], {"a": 1}]}, {"topics": ["<b>AI</b>"]}, {"topics": ["a < b"]},
    {"topics": ["", " ", "x"]}, {"topics": ["Machine  Learning"]}, {"topics": [f"t{n}" for n in range(120)]},
    {"topics": ["Künstliche Intelligenz", "人工知能", "Ａｉ"]}, {"topics": {"a": 1}}, {"topics": 5},
    # images
    {"images": []}, {"images": None}, {"images": "https://img.example.com/x.jpg"},
    {"images": {"url": "https://img.example.com/x.jpg", "width": 10, "height": 20}},
    {"images": [{"url": None}, {"url": 5}, "https://img.example.com/y.jpg"]},
    {"images": [{"url": "https://img.example.com/x.jpg", "width": 0, "height": 100000}]},
    {"images": [{"url": "https://img.example.com/x.jpg", "width": True, "height": 99999}]},
    {"images": [{"url": "https://img.example.com/x.jpg", "width": 2**70, "height": "10"}]},
    {"images": [{"url": "not a url"}]}, {"images": [{"nourl": 1}] * 25 + ["https://img.example.com/z.jpg"]},
    {"images": 5}, {"images": [None, 3]},
    # numbers
    {"quality": 5}, {"quality": 5.5}, {"quality": None}, {"quality": ""}, {"quality": "5"}, {"quality": True},
    {"quality": float("inf")}, {"quality": float("nan")}, {"quality": 10**400}, {"heat": -3}, {"heat": [1]},
    # related
    {"related": None}, {"related": []}, {"related": "x"}, {"related": [None, 3, "x"]},
    {"related": [{"title": "R", "webUrl": "https://r.example.com/1"}]},
    {"related": [{"title": "R", "webUrl": "https://r.example.com/1"}, {"title": "R2", "webUrl": "https://r.example.com/1"}]},
    {"related": [{"title": "Own", "webUrl": URL}]}, {"related": [{"title": "", "webUrl": "https://r.example.com/1"}]},
    {"related": [{"title": "R", "webUrl": None, "originalUrl": "https://r.example.com/o"}]},
    {"related": [{"title": "R", "webUrl": "bad url", "originalUrl": "https://r.example.com/o"}]},
    {"related": [{"title": "R"}]}, {"related": [{"title": "R &amp;", "webUrl": "https://r.example.com/1"}]},
    {"related": [{"title": "R", "webUrl": "https://r.example.com/1", "provider": {"name": "P", "domain": "p.com"}}]},
    {"related": [{"title": "R", "webUrl": "https://r.example.com/1", "provider": {"name": "", "domain": "WWW.P.com"}}]},
    {"related": [{"title": "R", "webUrl": "https://r.example.com/1", "provider": {"name": "", "domain": "nodot"}}]},
    {"related": [{"title": "R", "webUrl": "https://r.example.com/1", "provider": "P"}]},
    {"related": [{"title": "R", "webUrl": "https://r.example.com/1", "publishedDateTime": "2026-01-01T00:00:00+01:00"}]},
    {"related": [{"title": "R", "webUrl": "https://r.example.com/1", "publishedDateTime": "soon"}]},
    {"related": [{"title": "R", "webUrl": "https://r.example.com/1", "publishedDateTime": None}]},
    {"related": [{"title": f"R{n}", "webUrl": f"https://r.example.com/{n}"} for n in range(130)]},
    {"related": [{"title": "R", "webUrl": f"https://r.example.com/{n % 3}"} for n in range(30)]},
    {"related": [{}] * 99 + [{"title": "R", "webUrl": "https://r.example.com/late"}]},
]


@pytest.mark.parametrize("change", CASES, ids=[repr(case)[:60] for case in CASES])
def test_each_field_s_edges(change: dict[str, Any]) -> None:
    built_as_python_reads({**GOOD, **change})


def test_the_usual_values_are_built_not_left_to_python() -> None:
    """The cases the builder must build (else the speed-up is gone without a failure)."""
    usual: list[dict[str, Any]] = [
        {}, {"publishedDateTime": "2026-05-29T22:36:00+05:30"}, {"publishedDateTime": "2026-05-29 22:36:00"},
        {"publishedDateTime": "2026-05-29T22:36:00.123Z"}, {"publishedDateTime": "2026-05-29"}, {"published": False},
        {"title": "Zoë “quoted”"}, {"images": []}, {"topics": ["AI", "ai"]},
        {"provider": {"name": "", "domain": "www.example.com"}}, {"quality": None, "heat": 1.5},
    ]
    for change in usual:
        assert built_as_python_reads({**GOOD, **change}), change


def test_a_bad_file_is_never_built() -> None:
    for change in ({"title": ""}, {"webUrl": None, "originalUrl": None}, {"publishedDateTime": None},
                   {"publishedDateTime": "2026-13-01T00:00:00Z"}, {"published": "maybe"}):
        front = {**GOOD, **change}
        assert isinstance(python_reads(front), str)
        assert fast_article.build(front, "a.txt") is None


TEXT = st.one_of(
    st.text(alphabet=st.sampled_from("aZ09 &;.,:<>/\t\n\u00a0\u00ad\u200be\u0301ü😀“"), max_size=12),
    st.sampled_from(["", " ", "x", "AT&T", "a  b", "Zoë", "<b>x</b>", "x" * 250]),
)
URLS = st.one_of(
    st.builds(lambda host, path, query: f"https://{host}/{path}{query}",
              st.sampled_from(["example.com", "a-b.example.org", "Example.com", "x..y", "-x.com", "www.p.co", "localhost"]),
              st.text(alphabet=st.sampled_from("az09-._~%/ü #"), max_size=8),
              st.sampled_from(["", "?", "?a=1&b=2", "?x?y", "#f"])),
    st.sampled_from([None, "", "ftp://x.com/a", "https://x.com", 7]),
)
DATES = st.one_of(
    st.builds(lambda y, m, d, h, sep, frac, zone: f"{y:04d}-{m:02d}-{d:02d}{sep}{h:02d}:30:15{frac}{zone}",
              st.sampled_from([1969, 1970, 2000, 2024, 2026, 9999]), st.integers(0, 13), st.integers(0, 32),
              st.integers(0, 24), st.sampled_from(["T", " ", "t"]), st.sampled_from(["", ".1", ".123456", ".1234567"]),
              st.sampled_from(["Z", "", "+05:30", "-12:00", "+24:00", " +01:00"])),
    st.sampled_from([None, "2026-05-29", "2026-02-29", "not a date", 2026]),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**6), st.floats(allow_nan=True), TEXT)


@given(title=TEXT, excerpt=st.one_of(TEXT, st.none()), url=URLS, original=URLS, when=DATES,
       published=st.sampled_from([None, True, False, "yes", 0]),
       provider=st.one_of(st.fixed_dictionaries({"name": st.one_of(TEXT, st.none()), "domain": st.one_of(
           st.sampled_from(["example.com", "WWW.X.org.", "nodot", "a_b.c", "x.com:80", ""]), st.none())}), TEXT),
       topics=st.one_of(st.lists(st.one_of(TEXT, SCALARS), max_size=6), TEXT, st.none()),
       images=st.one_of(st.lists(st.one_of(URLS, st.fixed_dictionaries(
           {"url": URLS, "width": SCALARS, "height": SCALARS})), max_size=3), st.none()),
       quality=SCALARS, related=st.lists(st.one_of(st.fixed_dictionaries(
           {"title": TEXT, "webUrl": URLS, "publishedDateTime": DATES,
            "provider": st.fixed_dictionaries({"name": TEXT, "domain": st.sampled_from(["p.com", "P.COM", "bad"])})}),
           SCALARS), max_size=4))
def test_random_front_matter(title: Any, excerpt: Any, url: Any, original: Any, when: Any, published: Any,
                             provider: Any, topics: Any, images: Any, quality: Any, related: Any) -> None:
    front = {"title": title, "excerpt": excerpt, "webUrl": url, "originalUrl": original, "publishedDateTime": when,
             "published": published, "provider": provider, "topics": topics, "images": images, "quality": quality,
             "heat": quality, "related": related}
    built_as_python_reads(front)


def test_text_of_characters_up_to_u_00ff_is_its_own_nfc() -> None:
    """The builder skips the NFC check for text of one-byte characters (a Python str's narrowest
    kind): every such character, and every pair of them, is already NFC."""
    import unicodedata

    characters = [chr(code) for code in range(256)]
    assert all(unicodedata.is_normalized("NFC", c) and unicodedata.combining(c) == 0 for c in characters)
    assert all(unicodedata.normalize("NFC", a + b) == a + b for a in characters for b in characters)
