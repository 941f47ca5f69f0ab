"""Text, URL and provider-domain normalisation: what a reader sees of untrusted strings."""

from __future__ import annotations

import pytest

from feedpub.reading.text import NAME_LIMIT, SUMMARY_LIMIT, TITLE_LIMIT, clean_text, clean_url, domain_key

# -- text ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("Bell\x07 and\x1b escape", "Bell and escape"),  # C0 controls
        ("Caf\u0080\u0092\u009f\u0085e", "Cafe"),  # C1 controls: mojibake, never text
        ("Not\ufffe a\uffff char", "Not a char"),  # XML forbids U+FFFE/U+FFFF
        ("half\ud800 a pair\udfff", "half a pair"),  # lone surrogates cannot be encoded
        ("emoji escaped as a pair: \ud83d\ude00", "emoji escaped as a pair: 😀"),  # JSON-style escape
    ],
)
def test_characters_a_feed_cannot_carry_are_removed(raw: str, shown: str) -> None:
    assert clean_text(raw, limit=TITLE_LIMIT) == shown


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("It&#8217;s here", "It’s here"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        # Decoded once only: an escaped entity stays an entity a reader can read.
        ("&amp;lt;b&amp;gt; is bold", "&lt;b&gt; is bold"),
        # Markup is literal text (the renderers escape it), never removed or interpreted.
        ("<script>alert(1)</script> news", "<script>alert(1)</script> news"),
        ("CDATA ends with ]]> here", "CDATA ends with ]]> here"),
    ],
)
def test_entities_are_decoded_once_and_markup_stays_literal(raw: str, shown: str) -> None:
    assert clean_text(raw, limit=TITLE_LIMIT) == shown


def test_invisible_padding_is_trimmed_at_the_ends_and_runs_of_space_collapse() -> None:
    assert clean_text("\u00a0\u00ad  Breaking:\n\n  news\t today \u00ad\u00a0", limit=TITLE_LIMIT) == (
        "Breaking: news today"
    )


@pytest.mark.parametrize(
    "text",
    [
        "مرحبا بالعالم — عنوان الخبر",  # right-to-left
        "שלום עולם",
        "Launch 🚀 day 👩🏽‍🚀 and 🇺🇦",  # emoji with modifier, ZWJ sequence and flag
        "日本語のニュース見出し",
    ],
)
def test_rtl_scripts_and_emoji_are_kept_intact(text: str) -> None:
    assert clean_text(text, limit=TITLE_LIMIT) == text


def test_non_text_values_give_no_text() -> None:
    for value in (None, 42, ["a"], {"a": 1}, True, b"bytes"):
        assert clean_text(value, limit=TITLE_LIMIT) == ""


@pytest.mark.parametrize("limit", [TITLE_LIMIT, SUMMARY_LIMIT])
def test_a_100kb_field_is_cut_to_the_limit_and_marked(limit: int) -> None:
    text = clean_text("word " * 20_000, limit=limit)
    assert len(text) <= limit
    assert text.endswith("word…")  # cut between words, the cut marked


def test_unspaced_text_is_cut_without_parting_a_letter_from_its_accent() -> None:
    # `q̇` has no precomposed form: two code points, one character for a reader.
    text = clean_text("q\u0307" * 50_000, limit=TITLE_LIMIT)
    assert len(text) <= TITLE_LIMIT and text.endswith("…")
    assert text[:-1] == "q\u0307" * ((len(text) - 1) // 2)


def test_unspaced_emoji_are_cut_whole() -> None:
    text = clean_text("👍🏽" * 50_000, limit=TITLE_LIMIT)
    assert len(text) <= TITLE_LIMIT and text.endswith("…")
    assert text[:-1] == "👍🏽" * ((len(text) - 1) // 2)


def test_text_shortened_only_by_the_work_bound_is_still_marked_as_cut() -> None:
    # Long whitespace runs collapse in cleaning: what is left fits the limit but is not the whole text.
    raw = ("word" + " " * 200) * 500 + "THE END"
    text = clean_text(raw, limit=NAME_LIMIT)
    assert text.endswith("…")
    assert "THE END" not in text


# -- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "/story/1",  # relative: no base to resolve it against
        "story/1",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<b>hi</b>",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "example.com/x",  # schemeless: we do not guess a scheme
        "//example.com/x",
        "https://",
        "https://exa mple.com/x",  # a space in the host
        "https://example.com:99999/x",  # impossible port
        "http://[fe80::1%25eth0]/x",  # an address with a zone: meaningless beyond one machine
        "http://[::1/x",
        "",
        "   ",
    ],
)
def test_only_absolute_http_urls_are_links(raw: str) -> None:
    assert clean_url(raw) is None


@pytest.mark.parametrize(
    "raw, link",
    [
        ("  https://example.com/story/1 \n", "https://example.com/story/1"),
        ("https://example.com/a story/with spaces", "https://example.com/a%20story/with%20spaces"),
        ("HTTPS://Example.COM/Path", "https://example.com/Path"),  # host is case-insensitive, path is not
        ("https://bücher.example/straße?q=äöü", "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%A4%C3%B6%C3%BC"),
        ("https://example.com/already%20encoded", "https://example.com/already%20encoded"),  # not twice
        ("https://example.com", "https://example.com/"),
        ("https://user:secret@example.com/x", "https://example.com/x"),  # credentials never reach a feed
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("http://[::1]:8000/x", "http://[::1]:8000/x"),  # an IPv6 address keeps its brackets
        ("https://[2001:DB8::1]/a", "https://[2001:db8::1]/a"),
    ],
)
def test_urls_are_normalised_to_valid_uris(raw: str, link: str) -> None:
    assert clean_url(raw) == link


# -- provider domains ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, key",
    [
        ("Example.COM", "example.com"),
        ("www.example.com", "example.com"),
        ("example.com:8080", "example.com"),
        ("example.com.", "example.com"),
        ("  WWW.News.Example.com.  ", "news.example.com"),
        ("https://www.example.com/world/", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_provider_domains_become_one_stable_key(raw: str, key: str) -> None:
    assert domain_key(raw) == key


@pytest.mark.parametrize("raw", ["../etc", "..", "/etc/passwd", "a..b", "news/world", "", "-bad.example", None, 7])
def test_a_domain_that_looks_like_a_path_is_not_a_key(raw: object) -> None:
    assert domain_key(raw) is None
