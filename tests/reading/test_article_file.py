"""One article file → one clean Article, or a reason the user can act on."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedpub.reading.article_file import ArticleError, ParsedFile, parse_article
from feedpub.reading.text import SUMMARY_LIMIT, TITLE_LIMIT
from tests.helpers import article_text, sample_fields


def parse(**overrides: Any) -> ParsedFile:
    """Parse article 0 of the fixtures with some fields changed (None leaves a field out)."""
    return parse_article(article_text(**sample_fields(0, **overrides)).encode(), source="0.txt")


def parse_yaml(*lines: str) -> ParsedFile:
    """Parse raw front matter lines, for YAML forms JSON cannot write (unquoted dates, tags, escapes)."""
    return parse_article(("---\n" + "\n".join(lines) + "\n---\n").encode(), source="raw.txt")


MINIMAL = ("title: A headline", "webUrl: https://example.com/a", "publishedDateTime: 2021-05-07T10:00:00Z")


def refused(**overrides: Any) -> str:
    with pytest.raises(ArticleError) as error:
        parse(**overrides)
    return str(error.value)


# -- wrong types ---------------------------------------------------------------------------------


def test_topics_given_as_one_string_is_one_topic() -> None:
    assert parse(topics="Science").article.topics == ("Science",)


def test_topics_keep_text_and_numbers_and_drop_what_is_not_a_name() -> None:
    # A number is a name a reader can read ("2024"); a mapping, list, null or boolean is not.
    parsed = parse(topics=["AI", 2024, {"name": "x"}, ["nested"], None, True, "  ", "AI"])
    assert parsed.article.topics == ("AI", "2024")


def test_spellings_of_one_topic_are_one_category_named_as_first_spelled() -> None:
    # One feed each (`catalog.topics.topic_key`: case, spacing, typographic quotes and dashes), so one
    # category each; punctuation that means something keeps topics apart.
    parsed = parse(topics=["AI", "ai", "A I", "Machine  learning", "machine Learning", "Women’s health",
                           "Women's Health", "C", "C++", "C#", "c#"])
    assert parsed.article.topics == ("AI", "A I", "Machine learning", "Women’s health", "C", "C++", "C#")


def test_provider_given_as_a_string_is_its_name_and_the_domain_comes_from_the_url() -> None:
    provider = parse(provider="The Lens").article.provider
    assert (provider.name, provider.domain) == ("The Lens", "news0.example.com")


def test_images_given_as_one_mapping_is_the_image() -> None:
    image = parse(images={"url": "https://img.example.com/a.jpg", "width": 640, "height": 480}).article.image
    assert image is not None and (image.url, image.width, image.height) == ("https://img.example.com/a.jpg", 640, 480)


def test_quality_as_text_is_a_warning_and_the_article_is_kept() -> None:
    parsed = parse(quality="very high")
    assert parsed.article.quality is None
    assert "quality is not a number (other text)" in parsed.warnings  # the value is never quoted


def test_quality_as_a_numeric_string_is_a_number() -> None:
    assert parse(quality="55").article.quality == 55.0


@pytest.mark.parametrize("value", [False, "false", "no", "No", "off", "0", 0])
def test_published_false_in_any_spelling_is_a_draft(value: object) -> None:
    assert parse(published=value).article.draft is True


@pytest.mark.parametrize("value", [None, True, "true", "yes", 1])
def test_published_absent_or_true_is_published(value: object) -> None:
    assert parse(published=value).article.draft is False


def test_unquoted_yaml_no_is_a_draft() -> None:
    assert parse_yaml(*MINIMAL, "published: no").article.draft is True


@pytest.mark.parametrize("value", ["maybe", "", 2, ["false"], {"value": False}])
def test_published_we_cannot_read_makes_the_file_bad_rather_than_publish_a_draft(value: object) -> None:
    reason = refused(published=value)
    assert "published" in reason and "true or false" in reason


@pytest.mark.parametrize("title", ["", "   ", "\u00a0\u00ad\t", None, ["a list"]])
def test_an_article_without_a_readable_title_is_bad(title: object) -> None:
    assert "title" in refused(title=title)


def test_a_100kb_title_and_excerpt_are_cut_to_a_readable_length() -> None:
    article = parse(title="Headline " * 11_000, excerpt="Summary " * 12_500).article
    assert len(article.title) <= TITLE_LIMIT and article.title.endswith("Headline…")
    assert len(article.summary) <= SUMMARY_LIMIT and article.summary.endswith("Summary…")


def test_an_unspaced_100kb_title_is_cut_on_a_character_boundary() -> None:
    title = parse(title="漢字" * 50_000).article.title
    assert len(title) <= TITLE_LIMIT and title.endswith("…")
    assert set(title[:-1]) <= {"漢", "字"}


def test_alias_bomb_is_a_bad_file_found_quickly_without_expanding_it() -> None:
    # Billion laughs: 9 levels of 9 aliases would be 9⁹ strings if anything expanded them.
    laughs = ['lol0: &lol0 "lol"'] + [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 9)}]" for i in range(1, 10)]
    started = time.perf_counter()
    for use in ("topics: *lol9", "published: *lol9", "quality: *lol9"):
        with pytest.raises(ArticleError, match="aliases expand to more than 100,000 values"):
            parse_yaml(*MINIMAL, *laughs, use)
    assert time.perf_counter() - started < 5  # ~0.05 s; expanding 9⁹ values would take hours


@pytest.mark.parametrize(
    "line",
    [
        "quality: !!int abc",
        "quality: !!bool maybe",
        "quality: !!float ''",
        "quality: " + "9" * 5000,  # over Python's int-from-text limit
    ],
)
def test_a_value_yaml_cannot_build_is_a_bad_file_not_a_crash(line: str) -> None:
    with pytest.raises(ArticleError, match="invalid YAML"):
        parse_yaml(*MINIMAL, line)


# -- dates ---------------------------------------------------------------------------------------


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, moment",
    [
        ("2021-05-07", utc(2021, 5, 7)),  # date only: midnight UTC
        ("2021-05-07T10:00:00", utc(2021, 5, 7, 10)),  # no zone: UTC
        ("2021-05-07T10:00:00Z", utc(2021, 5, 7, 10)),
        ("2021-05-07T15:30:00+05:30", utc(2021, 5, 7, 10)),  # offsets are converted to UTC
        ("2021-05-07T03:00:00-07:00", utc(2021, 5, 7, 10)),
        ("2021-05-07 10:00:00.123456", utc(2021, 5, 7, 10)),
        ("Fri, 07 May 2021 10:00:00 GMT", utc(2021, 5, 7, 10)),  # RFC 822, old crawlers
        ("Fri, 07 May 2021 12:00:00 +0200", utc(2021, 5, 7, 10)),
        ("  2021-05-07T10:00:00Z  ", utc(2021, 5, 7, 10)),
    ],
)
def test_quoted_date_strings_are_read_as_utc(value: str, moment: datetime) -> None:
    assert parse(publishedDateTime=value).article.published == moment


@pytest.mark.parametrize(
    "line, moment",
    [
        ("publishedDateTime: 2021-05-07", utc(2021, 5, 7)),
        ("publishedDateTime: 2021-05-07T10:00:00Z", utc(2021, 5, 7, 10)),
        ("publishedDateTime: 2021-05-07T15:30:00+05:30", utc(2021, 5, 7, 10)),
        ("publishedDateTime: 2021-05-07 10:00:00", utc(2021, 5, 7, 10)),
        ("publishedDateTime: 2021-5-7 12:00:00 +2", utc(2021, 5, 7, 10)),  # YAML's loose form
    ],
)
def test_unquoted_yaml_timestamps_are_read_as_utc(line: str, moment: datetime) -> None:
    assert parse_yaml("title: T", "webUrl: https://example.com/a", line).article.published == moment


@pytest.mark.parametrize(
    "value, why",
    [
        (None, "no publishedDateTime"),
        ("", "publishedDateTime is empty"),
        ("yesterday", "publishedDateTime is not a date"),
        ("2021-13-45", "publishedDateTime is not a date"),
        ("0000-01-01", "publishedDateTime is out of range"),
        ("99999-01-01", "publishedDateTime is out of range"),
        ("9999-12-31T23:00:00-05:00", "out of range"),  # year 10000 once in UTC
        (1620381600, "publishedDateTime is a number, not a date"),  # no guessing seconds vs milliseconds
        (["2021-05-07"], "publishedDateTime is a list, not a date"),
    ],
)
def test_an_article_without_a_usable_date_is_bad_with_the_reason(value: object, why: str) -> None:
    assert why in refused(publishedDateTime=value)


def test_an_unquoted_year_0000_is_reported_as_a_date_not_a_yaml_error() -> None:
    with pytest.raises(ArticleError, match="out of range"):
        parse_yaml("title: T", "webUrl: https://example.com/a", "publishedDateTime: 0000-01-01")


# -- URLs ----------------------------------------------------------------------------------------

BAD_URLS = [
    "/story/0",
    "javascript:alert(1)",
    "data:text/html,hi",
    "file:///etc/passwd",
    "news0.example.com/story/0",
    "//news0.example.com/story/0",
    "   ",
]


@pytest.mark.parametrize("bad", BAD_URLS)
def test_a_bad_web_url_falls_back_to_the_original_url(bad: str) -> None:
    assert parse(webUrl=bad, originalUrl="https://example.org/original").article.url == "https://example.org/original"


@pytest.mark.parametrize("bad", BAD_URLS)
def test_an_article_with_no_usable_http_url_is_bad(bad: str) -> None:
    reason = refused(webUrl=bad, originalUrl=bad)
    assert "URL" in reason
    assert "alert" not in reason and "passwd" not in reason  # names the fields, never echoes the values


def test_an_article_with_no_url_at_all_is_bad() -> None:
    assert "no URL" in refused(webUrl=None, originalUrl=None)


def test_the_link_is_normalised() -> None:
    url = parse(webUrl="  https://Bücher.example/ein buch  ").article.url
    assert url == "https://xn--bcher-kva.example/ein%20buch"


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "/img/a.jpg", "data:image/png;base64,AAAA", "img.example.com/a.jpg"])
def test_a_bad_image_url_means_no_image_and_the_article_is_kept(bad: str) -> None:
    parsed = parse(images=[{"url": bad, "width": 10, "height": 10}])
    assert parsed.article.image is None
    assert "no usable image" in parsed.warnings


VIDEO = '<div class="v"><iframe width="560" src="{src}" frameborder="0" allowfullscreen></iframe></div>'


@pytest.mark.parametrize(
    "src, link",
    [
        ("https://www.youtube.com/embed/x", "https://www.youtube.com/embed/x"),
        ("https://www.youtube.com/embed/x?start=5&amp;rel=0", "https://www.youtube.com/embed/x?start=5&rel=0"),
        ("//www.youtube.com/embed/x", "https://www.youtube.com/embed/x"),  # embed snippets' usual form
    ],
)
def test_a_video_without_urls_links_to_its_embed_and_never_carries_the_html(src: str, link: str) -> None:
    article = parse(webUrl=None, originalUrl=None, type="video", featuredContent=VIDEO.format(src=src)).article
    assert article.url == link
    assert "<iframe" not in repr(article) and "allowfullscreen" not in repr(article)


def test_a_video_embed_with_a_javascript_src_is_no_link() -> None:
    embed = VIDEO.format(src="javascript:alert(1)")
    assert "URL" in refused(webUrl=None, originalUrl=None, featuredContent=embed)


# -- text ----------------------------------------------------------------------------------------


def test_control_characters_in_the_file_are_removed_not_a_reason_to_drop_it() -> None:
    # Raw C0/C1 characters are invalid YAML; a crawler's stray escape byte should not cost the article.
    article = parse_yaml("title: Stray\x1b escape\x92 bytes", *MINIMAL[1:]).article
    assert article.title == "Stray escape bytes"


@pytest.mark.parametrize(
    "escaped, shown",
    [
        (r'"lone \ud800 half"', "lone half"),
        (r'"emoji \ud83d\ude00 from a JSON writer"', "emoji 😀 from a JSON writer"),
        (r'"bell \x07 and \u0085 and \uffff"', "bell and and"),
    ],
)
def test_escaped_characters_a_feed_cannot_carry_are_removed(escaped: str, shown: str) -> None:
    assert parse_yaml(f"title: {escaped}", *MINIMAL[1:]).article.title == shown


def test_text_fields_are_plain_text_with_entities_decoded_once() -> None:
    article = parse(
        title="It&#8217;s <script>alert(1)</script> ]]> &amp; more",
        excerpt="\u00a0\u00adR&amp;D &amp;amp; you\u00ad\u00a0",
    ).article
    assert article.title == "It’s <script>alert(1)</script> ]]> & more"
    assert article.summary == "R&D &amp; you"


def test_rtl_text_and_emoji_survive_parsing() -> None:
    article = parse(title="عنوان الخبر 🚀", topics=["ذكاء اصطناعي", "🤖 Robots"]).article
    assert article.title == "عنوان الخبر 🚀"
    assert article.topics == ("ذكاء اصطناعي", "🤖 Robots")


# -- providers -----------------------------------------------------------------------------------


def test_provider_domain_is_normalised_into_its_feed_key() -> None:
    provider = parse(provider={"name": "News", "domain": "WWW.News.Example.com:443."}).article.provider
    assert provider.domain == "news.example.com"


def test_a_missing_provider_takes_its_domain_from_the_article_url() -> None:
    provider = parse(provider=None, webUrl="https://www.example.org:8080/a").article.provider
    assert (provider.name, provider.domain) == ("example.org", "example.org")


def test_a_provider_domain_that_looks_like_a_path_is_not_used_as_a_feed_key() -> None:
    provider = parse(provider={"name": "Evil", "domain": "../etc"}).article.provider
    assert (provider.name, provider.domain) == ("Evil", "news0.example.com")


# -- secured -------------------------------------------------------------------------------------


def test_the_secured_blob_is_stored_nowhere() -> None:
    parsed = parse(secured="TOP-SECRET-BLOB-42")
    assert "TOP-SECRET-BLOB-42" not in repr(parsed)
    assert not any(hasattr(parsed.article, name) for name in ("secured", "extra", "raw", "front"))


@pytest.mark.parametrize("breakage", [{"published": "maybe"}, {"webUrl": None, "originalUrl": None}, {"title": ""}])
def test_the_secured_blob_never_reaches_a_reason(breakage: dict[str, Any]) -> None:
    assert "TOP-SECRET" not in refused(secured="TOP-SECRET-BLOB-42", **breakage)


# -- any input -----------------------------------------------------------------------------------

_YAML_BITS = st.sampled_from(
    list("-:[]{}&*!|>'\"#%@`,?\n \t\\aZ09é")
    + ["---\n", "...\n", "\ud800", "\x00", "\x85", "\ufeff", "!!int ", "!!bool ", "!!binary ", "!!python/name:os.system ",
       "&a ", "*a", "<<: ", "title: ", "webUrl: https://x.example/", "publishedDateTime: ", "2021-05-07", "published: "]
)
_YAMLISH = st.lists(_YAML_BITS, max_size=60).map(
    lambda bits: ("---\n" + "".join(bits) + "\n---\n").encode("utf-8", "surrogatepass")
)
_SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_VALUE = _SCALAR | st.lists(_SCALAR, max_size=3) | st.dictionaries(st.sampled_from(["url", "name", "domain"]), _SCALAR)
_FIELDS = st.dictionaries(
    st.sampled_from(["title", "excerpt", "publishedDateTime", "webUrl", "originalUrl", "provider", "topics",
                     "images", "related", "quality", "published", "featuredContent"]),
    _VALUE,
    max_size=4,
).map(lambda changes: article_text(**{**sample_fields(0), **changes}).encode())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200), _YAMLISH, _FIELDS))
def test_any_bytes_give_an_article_or_a_reason_never_a_crash(data: bytes) -> None:
    try:
        parsed = parse_article(data, source="fuzz.txt")
    except ArticleError as error:
        assert str(error)  # a reason a user can read
        return
    assert parsed.article.title
    assert parsed.article.url.startswith(("https://", "http://"))
    assert parsed.article.published.tzinfo is UTC


def test_markup_in_topic_names_is_stripped_to_the_name() -> None:
    parsed = parse(topics=["<b>Tag</b> & Co", "<i>AI</i>", "&lt;em&gt;Robots&lt;/em&gt;", "a < b", "C<sup>2</sup>",
                           "<br/>", "Plain"])
    assert parsed.article.topics == ("Tag & Co", "AI", "Robots", "a < b", "C 2", "Plain")


@given(st.tuples(st.integers(0, 9999), st.integers(0, 14), st.integers(0, 33), st.integers(0, 25),
                            st.integers(0, 61), st.integers(0, 61)))
def test_the_plain_utc_form_reads_as_the_general_path_reads_it(parts: tuple[int, ...]) -> None:
    from feedpub.reading import dates

    year, month, day, hour, minute, second = parts
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
    try:
        expected: object = dates.parse_date(dates._parse_general(text))
    except dates.DateError as error:
        expected = str(error)
    try:
        got: object = dates.parse_date(text)
    except dates.DateError as error:
        got = str(error)
    assert got == expected


_LINES = st.lists(st.sampled_from(["---", "...", "--- ", "---\t", "----", "..", "....", "--", " ---", "title: x",
                                   "", "\r", "---\r", "...\r", "x---", "- - -", "…"]), max_size=12)


@given(_LINES, st.sampled_from(["\n", "\r\n"]), st.integers(0, 8))
def test_the_closing_line_is_found_as_the_regex_finds_it(lines: list[str], newline: str, cut: int) -> None:
    from feedpub.reading import article_file

    text = "---\n" + newline.join(lines) + (newline if cut % 2 else "")
    for start in range(4, min(len(text), 4 + cut) + 1):
        expected = article_file._CLOSE.search(text, start)
        got = article_file._closing(text, start)
        assert (got and got.span()) == (expected and expected.span()), (text, start)


@given(st.sampled_from(["---", "--- ", "---\t \r", "---\r\r", "----", " ---", "--", "...", ""]), _LINES,
       st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_a_files_front_matter_is_cut_in_c_where_the_regexes_cut_it(opening: str, lines: list[str], newline: str,
                                                                    ends_with_newline: bool) -> None:
    """`fast_yaml.front_matter` (C) gives the bytes between `_FENCE`'s match at the start and the first
    line `_CLOSE` matches after it, or None when either is missing."""
    from feedpub.reading import article_file, fast_yaml

    if not fast_yaml.accelerated():
        pytest.skip("the C YAML accelerator is not built")
    data = (opening + "\n" + newline.join(lines) + (newline if ends_with_newline else "")).encode()
    fence = re.compile(article_file._FENCE.pattern.encode()).match(data)
    close = re.compile(article_file._CLOSE.pattern.encode(), re.MULTILINE)
    closing = fence and close.search(data, fence.end())
    expected = data[fence.end() : closing.start()] if fence and closing else None
    assert fast_yaml.front_matter(data) == expected, data


@given(st.text(alphabet=st.sampled_from("ab \n\t\x00\x08\x0b\x1f\x7f\x80\x9f\xa0é\ud800\udbff\udc00\udfff"
                                        "\ufffe\uffff\U0001f600"), max_size=40))
def test_forbidden_characters_go_as_the_two_substitutions_took_them(value: str) -> None:
    from feedpub.reading import text as text_module

    reference = text_module._FORBIDDEN.sub("", text_module._SURROGATE_PAIR.sub(text_module._join_pair, value))
    assert text_module.strip_forbidden(value) == reference


_SOME_TEXT = st.text(alphabet=st.sampled_from("ab \n\r\t\x00\x08\x0b\x0c\x1f\x7f\x80\x9f\xa0\xc2é\u0100\u07ff\u0800"
                                              "\uefbf\ufeff\ufffd\ufffe\uffff\U0001f600\U0010ffff"), max_size=40)


@given(_SOME_TEXT)
def test_a_files_bytes_are_clean_exactly_when_strip_forbidden_would_keep_its_text(value: str) -> None:
    from feedpub.reading.text import strip_forbidden, utf8_is_clean

    assert utf8_is_clean(value.encode()) == (strip_forbidden(value) == value), ascii(value)


@given(_SOME_TEXT, st.sampled_from(["title", "excerpt", "provider"]))
def test_an_article_read_from_its_bytes_is_the_one_read_from_its_text(value: str, field: str) -> None:
    """The bytes path (`_accelerated_front_matter`) gives what the text path gives, or leaves the
    file to it: for text with every kind of character `strip_forbidden` drops, in any field."""
    from feedpub.reading import article_file

    data = article_text(**sample_fields(3, **{field: value})).encode()
    try:
        expected: object = article_file._article_from(article_file.load_front_matter(article_file.decode(data)), "x")
    except ArticleError as error:
        expected = str(error)
    try:
        got: object = parse_article(data, source="x")
    except ArticleError as error:
        got = str(error)
    assert got == expected


def test_a_usual_file_is_read_from_its_bytes_and_one_with_a_control_character_from_its_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from feedpub.reading import article_file

    if not article_file.fast_yaml.accelerated():
        pytest.skip("the C accelerator is not built here")
    texts: list[str] = []
    real = article_file.load_front_matter

    def load_front_matter(text: str) -> dict[str, Any]:
        texts.append(text)
        return real(text)

    monkeypatch.setattr(article_file, "load_front_matter", load_front_matter)
    usual = article_text(**sample_fields(1, title="Rates rise"))
    clean = parse_article(usual.encode(), source="a.txt")
    assert texts == []
    noisy = parse_article(usual.replace("Rates rise", "Rates\x07 rise\x85").encode(), source="a.txt")  # raw, unescaped
    assert len(texts) == 1 and noisy.article == clean.article


@given(st.text(alphabet=st.sampled_from("0123456789-:TZ٣"), min_size=19, max_size=21)
       | st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
           lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ").rjust(20, "0")))
def test_a_plain_utc_date_reads_as_the_general_path_reads_it(text: str) -> None:
    """`parse_date`'s quick return for the usual form (`2026-05-31T23:59:00Z`) gives what the whole
    path gives (reached here through a leading space, which it strips): the same moment, zone
    and error."""
    from feedpub.reading.dates import DateError, parse_date

    def outcome(value: str) -> object:
        try:
            moment = parse_date(value)
        except DateError as error:
            return str(error)
        return moment, moment.tzinfo

    assert outcome(text) == outcome(" " + text)
