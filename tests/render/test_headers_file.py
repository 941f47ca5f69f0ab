"""`_headers` as Netlify and Cloudflare Pages read it: every exported path gets exactly one value of
each header, the one `headers_for` gives it.

Both hosts apply every rule whose pattern matches a request and join a header that two rules give
(Cloudflare: "An incoming request which matches multiple rules' URL patterns will inherit all
rules' headers ... the values are joined with a comma separator"; Netlify's CLI lets the later one
win instead). So the file is only right if no two rules give one path the same header. The
matchers below follow each host's documented rules:

- Netlify (docs.netlify.com/routing/headers, and the matcher its build uses, netlify/build
  `packages/headers-parser/src/for_regexp.ts`): the pattern is split at `/`; a `:name` segment
  matches one segment, a segment that is just `*` matches anything (across `/`, and the slash
  before it is optional), a `*` inside a segment matches anything (across `/` too); an optional
  trailing slash; case-insensitive.
- Cloudflare Pages (developers.cloudflare.com/pages/configuration/headers): a splat `*` greedily
  matches all characters, at most one per rule; `:name` matches anything but `/`; at most 100
  rules, each line at most 2,000 characters; header lines are indented under their URL.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from feedpub.build import Build
from feedpub.export import export_site
from feedpub.render.headers import PER_PATH, headers_for, render_headers_file
from feedpub.render.paths import HEADERS, INDEX
from feedpub.settings import Settings, WebSubSettings
from tests.helpers import article_text, loaded, sample_fields

Rule = tuple[str, list[tuple[str, str]]]


def parse(text: str) -> list[Rule]:
    """The rules of a `_headers` file, as both hosts read it: a URL line, then indented `Name: value`."""
    rules: list[Rule] = []
    for number, line in enumerate(text.split("\n"), 1):
        assert len(line) <= 2000, f"line {number} is longer than Cloudflare's 2,000 characters"
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("/"):
            rules.append((line.strip(), []))
            continue
        assert line[0] in " \t", f"line {number}: a header line must be indented under its URL: {line!r}"
        assert rules, f"line {number}: a header before any URL"
        name, colon, value = line.strip().partition(":")
        assert colon and name.strip() and value.strip(), f"line {number}: not `Name: value`: {line!r}"
        rules[-1][1].append((name.strip(), value.strip()))
    return rules


def netlify_pattern(rule: str) -> re.Pattern[str]:
    def part(segment: str) -> str:
        if segment.startswith(":"):
            return "([^/]+)"
        if segment == "*":
            return "?(.*)"
        if "*" in segment:
            return segment.replace("*", "(.*)")  # the rest of the segment is not escaped, as in for_regexp.ts
        return re.escape(segment)

    segments = [segment.rstrip() for segment in rule.split("/") if segment.rstrip()]
    return re.compile("^/" + "/".join(part(segment) for segment in segments) + "/?$", re.IGNORECASE)


def cloudflare_pattern(rule: str) -> re.Pattern[str]:
    assert rule.count("*") <= 1, f"{rule}: Cloudflare allows one splat per rule"
    pattern = ""
    for piece in re.split(r"(\*|:[A-Za-z]\w*)", rule):
        if piece == "*":
            pattern += "(.*)"
        elif piece.startswith(":") and len(piece) > 1:
            pattern += "([^/]+)"
        else:
            pattern += re.escape(piece)
    return re.compile(pattern)


HOSTS = {"netlify": netlify_pattern, "cloudflare": cloudflare_pattern}


def headers_on(host: str, rules: list[Rule], url_path: str) -> dict[str, list[str]]:
    """Header name → every value the matching rules give it (lowercased names: HTTP's are not cased)."""
    given: dict[str, list[str]] = {}
    for pattern, headers in rules:
        if HOSTS[host](pattern).fullmatch(url_path):
            for name, value in headers:
                given.setdefault(name.lower(), []).append(value)
    return given


def problems(host: str, text: str, expected: dict[str, dict[str, str]]) -> list[str]:
    """Every way the file fails to give a URL path exactly its expected headers, once each."""
    rules = parse(text)
    found = []
    if len(rules) > 100:
        found.append(f"{len(rules)} rules: Cloudflare Pages allows 100")
    for url_path, headers in expected.items():
        given = headers_on(host, rules, url_path)
        for name, value in headers.items():
            values = given.pop(name.lower(), [])
            if values != [value]:
                found.append(f"{host}: {url_path}: {name}: {', '.join(values) or 'missing'} (expected {value})")
        found += [f"{host}: {url_path}: {name}: {', '.join(values)} (not expected)" for name, values in given.items()]
    return found


def exported(tmp_path: Path, settings: Settings) -> tuple[str, dict[str, dict[str, str]]]:
    """An export with topics, providers, archives and a unicode slug: its `_headers` and, for every
    URL path a host serves, the headers it must get."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(30):
        topics = ["World", "Künstliche Intelligenz"] if n % 2 else ["World"]
        (folder / f"{n:03d}.txt").write_text(article_text(**sample_fields(n, topics=topics)), encoding="utf-8")
    out = tmp_path / "site"
    export_site(loaded(Build(folder, settings)), out)
    paths = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert any(p.startswith("feeds/archive/") for p in paths) == settings.archives
    assert any(p.startswith("api/") for p in paths) == settings.everyday_api
    assert "feeds/topics/künstliche-intelligenz.rss" in paths
    expected = {}
    for path in paths:
        if path == HEADERS:  # read by the host, never served
            continue
        # A file of patterns cannot single out each feed's newest archive document, which changes as
        # often as its subscription document: every archive document gets the brief max-age there.
        headers = headers_for(path, settings, growing=path.startswith("feeds/archive/"))
        rules = {name: value for name, value in headers.items() if name not in PER_PATH}
        if "Access-Control-Expose-Headers" in rules:  # a header the file does not send is not exposed either
            rules["Access-Control-Expose-Headers"] = rules["Access-Control-Expose-Headers"].replace(", Link", "")
        expected["/" + path] = expected["/" + quote(path)] = rules
        if path == INDEX:
            expected["/"] = rules
    return (out / HEADERS).read_text("utf-8"), expected


SETTINGS = Settings(base_url="https://news.example.com", limit=4, archive_size=5)
VARIANTS = {
    "default": SETTINGS,
    # With a hub, the live server's feeds send and expose a Link header; `_headers` does neither (PER_PATH).
    "websub": SETTINGS.replace(websub=WebSubSettings(hubs=("https://hub.example.com/",))),
    "no archives": SETTINGS.replace(archives=False, max_age=60),
    "json api": SETTINGS.replace(everyday_api=True, page_size=5),
}


@pytest.mark.parametrize("host", sorted(HOSTS))
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_exported_path_gets_exactly_one_value_of_each_header(tmp_path: Path, host: str, variant: str) -> None:
    text, expected = exported(tmp_path, VARIANTS[variant])
    assert text.encode() == render_headers_file(VARIANTS[variant])
    assert problems(host, text, expected) == []


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_the_check_catches_overlapping_rules(tmp_path: Path, host: str) -> None:
    """The rules feedpub wrote before: `/feeds/*.rss` also matches every topic feed and archive, and
    `/feeds/*.json` the catalog, so both hosts gave those paths two values."""
    old = "".join(f"{pattern}\n  Content-Type: {media}; charset=utf-8\n  Access-Control-Allow-Origin: *\n"
                  "  X-Content-Type-Options: nosniff\n\n"
                  for pattern, media in [
                      ("/feeds/*.rss", "application/rss+xml"), ("/feeds/topics/*.rss", "application/rss+xml"),
                      ("/feeds/*.json", "application/feed+json"), ("/feeds/index.json", "application/json")])
    _, expected = exported(tmp_path, SETTINGS)
    found = problems(host, old, expected)
    assert any("/feeds/topics/world.rss: Content-Type: application/rss+xml; charset=utf-8, " in line
               for line in found), found
    assert any("/feeds/index.json: Content-Type:" in line for line in found), found
    assert any("/feeds/topics/world.rss: Access-Control-Allow-Origin: *, *" in line for line in found), found


def test_the_matchers_follow_the_documented_examples() -> None:
    assert netlify_pattern("/*").fullmatch("/") and netlify_pattern("/*").fullmatch("/a/b/c.rss")
    assert netlify_pattern("/templates/index.html").fullmatch("/templates/index.html/")
    assert netlify_pattern("/feeds/*.rss").fullmatch("/feeds/topics/world.rss")  # `*` crosses `/`
    assert netlify_pattern("/a/:b/c").fullmatch("/a/x/c") and not netlify_pattern("/a/:b/c").fullmatch("/a/x/y/c")
    assert cloudflare_pattern("/static/*").fullmatch("/static/image.jpg")
    assert cloudflare_pattern("/feeds/*.rss").fullmatch("/feeds/archive/all/2026.rss")
    assert cloudflare_pattern("/movies/:title").fullmatch("/movies/up") and not cloudflare_pattern(
        "/movies/:title").fullmatch("/movies/up/2")
    assert not cloudflare_pattern("/secure/page").fullmatch("/secure/page/x")
