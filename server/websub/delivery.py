"""Content distribution: a topic's new bytes POSTed to each subscriber, off the request path, with
bounded concurrency, retries with backoff, and a subscription dropped after a bounded number of
failed deliveries or when its lease has ended.

Spec: https://www.w3.org/TR/websub/ section 7 (Content Distribution) and 8 (Authenticated Content
Distribution). Every request to a subscriber, verifications included, goes through one `Outbox`:
a fixed number of workers, at most `per_host` requests in flight to one callback host, hosts
served in turn, one entry per (kind, topic, callback) whose payload is replaced by a newer
version (a subscriber that lags gets the latest bytes, not a backlog): memory stays within the
number of subscriptions, and a slow host can hold at most `per_host` workers, each for at most
`deadline` seconds.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import hmac
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import partial

import httpx

from feedpub.render.site import Output

from .addresses import CallbackRefused
from .subscriptions import Store

log = logging.getLogger("feedpub.websub")

WORKERS = 8  # requests to subscribers in flight, in all
PER_HOST = 2  # … to one callback host
RETRY_DELAYS_S = (10.0, 60.0, 300.0, 1800.0, 3600.0)  # after the 1st, 2nd, … failed delivery
DELIVERY_ATTEMPTS = 6  # failed deliveries in a row before the subscription is dropped (~1.5 h of retries)
DEADLINE_S = 20.0  # one request to a subscriber, connect to last byte read (a trickling answer included)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # per phase, within the deadline
RESPONSE_CAP = 64 * 1024  # bytes read of a subscriber's answer (a delivery's answer is ignored anyway)
OUTBOX_CAPACITY = 50_000  # entries in all: above every subscription limit, a last guard on memory


class Outcome(enum.Enum):
    SENT = "sent"  # done (a 2xx, or nothing left to send)
    FAILED = "failed"  # try again later, if attempts are left
    GONE = "gone"  # give up now (410 Gone, a refused address)


@dataclass(eq=False, slots=True)
class _Entry:
    key: Hashable
    host: str
    work: Callable[[int], Awaitable[Outcome]]  # called with the number of failed attempts so far
    attempts: int
    give_up: Callable[[Outcome], None] | None
    failures: int = 0
    queued: bool = False
    running: bool = False
    again: bool = False  # new work came while this entry was running: run once more
    timer: asyncio.TimerHandle | None = None


class Outbox:
    """Outgoing requests to subscribers, scheduled fairly across hosts (see the module docstring)."""

    def __init__(self, *, workers: int = WORKERS, per_host: int = PER_HOST,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS_S, capacity: int = OUTBOX_CAPACITY) -> None:
        self._workers = workers
        self._per_host = per_host
        self._delays = retry_delays
        self._capacity = capacity
        self._entries: dict[Hashable, _Entry] = {}
        self._queues: dict[str, deque[_Entry]] = {}
        self._rotation: deque[str] = deque()  # hosts with queued entries, in turn
        self._in_flight: Counter[str] = Counter()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.busiest = 0  # most requests seen in flight at once, for tests and /healthz

    def __len__(self) -> int:
        return len(self._entries)

    def pending(self, kind: object) -> int:
        """Entries whose key starts with `kind`."""
        return sum(1 for key in self._entries if isinstance(key, tuple) and key[0] == kind)

    def put(self, key: Hashable, host: str, work: Callable[[int], Awaitable[Outcome]], *, attempts: int = 1,
            give_up: Callable[[Outcome], None] | None = None) -> bool:
        """Schedule `work` under `key`, replacing the work of an entry already there (its failure
        count and retry time stay, so a subscriber is not tried more often for changing more);
        False when the outbox is full."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.work, entry.attempts, entry.give_up = work, attempts, give_up
            if entry.running:
                entry.again = True
            return True
        if len(self._entries) >= self._capacity:
            return False
        entry = self._entries[key] = _Entry(key, host, work, attempts, give_up)
        self._ready(entry)
        return True

    def cancel(self, key: Hashable) -> None:
        """Forget the entry (unsubscribed, dropped); a request under way finishes but is not retried."""
        entry = self._entries.pop(key, None)
        if entry is not None and entry.timer is not None:
            entry.timer.cancel()

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(), name=f"websub-outbox-{n}") for n in range(self._workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []
        for entry in self._entries.values():
            if entry.timer is not None:
                entry.timer.cancel()
        self._entries.clear()  # retries do not survive a restart: the next change is delivered anew
        self._queues.clear()
        self._rotation.clear()

    def _ready(self, entry: _Entry) -> None:
        entry.timer = None
        if self._entries.get(entry.key) is not entry or entry.queued or entry.running:
            return
        entry.queued = True
        queue = self._queues.get(entry.host)
        if queue is None:
            queue = self._queues[entry.host] = deque()
        if not queue:
            self._rotation.append(entry.host)
        queue.append(entry)
        self._wake.set()

    async def _take(self) -> _Entry:
        while True:
            for _ in range(len(self._rotation)):
                host = self._rotation[0]
                self._rotation.rotate(-1)  # the next pick starts with the next host
                if self._in_flight[host] >= self._per_host:
                    continue
                queue = self._queues[host]
                entry = queue.popleft()
                if not queue:
                    self._rotation.remove(host)
                    del self._queues[host]
                entry.queued = False
                if self._entries.get(entry.key) is entry:
                    return entry
                break  # a cancelled entry: look again from the start
            else:
                self._wake.clear()
                await self._wake.wait()

    async def _work(self) -> None:
        while True:
            entry = await self._take()
            entry.running = True
            entry.again = False
            self._in_flight[entry.host] += 1
            self.busiest = max(self.busiest, sum(self._in_flight.values()))
            try:
                outcome = await entry.work(entry.failures)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one request must not stop the worker
                log.exception("WebSub request to %s failed", entry.host)
                outcome = Outcome.FAILED
            finally:
                entry.running = False
                self._in_flight[entry.host] -= 1
                if not self._in_flight[entry.host]:
                    del self._in_flight[entry.host]
                self._wake.set()  # the host may take another request now
            self._settle(entry, outcome)

    def _settle(self, entry: _Entry, outcome: Outcome) -> None:
        if self._entries.get(entry.key) is not entry:
            return  # cancelled while it ran
        if outcome is Outcome.SENT:
            entry.failures = 0
            if entry.again:  # a newer version came meanwhile
                self._ready(entry)
            else:
                del self._entries[entry.key]
            return
        if outcome is Outcome.FAILED and entry.failures + 1 < entry.attempts:
            entry.failures += 1
            delay = self._delays[min(entry.failures, len(self._delays)) - 1] if self._delays else 0.0
            entry.timer = asyncio.get_running_loop().call_later(delay, self._ready, entry)
            return
        del self._entries[entry.key]
        if entry.give_up is not None:
            entry.give_up(outcome)


async def exchange(client: httpx.AsyncClient, method: str, url: str, *, cap: int = RESPONSE_CAP,
                   deadline: float = DEADLINE_S, content: bytes | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One request: its status and at most `cap` bytes of the body as sent (no decoding), within
    `deadline` seconds in all. Raises httpx's errors, `CallbackRefused`, or TimeoutError."""
    async with asyncio.timeout(deadline):
        async with client.stream(method, url, content=content, headers=headers) as response:
            body = bytearray()
            async for chunk in response.aiter_raw():
                body += chunk[: cap - len(body)]
                if len(body) >= cap:
                    break  # the rest is not read: the connection is closed, not reused
            return response.status_code, bytes(body)


def signature(secret: bytes, body: bytes) -> str:
    """`X-Hub-Signature` for `body` (section 8): the HMAC-SHA256 of the body, keyed with the secret."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


@dataclass
class DeliveryCounts:
    delivered: int = 0  # deliveries answered 2xx
    failed: int = 0  # attempts that failed (each retry counts)
    dropped: int = 0  # subscriptions dropped after failing or being refused
    expired: int = 0  # subscriptions whose lease ended
    last_error: str | None = None
    last_error_at: float | None = None


class Distributor:
    """Sends each new version of a topic to the topic's subscribers (section 7)."""

    def __init__(self, store: Store, outbox: Outbox, client: httpx.AsyncClient, *, links: Callable[[str], str],
                 clock: Callable[[], float] = time.time, attempts: int = DELIVERY_ATTEMPTS,
                 deadline: float = DEADLINE_S) -> None:
        self.store = store
        self.outbox = outbox
        self.client = client
        self.links = links  # topic URL → its Link header value (the hubs and the topic itself)
        self.clock = clock
        self.attempts = attempts
        self.deadline = deadline
        self.counts = DeliveryCounts()

    def distribute(self, topic: str, output: Output) -> int:
        """Schedule `output` (the topic's new bytes and type) for every subscriber whose lease runs;
        returns how many. A subscriber still waiting for an older version gets this one instead."""
        subscribers = self.store.active(topic, self.clock())
        for subscription in subscribers:
            key = ("deliver", topic, subscription.callback)
            work = partial(self._send, topic, subscription.callback, output)
            if not self.outbox.put(key, subscription.host, work, attempts=self.attempts,
                                   give_up=partial(self._give_up, topic, subscription.callback)):
                self._error(f"outbox full: delivery to {subscription.callback} skipped")
        return len(subscribers)

    def forget(self, topic: str, callback: str) -> None:
        """A subscription ended: nothing more is sent to it."""
        self.outbox.cancel(("deliver", topic, callback))

    def expire(self) -> int:
        """Delete the subscriptions whose lease has ended (deliveries already skip them)."""
        ended = self.store.expire(self.clock())
        for subscription in ended:
            self.forget(subscription.topic, subscription.callback)
            log.info("WebSub: the lease of %s on %s ended", subscription.callback, subscription.topic)
        self.counts.expired += len(ended)
        return len(ended)

    async def _send(self, topic: str, callback: str, output: Output, failures: int) -> Outcome:
        # Read again at send time: the subscriber may have unsubscribed, renewed with another secret,
        # or let its lease end since this delivery was scheduled.
        subscription = self.store.get(topic, callback)
        if subscription is None or subscription.expires_at <= self.clock():
            return Outcome.SENT
        headers = {"content-type": output.media_type, "link": self.links(topic)}
        if subscription.secret is not None:
            headers["x-hub-signature"] = signature(subscription.secret, output.body)
        try:
            status, _ = await exchange(self.client, "POST", callback, content=output.body, headers=headers,
                                       deadline=self.deadline)
        except CallbackRefused as refused:
            log.warning("WebSub: dropping %s on %s: %s", callback, topic, refused)
            return Outcome.GONE
        except (httpx.HTTPError, TimeoutError, OSError) as error:
            self._error(f"{callback}: {_describe(error)}")
            return Outcome.FAILED
        if 200 <= status < 300:
            self.counts.delivered += 1
            return Outcome.SENT
        if status == 410:  # the subscriber says the subscription is gone (section 7 lets the hub drop it)
            log.info("WebSub: %s answered 410 Gone; dropping its subscription to %s", callback, topic)
            return Outcome.GONE
        self._error(f"{callback}: answered {status}")
        return Outcome.FAILED

    def _give_up(self, topic: str, callback: str, outcome: Outcome) -> None:
        if self.store.remove(topic, callback):
            self.counts.dropped += 1
            if outcome is Outcome.FAILED:
                log.warning("WebSub: dropping %s on %s after %d failed deliveries", callback, topic, self.attempts)

    def _error(self, message: str) -> None:
        self.counts.failed += 1
        self.counts.last_error = message
        self.counts.last_error_at = time.time()
        log.info("WebSub delivery failed: %s", message)


def _describe(error: BaseException) -> str:
    if isinstance(error, (TimeoutError, httpx.TimeoutException)):
        return "timed out"
    return str(error) or type(error).__name__
