"""Edge inputs on the wire (issue 16, must-have 6): an unusable If-Modified-Since, a CORS preflight.

Both ways of answering are driven (the fast path inside the protocol and the ASGI path), as in
test_fast_path.py, and must agree byte for byte.
"""

from __future__ import annotations

import asyncio

import pytest

from feedpub.server.live.live_site import LiveSite
from tests.server.conftest import loaded_site
from tests.server.test_fast_path import exchange


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> LiveSite:
    return loaded_site(tmp_path_factory, 3)


@pytest.mark.parametrize("date", [
    b"Sun, 06 Nov 99999999999 08:49:37 GMT",  # overflows C's integers
    b"Sun, 06 Nov 0001 00:00:00 +2359",
    b"\xff\xfe not a date at all",
])
def test_an_unusable_if_modified_since_is_ignored_on_both_paths(live: LiveSite, loop: asyncio.AbstractEventLoop,
                                                                date: bytes) -> None:
    request = b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: " + date + b"\r\n\r\n"
    fast = exchange(live, loop, request, fast=True)
    plain = exchange(live, loop, request, fast=False)
    assert fast.written.startswith(b"HTTP/1.1 200 OK\r\n"), fast.written[:80]
    assert fast.written == plain.written and not fast.closed


def test_a_cors_preflight_of_a_feed_gets_204_with_what_a_conditional_poll_needs(
        live: LiveSite, loop: asyncio.AbstractEventLoop) -> None:
    request = (b"OPTIONS /feeds/all.json HTTP/1.1\r\nHost: x\r\nOrigin: https://reader.example\r\n"
               b"Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: If-None-Match\r\n\r\n")
    for fast in (True, False):
        written = exchange(live, loop, request, fast=fast).written
        head = written.split(b"\r\n\r\n")[0].lower()
        assert head.startswith(b"http/1.1 204 "), written[:60]
        assert b"access-control-allow-origin: *" in head
        assert b"access-control-allow-methods: get, head, options" in head
        assert b"if-none-match" in head.split(b"access-control-allow-headers: ")[1].split(b"\r\n")[0]


@pytest.mark.parametrize("path", [b"/", b"/index.html", b"/no/such/feed.rss"])
def test_no_preflight_for_the_html_page_or_what_is_not_published(live: LiveSite, loop: asyncio.AbstractEventLoop,
                                                                 path: bytes) -> None:
    request = (b"OPTIONS " + path + b" HTTP/1.1\r\nHost: x\r\nOrigin: https://reader.example\r\n"
               b"Access-Control-Request-Method: GET\r\n\r\n")
    written = exchange(live, loop, request, fast=False).written
    assert not written.startswith(b"HTTP/1.1 204 ") and b"access-control-allow-origin" not in written.lower()
