"""WebSub in the live server: the built-in hub and the pings to outside hubs, told of each new state.

The rebuilder calls `announce(published)` (through `Rebuilder.on_published`, from its rebuild
thread, right after the swap) each time new bytes are being served; the event loop then compares
each feed's ETag with the one last announced (kept in the store, so a restart announces only what
changed while the server was down), delivers the changed feeds' bytes to their subscribers and
pings the outside hubs. Nothing here runs on a request's path except the hub's endpoint, and
nothing it waits for can delay serving.

The very first announcement of a site (an empty store) is recorded, not sent: there is nobody
subscribed yet, and every hub would otherwise be pinged for every feed at the first start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from feedpub.pings import RETRY_DELAYS_S as PING_RETRY_DELAYS_S
from feedpub.render.site import Output
from feedpub.render.websub import builtin_hub_url, changed_topics, hub_urls, link_header, topic_url, topics
from feedpub.settings import Settings

from ..published import Published
from .addresses import Resolver, callback_client
from .delivery import DEADLINE_S, DELIVERY_ATTEMPTS, RETRY_DELAYS_S, TIMEOUT, WORKERS, Distributor, Outbox
from .hub import Hub
from .ping import Pinger
from .subscriptions import Store, StoreError, store_path

log = logging.getLogger("feedpub.websub")

EXPIRE_EVERY_S = 60.0  # how often ended leases are deleted (deliveries skip them at once anyway)
USER_AGENT = "feedpub-websub (+https://www.w3.org/TR/websub/)"


class WebSub:
    def __init__(self, settings: Settings, store: Store, *, clock: Callable[[], float] = time.time,
                 workers: int = WORKERS, retry_delays: tuple[float, ...] = RETRY_DELAYS_S,
                 ping_retry_delays: tuple[float, ...] | None = None, deadline: float = DEADLINE_S,
                 attempts: int = DELIVERY_ATTEMPTS) -> None:
        """`for_site` makes one for the live server; the keyword arguments are for tests."""
        self.settings = settings
        self.store = store
        self.clock = clock
        options = settings.websub
        self.hubs = hub_urls(settings)
        self.hub_url = builtin_hub_url(settings) if options.builtin else None
        self._topics: dict[str, Output] = {}  # topic URL → what is served now (from the last announcement)
        self._latest: Published | None = None  # set from the rebuild thread, taken by the loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.announcements = 0  # states in which some feed's bytes changed, since the start
        self.resolver = Resolver()
        self.outbox = Outbox(workers=workers, retry_delays=retry_delays)
        self.client = callback_client(self.resolver, allow_private=options.allow_private_callbacks,
                                      timeout=TIMEOUT, connections=workers, user_agent=USER_AGENT)
        self.distributor = Distributor(store, self.outbox, self.client, links=self.links, clock=clock,
                                       deadline=deadline, attempts=attempts)
        self.hub = Hub(store=store, outbox=self.outbox, client=self.client, resolver=self.resolver,
                       distributor=self.distributor, topic_of=self.topic_of, settings=options,
                       clock=clock) if options.builtin else None
        outside = [hub for hub in options.hubs if hub != self.hub_url]  # the built-in hub needs no ping
        self.pinger = Pinger(outside, retry_delays=ping_retry_delays or PING_RETRY_DELAYS_S) if outside else None

    @classmethod
    def for_site(cls, settings: Settings, cache_dir: Path | None, root: Path) -> WebSub:
        """The site's WebSub, its store in the cache folder (in memory with `--no-cache`, so
        subscriptions then last only as long as the process)."""
        path = store_path(cache_dir, root) if cache_dir is not None else None
        try:
            store = Store(path)
        except StoreError as error:
            log.warning("%s; WebSub subscriptions will not survive a restart", error)
            store = Store(None)
        if path is None:
            log.warning("WebSub: no cache folder (--no-cache): subscriptions will not survive a restart")
        # httpx logs every request at INFO (a verification's challenge included): one line per
        # delivery would drown the access log. Failures are logged here, with their reason.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        return cls(settings, store)

    # -- what the server calls ----------------------------------------------------------------

    def announce(self, published: Published) -> None:
        """New bytes are being served (any thread; returns at once). Only the latest state counts:
        two rebuilds in quick succession are announced as one."""
        self._latest = published
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._take)
            except RuntimeError:  # the loop closed meanwhile (a rebuild finishing at shutdown)
                pass

    async def start(self) -> None:
        """Start the hub's workers and the pings (in the server's lifespan), and announce what
        changed while the server was stopped."""
        self._loop = asyncio.get_running_loop()
        self.outbox.start()
        if self.pinger is not None:
            self.pinger.start()
        self._tasks = [asyncio.create_task(self._expire_now_and_then(), name="websub-expiry")]
        self._take()

    async def stop(self) -> None:
        self._loop = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        await self.outbox.stop()
        if self.pinger is not None:
            await self.pinger.stop()
        await self.client.aclose()
        self.resolver.close()
        self.store.close()

    def status(self) -> dict[str, Any]:
        """For `/healthz` (a JSON document): the hub's counts and each outside hub's last ping."""
        document: dict[str, Any] = {"hubs": list(self.hubs), "announcements": self.announcements}
        if self.hub is not None:
            counts = self.distributor.counts
            document["hub"] = {
                "url": self.hub_url, "subscriptions": self.store.count(), "pending_verifications": self.hub.pending,
                "pending_deliveries": self.outbox.pending("deliver"), "verified": self.hub.verified,
                "unverified": self.hub.unverified, "delivered": counts.delivered, "failed": counts.failed,
                "dropped": counts.dropped, "expired": counts.expired, "last_error": counts.last_error,
            }
        if self.pinger is not None:
            document["pings"] = self.pinger.status()
        return document

    # -- topics ---------------------------------------------------------------------------------

    def topic_of(self, url: str) -> str | None:
        """The canonical URL of the feed of this site that `url` names, if one is published now.

        Scheme and host compare without case and the path with or without percent-encoding; a
        query or fragment names no feed (the server would ignore it, but a subscriber must name
        the feed's own URL)."""
        base = urlsplit(self.settings.base_url)
        try:
            given = urlsplit(url)
        except ValueError:
            return None
        if given.query or given.fragment or "?" in url or "#" in url:
            return None
        if (given.scheme.lower(), given.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
            return None
        prefix = base.path.rstrip("/") + "/"
        if not given.path.startswith(prefix):
            return None
        canonical = topic_url(self.settings, unquote(given.path[len(prefix):]))
        return canonical if canonical in self._topics else None

    def links(self, topic: str) -> str:
        """The `Link` header of a delivery: this hub first (it is the one sending), then the others."""
        hubs = [self.hub_url, *(hub for hub in self.hubs if hub != self.hub_url)] if self.hub_url else list(self.hubs)
        return link_header(hubs, topic)

    # -- on the event loop -----------------------------------------------------------------------

    def _take(self) -> None:
        published = self._latest
        if published is None:
            return
        self._latest = None
        try:
            self._announce(published)
        except Exception:  # the store failing must not stop serving or the next announcement
            log.exception("WebSub: could not announce the new state")

    def _announce(self, published: Published) -> None:
        current = topics(self.settings, {path: resource.output for path, resource in published.resources.items()})
        self._topics = current
        before = self.store.announced()
        etags = {url: output.etag for url, output in current.items()}
        if before is None:  # the first state of this site: recorded, not sent (see the module docstring)
            self.store.record_announced(etags, ())
            return
        changed = changed_topics(before, current)
        gone = [url for url in before if url not in current]
        if not changed and not gone:
            return
        self.store.record_announced({url: etags[url] for url in changed}, gone)
        if not changed:
            return
        self.announcements += 1
        if self.hub is not None:
            for url in changed:
                self.distributor.distribute(url, current[url])
        if self.pinger is not None:
            self.pinger.ping(changed)

    async def _expire_now_and_then(self) -> None:
        while True:
            self.distributor.expire()
            await asyncio.sleep(EXPIRE_EVERY_S)
