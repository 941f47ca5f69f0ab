"""What the in-process protocol tests share: an event loop of their own, and a loaded live site."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from feedpub.server.live.live_site import LiveSite
from feedpub.settings import Settings
from tests.helpers import article_text, sample_fields


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


SITE = Settings(base_url="https://feeds.example.org")


def loaded_site(tmp_path_factory: pytest.TempPathFactory, count: int, settings: Settings = SITE) -> LiveSite:
    """A live site over `count` sample articles, loaded (not watching)."""
    folder = tmp_path_factory.mktemp("articles")
    for n in range(count):
        (folder / f"{n:03d}.txt").write_text(article_text(**sample_fields(n)), encoding="utf-8")
    site = LiveSite(folder, settings)
    site.load()
    return site
