"""RSS titles are plain text as the RSS Board's profile says, never escaped twice (issue 16, must-have 6).

A reader that takes RSS titles as text (newsboat) used to show `&lt;em&gt;(video)&lt;/em&gt;` for a
title that reads `<em>(video)</em>`: the title was escaped as HTML, and then again as XML.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from feedpub.build import Build
from feedpub.settings import Settings
from tests.helpers import BASE_TIME, article_text, sample_fields

TITLES = ["Clip <em>(video)</em>", "AT&T < 5 > 3", "Fish &#38; chips", "<b>Bold</b> claims"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder: Path = tmp_path_factory.mktemp("titles")
    for n, title in enumerate(TITLES):
        (folder / f"{n}.txt").write_text(article_text(**sample_fields(n, title=title)), encoding="utf-8")
    build = Build(folder, Settings(base_url="https://feeds.example", title="News <b>&</b> more"))
    build.load(now=BASE_TIME)
    return {path: build.site[path].body for path in ("feeds/all.rss", "feeds/all.json")}


def test_a_title_reads_as_typed_in_a_plain_text_reader(site: dict[str, bytes]) -> None:
    root = ElementTree.fromstring(site["feeds/all.rss"])
    shown = [item.findtext("title") for item in root.iterfind("channel/item")]
    assert shown == [item["title"] for item in json.loads(site["feeds/all.json"])["items"]]  # the article's text
    assert "Clip <em>(video)</em>" in shown and "Fish & chips" in shown
    assert root.findtext("channel/title") == "News <b>&</b> more"


def test_markup_in_a_title_is_written_with_the_profile_s_references_once(site: dict[str, bytes]) -> None:
    rss = site["feeds/all.rss"]
    assert b"<title>Clip &#x3C;em&#x3E;(video)&#x3C;/em&#x3E;</title>" in rss
    assert b"<title>Fish &#x26; chips</title>" in rss
    assert b"&#x26;lt;" not in rss and b"&amp;lt;" not in rss  # never escaped twice
