"""RSS polling hints: `<ttl>` and `sy:updatePeriod` / `sy:updateFrequency` say what each document's
Cache-Control max-age says, in every RSS document, and never ask for polling more often than it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from feedpub.build import Build
from feedpub.render.headers import headers_for
from feedpub.render.polling import PERIODS, SY, Polling, polling
from feedpub.render.site import SiteBuilder
from feedpub.settings import Settings
from tests.helpers import article_text, loaded, sample_fields

NOW = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 86400


@pytest.mark.parametrize("max_age,expected", [
    (0, Polling(1, "hourly", 60)),  # revalidate every time: the least a ttl can say
    (30, Polling(1, "hourly", 60)),
    (60, Polling(1, "hourly", 60)),
    (90, Polling(2, "hourly", 30)),
    (300, Polling(5, "hourly", 12)),  # the default max_age
    (420, Polling(7, "hourly", 8)),  # 7.5 minutes apart: not more often than every 7
    (3600, Polling(60, "hourly", 1)),
    (3601, Polling(61, "daily", 23)),
    (5000, Polling(84, "daily", 17)),
    (7200, Polling(120, "daily", 12)),
    (DAY, Polling(1440, "daily", 1)),  # the default archive_max_age
    (2 * DAY, Polling(2880, "weekly", 3)),
    (7 * DAY, Polling(10080, "weekly", 1)),
    (30 * DAY, Polling(43200, "monthly", 1)),
    (365 * DAY, Polling(525600, "yearly", 1)),
    (3650 * DAY, Polling(5256000, "yearly", 1)),
])
def test_max_age_maps_to_ttl_and_syndication_hints(max_age: int, expected: Polling) -> None:
    assert polling(max_age) == expected


@given(st.integers(min_value=0, max_value=400 * DAY))
def test_the_hints_never_ask_for_polling_more_often_than_the_max_age(max_age: int) -> None:
    hints = polling(max_age)
    seconds = dict(PERIODS)[hints.period]
    assert hints.ttl >= 1 and hints.ttl * 60 >= max_age and hints.frequency >= 1
    if max_age <= PERIODS[-1][1]:
        assert seconds / hints.frequency >= hints.ttl * 60  # the period's interval is at least the ttl
        assert seconds // (hints.frequency + 1) < hints.ttl * 60  # … and the shortest such


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(30):
        (folder / f"{n:03d}.txt").write_text(article_text(**sample_fields(n)), encoding="utf-8")
    return folder


def hints_in(body: bytes) -> tuple[list[str], list[str], list[str]]:
    channel = etree.fromstring(body).find("channel")
    assert channel is not None
    return ([e.text or "" for e in channel.findall("ttl")],
            [e.text or "" for e in channel.findall(f"{{{SY}}}updatePeriod")],
            [e.text or "" for e in channel.findall(f"{{{SY}}}updateFrequency")])


@pytest.mark.parametrize("max_age,archive_max_age", [(300, DAY), (123, 7200), (0, 3600)])
def test_every_rss_document_repeats_the_max_age_it_is_served_with(folder: Path, max_age: int,
                                                                  archive_max_age: int) -> None:
    settings = Settings(limit=5, archive_size=10, max_age=max_age, archive_max_age=archive_max_age)
    outputs = loaded(Build(folder, settings), now=NOW)
    site = {path: output.body for path, output in outputs.items()}
    documents = [path for path in site if path.endswith(".rss")]
    assert any("/archive/" in path for path in documents) and any("/topics/" in path for path in documents)
    growing = {path for path in documents if outputs[path].growing}  # each feed's newest archive document
    assert growing and all("/archive/" in path for path in growing)
    for path in documents:
        served = int(headers_for(path, settings, growing=path in growing)["Cache-Control"].rpartition("=")[2])
        hints = polling(served)
        assert hints_in(site[path]) == ([str(hints.ttl)], [hints.period], [str(hints.frequency)]), path
        head = site[path][: site[path].find(b"<item>")]
        assert b"<sy:updatePeriod>" in head and b"<ttl>" in head  # the frame, before the items
    for path in site:
        if path.endswith((".atom", ".json")):  # neither format has polling hints
            assert SY.encode() not in site[path] and b"<ttl>" not in site[path], path


def test_whole_and_assembled_feeds_with_other_hints_are_byte_identical(folder: Path) -> None:
    settings = Settings(limit=5, archive_size=10, max_age=7200, archive_max_age=30 * DAY)
    fast = Build(folder, settings)
    plain = Build(folder, settings)
    plain.builder = SiteBuilder(plain.settings, fragments=False)
    a = {p: o.body for p, o in loaded(fast, now=NOW).items()}
    b = {p: o.body for p, o in loaded(plain, now=NOW).items()}
    assert a == b
    assert b"<ttl>120</ttl>" in a["feeds/all.rss"]
