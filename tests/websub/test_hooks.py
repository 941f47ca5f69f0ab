"""Where WebSub meets the live server: the rebuilder's hook after each swap, and the hub endpoint's
bounded read of a request body."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.requests import Request

from feedpub.server.live.live_site import LiveSite
from feedpub.server.published import Published
from feedpub.server.websub import hub
from feedpub.settings import Settings
from tests.helpers import article_text, sample_fields


def test_the_hook_sees_each_new_state_right_after_the_swap(articles: Path) -> None:
    live = LiveSite(articles, Settings(base_url="https://feeds.example.org"))
    live.load()
    seen: list[tuple[Published, bool]] = []

    def hook(published: Published) -> None:
        seen.append((published, live.published is published))  # after the swap: requests read this state

    live.on_published = hook
    assert live.rebuilder.on_published is hook
    (articles / "006.txt").write_text(article_text(**sample_fields(6)), encoding="utf-8")
    live.apply(["006.txt"])
    assert len(seen) == 1 and seen[0][1]
    live.apply(["006.txt"])  # nothing changed: no new state, no call
    assert len(seen) == 1


def test_a_failing_hook_fails_no_rebuild(articles: Path, caplog: pytest.LogCaptureFixture) -> None:
    live = LiveSite(articles, Settings(base_url="https://feeds.example.org"))
    live.load()

    def hook(published: Published) -> None:
        raise RuntimeError("a bug in the hook")

    live.on_published = hook
    version = live.rebuilder.version
    (articles / "006.txt").write_text(article_text(**sample_fields(6)), encoding="utf-8")
    live.apply(["006.txt"])
    summary = live.summary
    assert summary is not None and summary.published == 7  # the bookkeeping after the swap ran
    assert live.rebuilder.version == version + 1 and live.published.get("/feeds/all.rss") is not None
    assert "could not announce the new state" in caplog.text


def test_a_body_trickled_too_slowly_is_answered_408(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub, "BODY_TIMEOUT_S", 0.2)

    async def receive() -> dict[str, object]:
        await asyncio.sleep(0.05)
        return {"type": "http.request", "body": b"h", "more_body": True}  # one byte at a time, forever

    scope = {"type": "http", "method": "POST", "path": "/websub", "headers": [], "query_string": b""}
    answer = asyncio.run(hub._read(Request(scope, receive)))
    assert isinstance(answer, hub.Answer) and answer.status == 408
