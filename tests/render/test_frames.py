"""RSS and Atom frames filled into templates (feeds/render/frames.py) are feedgen's bytes.

Every feed and archive document of the seeds and a generated corpus, under settings that change the
frame's shape (archives on and off, hubs, no polling interval, a base URL with a path, another
language), and random titles and descriptions of awkward text, give the frame feedgen's document
gives; what the templates leave to feedgen is checked to be left to it. Beyond these tests, every frame
any test makes is checked the same way (`frame_audit` in conftest.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub import accelerators
from feedpub.build import Build
from feedpub.corpus import generate
from feedpub.render.feed import Feed
from feedpub.render.formats import ATOM, RSS, Format
from feedpub.render.site import make_archive_feed, make_feed
from feedpub.settings import Settings, WebSubSettings
from tests.helpers import SEEDS
from tests.test_properties import PIECES

XML = [RSS, ATOM]
SITES = [
    Settings(base_url="https://news.example.com"),
    Settings(base_url="https://example.org/news & more/", language="de", max_age=0, archives=False),
    Settings(base_url="https://news.example.com", title="Tom's <News> & \"Views\"", description="Plain\ttext\r\n",
             websub=WebSubSettings(hubs=("https://hub.example.com/", "https://h2.example/?a=1&b=2")),
             archive_max_age=3600),
]


def feeds_of(folder: Path, site: Settings) -> list[Feed]:
    build = Build(folder, site)
    build.load()
    specs = [build.catalog.spec(group) for group in build.catalog.groups()]
    return [make_feed(spec, site) for spec in specs] + [
        make_archive_feed(spec, index, site) for spec in specs for index in range(len(spec.archives))]


def differences(fmt: Format, feeds: list[Feed]) -> list[str]:
    return [f"{fmt.name} {feed.title!r}" for feed in feeds if fmt.frame(feed, True) != fmt.reference_frame(feed)]


@pytest.mark.parametrize("site", SITES, ids=["archives", "no-archives-path-de", "hubs-odd-title"])
def test_every_seed_feed_s_frame_is_feedgen_s_and_filled_into_a_template(site: Settings) -> None:
    feeds = feeds_of(SEEDS, site)
    assert len(feeds) > 50
    for fmt in XML:
        assert differences(fmt, feeds) == []
        assert fmt.templates is not None
        assert all(fmt.templates.document(feed) is not None for feed in feeds)  # none left to feedgen


def test_a_generated_corpus_s_frames_are_feedgen_s(tmp_path: Path) -> None:
    generate(tmp_path / "corpus", 400, seed=4)
    feeds = feeds_of(tmp_path / "corpus", Settings(base_url="https://example.org/", archive_size=20))
    assert sum(feed.history == "archive" for feed in feeds) > 20
    for fmt in XML:
        assert differences(fmt, feeds) == []


TEXT = st.lists(st.sampled_from([*PIECES, "é", "x", " "]), min_size=0, max_size=5).map("".join)
WHEN = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))]))


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT, TEXT, WHEN, st.sampled_from([None, 0, 59, 300, 86400 * 400]))
def test_awkward_titles_descriptions_dates_and_intervals_give_feedgen_s_frame_or_feedgen_writes_it(
        title: str, description: str, language: str, updated: datetime, max_age: int | None) -> None:
    base = feeds_of_seeds()[0]
    feed = replace(base, title=title, description=description, language=language or "en", updated=updated,
                   max_age=max_age)
    for fmt in XML:
        try:
            expected = fmt.reference_frame(feed)
        except ValueError:  # lxml refuses the text (a control character): so must the frame
            assert fmt.templates is not None and fmt.templates.document(feed) is None
            with pytest.raises(ValueError):
                fmt.frame(feed, True)
            continue
        assert fmt.frame(feed, True) == expected


_SEEDS: list[Feed] = []


def feeds_of_seeds() -> list[Feed]:
    if not _SEEDS:
        _SEEDS.extend(feeds_of(SEEDS, SITES[0]))
    return _SEEDS


@pytest.mark.parametrize("change", [
    {"title": ""}, {"description": ""}, {"language": ""},  # feedgen leaves elements out, or refuses
    {"title": "</b> bold"}, {"description": "AT&amp;T"},  # Atom marks them type="html"
    {"title": "a\x01b"}, {"title": "marker \ue000 0"}, {"description": "\ufffe"},
])
def test_what_the_templates_leave_to_feedgen(change: dict[str, str]) -> None:
    feed = replace(feeds_of_seeds()[0], **change)  # type: ignore[arg-type]  # Feed's own fields
    for fmt in XML:
        assert fmt.templates is not None and fmt.templates.document(feed) is None
        try:
            expected = fmt.reference_frame(feed)
        except ValueError:
            continue
        assert fmt.frame(feed, True) == expected


def test_switched_off_every_frame_is_feedgen_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(accelerators.SWITCH, "0")
    feed = feeds_of_seeds()[0]
    for fmt in XML:
        assert fmt.templates is not None and fmt.templates.document(feed) is None
        assert fmt.frame(feed, True) == fmt.reference_frame(feed)
