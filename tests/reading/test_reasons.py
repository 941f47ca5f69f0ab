"""A bad file's reason names the field and the problem, never the value (issue 16, must-haves 4 and 6).

Reasons reach stderr, the server's log and `/healthz`; a draft's title, its `secured` blob or any
other value must not. And a YAML document whose aliases would expand past a bound (a "billion
laughs" file) is a bad file, named, never published.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedpub.cli import main
from feedpub.reading.article_file import ArticleError, parse_article

SECRET = "SECRET-DRAFT-WORDS"
VALID = ["title: A title", "webUrl: https://example.com/a", "publishedDateTime: 2026-01-15T12:00:00Z"]


def front(*lines: str) -> bytes:
    return ("---\n" + "\n".join(lines) + "\n---\n").encode()


def reason(*lines: str) -> str:
    with pytest.raises(ArticleError) as caught:
        parse_article(front(*lines))
    return str(caught.value)


@pytest.mark.parametrize("lines", [
    ["title: T", "webUrl: https://example.com/a", f"publishedDateTime: {SECRET}"],
    ["title: T", "webUrl: https://example.com/a", f"publishedDateTime: '0000-01-01 {SECRET}'"],
    ["title: T", "webUrl: https://example.com/a", "publishedDateTime: 0000-01-01"],
    [*VALID, f"published: {SECRET}"],
    [*VALID, f"published: [{SECRET}]"],
    ["title: T", f"webUrl: javascript:{SECRET}", "publishedDateTime: 2026-01-15T12:00:00Z"],
    [*VALID, f"secured: *{SECRET}"],  # an undefined alias, which PyYAML quotes
    [*VALID, f"secured: !!int {SECRET}"],
    [*VALID, f'secured: "\\x{SECRET}"'],
    [f"title: {SECRET}", "  bad indent: x"],
    [f"- {SECRET}"],
])
def test_a_reason_never_quotes_a_value(lines: list[str]) -> None:
    text = reason(*lines)
    assert SECRET not in text and "0000-01-01" not in text, text


def test_a_warning_never_quotes_a_value() -> None:
    parsed = parse_article(front(*VALID, f"quality: {SECRET}", "heat: .nan"))
    assert parsed.warnings and not any(SECRET in warning for warning in parsed.warnings), parsed.warnings
    assert "quality is not a number (other text)" in parsed.warnings


def _bomb() -> list[str]:
    """Nine levels of nine aliases each: 9**9 (387 million) strings once expanded."""
    names = "abcdefghi"
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for before, name in pairwise(names):
        lines.append(f"{name}: &{name} [{', '.join([f'*{before}'] * 9)}]")
    return lines


BOMB = _bomb()


@pytest.mark.parametrize("lines, said", [
    ([*VALID, "topics: [a, b"], "did not find expected ',' or ']'"),
    ([*VALID, "topics: {a: 1"], "did not find expected ',' or '}'"),
    ([*VALID, "excerpt: \"a\tb\" x"], "did not find expected key"),
    ([*VALID, f"secured: !{SECRET} x"], "could not determine a constructor for the tag"),
])
def test_a_reason_names_the_syntax_yaml_expected(lines: list[str], said: str) -> None:
    """What YAML expected or found is syntax, not a value: the reason keeps it (`did not find expected
    ',' or ']'`, not `did not find expected or`)."""
    text = reason(*lines)
    assert said in text and SECRET not in text, text


def test_a_billion_laughs_document_is_a_bad_file() -> None:
    text = reason(*VALID, *BOMB, "excerpt: *i")
    assert "billion laughs" in text


def test_a_self_referring_alias_is_a_bad_file() -> None:
    assert "refers to the value that holds it" in reason(*VALID, "topics: &t [a, *t]")


def test_a_few_aliases_are_fine() -> None:
    parsed = parse_article(front(*VALID, "topics: &t [World, Science]", "related: [{title: x, topics: *t}]"))
    assert parsed.article.topics == ("World", "Science")


def test_check_names_the_bomb_and_export_does_not_publish_it(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "good.md").write_bytes(front(*VALID))
    (articles / "laughs.md").write_bytes(front("title: Laughs", "webUrl: https://example.com/laughs",
                                               "publishedDateTime: 2026-01-15T12:00:00Z", *BOMB, "excerpt: *i"))
    result = CliRunner().invoke(main, ["check", str(articles), "--no-cache"])
    assert result.exit_code == 1
    assert "laughs.md: invalid YAML: aliases expand to more than" in result.output
    out = tmp_path / "site"
    result = CliRunner().invoke(main, ["export", str(articles), "--out", str(out), "--no-cache",
                                       "--base-url", "https://news.example.com"])
    assert result.exit_code == 0 and "laughs.md: invalid YAML" in result.output
    assert b"Laughs" not in (out / "feeds" / "all.rss").read_bytes()
