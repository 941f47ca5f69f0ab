"""Links between the site's pages: `paths.relative` is `posixpath.relpath`'s answer, percent-encoded."""

from __future__ import annotations

import posixpath
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from feedpub.render import paths

SEGMENT = st.sampled_from(["feeds", "topics", "providers", "archive", "ai", "a.example.com", "人工知能", "x y",
                           "index.html", "all.rss", ".", "..", "", ".hidden", "a..b"])
PATH = st.lists(SEGMENT, min_size=0, max_size=5).map("/".join) | st.builds(lambda p: "/" + p, st.lists(
    SEGMENT, max_size=3).map("/".join))


@given(PATH.filter(bool), PATH.filter(bool))
def test_a_link_is_relpath_s_whatever_the_paths(source: str, target: str) -> None:
    expected = quote(posixpath.relpath(target, posixpath.dirname(source) or "."), safe="/")
    assert paths.relative(source, target) == expected


def test_the_site_s_usual_links() -> None:
    assert paths.relative("feeds/topics/ai.html", "feeds/topics/ai.rss") == "ai.rss"
    assert paths.relative("feeds/topics/ai.html", "index.html") == "../../index.html"
    assert paths.relative("index.html", "feeds/all.rss") == "feeds/all.rss"
    assert paths.relative("feeds/all.html", "feeds/all.html") == "all.html"
    assert paths.relative("feeds/topics/ai.html", "feeds") == ".."
    assert paths.relative("feeds/topics/ai.html", "feeds/topics") == "."
    assert paths.relative("feeds/providers/人工知能.html", "feeds/providers/人工知能.rss") == quote("人工知能.rss")


@given(st.text(alphabet=st.sampled_from([*"az09_.~/-", *" %?#&+=:@!$'()*,;é\u00a0人\U0001f600\x00\t"]), max_size=20))
def test_a_site_path_is_quoted_as_urllib_quotes_it(path: str) -> None:
    """`href` leaves a path of unreserved characters as it is, without asking `quote`: the same URL."""
    assert paths.href(path) == quote(path, safe="/")
