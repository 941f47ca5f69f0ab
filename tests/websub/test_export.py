"""`feedpub export` pings the outside hubs for exactly the feeds whose bytes it changed, once its new
tree is in place (none at a first export, none with `--no-ping`), against a hub stand-in on
127.0.0.1; and `ping_hubs` batches, sorts and reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedpub.cli import main
from feedpub.pings import ping_hubs
from tests.websub.parts import FAST, HubStandIn, Received, Recorder, feedpub_yaml, running, write

BASE = "http://feeds.test"


@pytest.fixture
def hub() -> Iterator[HubStandIn]:
    yield from running(HubStandIn)


def run_cli(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def topic(kind: str, key: str, fmt: str) -> str:
    return f"{BASE}/feeds/{kind}/{key}.{fmt}" if kind else f"{BASE}/feeds/{key}.{fmt}"


def test_export_pings_the_feeds_it_changed(tmp_path: Path, articles: Path, hub: HubStandIn) -> None:
    settings = feedpub_yaml(tmp_path, hubs=[hub.url("/hub")])
    out = tmp_path / "site"
    base = ("--config", settings, "--base-url", BASE, "--out", out)
    code, output = run_cli("export", articles, *base)
    assert code == 0, output
    assert hub.received == []  # a first export: nobody can have subscribed yet
    code, output = run_cli("export", articles, *base)
    assert code == 0 and "up to date" in output and hub.received == []
    write(articles, 6, publishedDateTime="2026-01-15T13:00:00Z")
    code, output = run_cli("export", articles, *base)
    assert code == 0, output
    assert "websub: 9 changed feeds announced to 1 hub" in output
    assert sorted(hub.pinged_topics()) == sorted(
        topic(kind, key, fmt) for kind, key in [("", "all"), ("topics", "world"), ("providers", "news0.example.com")]
        for fmt in ("rss", "atom", "json"))
    write(articles, 7, publishedDateTime="2026-01-15T14:00:00Z")
    code, output = run_cli("export", articles, *base, "--no-ping")
    assert code == 0 and "websub" not in output and len(hub.received) == 1


def test_export_reports_a_failed_ping_and_still_succeeds(tmp_path: Path, articles: Path, hub: HubStandIn) -> None:
    settings = feedpub_yaml(tmp_path, hubs=[hub.url("/hub")])
    out = tmp_path / "site"
    assert run_cli("export", articles, "--config", settings, "--base-url", BASE, "--out", out)[0] == 0
    write(articles, 6, publishedDateTime="2026-01-15T13:00:00Z")
    hub.statuses = [400]  # not retried: a 4xx will not go away
    code, output = run_cli("export", articles, "--config", settings, "--base-url", BASE, "--out", out)
    assert code == 0, output
    assert f"websub: {hub.url('/hub')}: answered 400 (9 topics not pinged)" in output
    assert "(1 failures)" in output and (out / "feeds/all.rss").is_file()


def test_ping_hubs_batches_and_reports(hub: HubStandIn) -> None:
    topics = [f"{BASE}/feeds/topics/t{n:03d}.rss" for n in range(120)]
    assert ping_hubs([hub.url("/hub")], reversed(topics), retry_delays=FAST) == []
    assert [len(r.body.split(b"&hub.url=")) - 1 for r in hub.received] == [50, 50, 20]
    assert hub.pinged_topics() == topics  # sorted, each once
    hub.statuses = [400]
    [error] = ping_hubs([hub.url("/hub")], topics[:1], retry_delays=FAST)
    assert error == f"{hub.url('/hub')}: answered 400 (1 topics not pinged)"
    assert ping_hubs([hub.url("/hub")], []) == [] and len(hub.received) == 4  # no topic, no ping


def test_the_ping_comes_once_the_new_tree_is_in_place(tmp_path: Path, articles: Path) -> None:
    out = tmp_path / "site"
    seen: list[bytes] = []

    def answer(received: Received) -> tuple[int, bytes]:
        seen.append((out / "feeds" / "all.rss").read_bytes())  # what a hub fetching the feed now would get
        return 204, b""

    hub = Recorder(answer)
    try:
        settings = feedpub_yaml(tmp_path, hubs=[hub.url("/hub")])
        assert run_cli("export", articles, "--config", settings, "--base-url", BASE, "--out", out)[0] == 0
        write(articles, 6, publishedDateTime="2026-01-15T13:00:00Z")
        code, output = run_cli("export", articles, "--config", settings, "--base-url", BASE, "--out", out)
        assert code == 0, output
        assert seen == [(out / "feeds" / "all.rss").read_bytes()] and b"Headline number 6" in seen[0]
    finally:
        hub.close()
