"""The hub's HTTP endpoint: subscription requests, answered 202 and verified with the subscriber later.

Spec: https://www.w3.org/TR/websub/ section 5.1 (Subscriber Sends Subscription Request) and 5.3
(Hub Verifies Intent of the Subscriber). A request is checked at once (a topic that is not a feed
of this site, a callback that is not http(s) or not public, a secret of 200 bytes or more, a
bad mode: 4xx with a one-line reason); an accepted one is answered 202, and the hub then GETs the
callback with a challenge through the `Outbox`. Only a 2xx whose body is the challenge changes
anything: the subscription is saved (or renewed), or removed for an unsubscribe; any other
answer leaves the state as it was (section 5.3).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from urllib.parse import parse_qs, urlencode

import httpx
from starlette.requests import Request
from starlette.responses import Response

from feedpub.settings import WebSubSettings

from .addresses import CallbackRefused, Resolver, ResolverBusy, check_callback
from .delivery import Distributor, Outbox, Outcome, exchange
from .subscriptions import Store, Subscription

log = logging.getLogger("feedpub.websub")

MAX_BODY = 16 * 1024  # a subscription request is a few form fields
BODY_TIMEOUT_S = 10.0  # to receive it, as for a request's head (protocol/bounded.py)
MAX_FIELDS = 32
MAX_SECRET = 200  # bytes; section 5.1: hub.secret MUST be less than 200 bytes
MAX_TOPIC = 2048
PENDING_MAX = 256  # verifications waiting or under way, in all: each is a request the hub makes
CHALLENGE_CAP = 1024  # bytes read of a verification's answer; a challenge is 43
VERIFY_DEADLINE_S = 10.0
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    reason: str  # one line, the body of the answer


ACCEPTED = Answer(202, "Accepted: the hub will verify the request with the callback")


class Hub:
    def __init__(self, *, store: Store, outbox: Outbox, client: httpx.AsyncClient, resolver: Resolver,
                 distributor: Distributor, topic_of: Callable[[str], str | None], settings: WebSubSettings,
                 clock: Callable[[], float] = time.time, verify_deadline: float = VERIFY_DEADLINE_S) -> None:
        """`topic_of(url)` answers "is this a topic here?": the canonical URL of the feed of this site
        that `url` names (currently published), or None."""
        self.store = store
        self.outbox = outbox
        self.client = client
        self.resolver = resolver
        self.distributor = distributor
        self.topic_of = topic_of
        self.settings = settings
        self.clock = clock
        self.verify_deadline = verify_deadline
        # (topic, callback) waiting for verification → (its host, whether it would add a subscription)
        self._pending: dict[tuple[str, str], tuple[str, bool]] = {}
        self._pending_hosts: Counter[str] = Counter()  # verifications waiting, per callback host
        self._adding_hosts: Counter[str] = Counter()  # … that would add a subscription (not renew or remove)
        self.verified = 0
        self.unverified = 0  # verifications the subscriber did not confirm (or could not be reached)

    @property
    def pending(self) -> int:
        return len(self._pending)

    # -- the endpoint -----------------------------------------------------------------------

    async def endpoint(self, request: Request) -> Response:
        """The Starlette endpoint (POST): the body read up to `MAX_BODY`, then `handle`."""
        body = await _read(request)
        answer = body if isinstance(body, Answer) else await self.handle(body, request.headers.get("content-type"))
        return Response(answer.reason + "\n", status_code=answer.status, media_type="text/plain",
                        headers={"cache-control": "no-store", "x-content-type-options": "nosniff"})

    async def handle(self, body: bytes, content_type: str | None) -> Answer:
        """Check a subscription request and schedule its verification."""
        if (content_type or "").split(";")[0].strip().lower() != FORM:
            return Answer(415, f"send the request as {FORM} (a form POST)")
        try:
            form = parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=MAX_FIELDS,
                            encoding="utf-8", errors="strict")
        except (UnicodeDecodeError, ValueError):
            return Answer(400, "the request body is not a valid form")
        fields: dict[str, str] = {}
        for name in ("hub.mode", "hub.topic", "hub.callback", "hub.lease_seconds", "hub.secret"):
            values = form.get(name, [])
            if len(values) > 1:
                return Answer(400, f"{name} is given more than once")
            if values:
                fields[name] = values[0]
        # Section 5.1: parameters the hub does not know are ignored.
        mode = fields.get("hub.mode")
        if mode == "publish":
            return Answer(400, "hub.mode=publish is not taken here: this hub sends this site's feeds itself "
                               "whenever they change")
        if mode not in ("subscribe", "unsubscribe"):
            return Answer(400, "hub.mode must be subscribe or unsubscribe")
        requested = fields.get("hub.topic")
        if not requested:
            return Answer(400, "hub.topic is missing: give the URL of a feed of this site")
        topic = self.topic_of(requested) if len(requested) <= MAX_TOPIC else None
        if topic is None:
            return Answer(404, f"hub.topic {requested[:200]} is not a feed of this site")
        callback = fields.get("hub.callback")
        if not callback:
            return Answer(400, "hub.callback is missing")
        secret: bytes | None = None
        if "hub.secret" in fields:
            secret = fields["hub.secret"].encode("utf-8")
            if len(secret) >= MAX_SECRET:
                return Answer(400, f"hub.secret must be less than {MAX_SECRET} bytes")
            if not secret:
                return Answer(400, "hub.secret is empty: leave it out for unsigned deliveries")
        lease = self.settings.lease_seconds
        if fields.get("hub.lease_seconds"):
            text = fields["hub.lease_seconds"]
            if not text.isdigit() or int(text) < 1:
                return Answer(400, "hub.lease_seconds must be a whole number of seconds, at least 1")
            lease = min(int(text), self.settings.max_lease_seconds)  # the hub may shorten it (section 5.3)
        try:
            parsed = await check_callback(callback, self.resolver,
                                          allow_private=self.settings.allow_private_callbacks)
        except CallbackRefused as why:
            return Answer(400, str(why))
        except ResolverBusy:
            return Answer(503, "the hub is busy; try again in a minute")
        host = parsed.host
        key = (topic, callback)
        adds = mode == "subscribe" and self.store.get(topic, callback) is None  # a renewal adds nothing
        if key not in self._pending:
            over = self._over_limits(host, adds=adds)
            if over is not None:
                return over
        work = partial(self._verify, mode, topic, requested, callback, secret, lease)
        if not self.outbox.put(("verify", topic, callback), host, work, give_up=partial(self._done, key)):
            return Answer(503, "the hub is busy; try again in a minute")
        if key not in self._pending:  # else the newer request replaced the one waiting
            self._pending[key] = (host, adds)
            self._pending_hosts[host] += 1
            self._adding_hosts[host] += adds
        return ACCEPTED

    def _over_limits(self, host: str, *, adds: bool) -> Answer | None:
        limits = self.settings
        if len(self._pending) >= PENDING_MAX:
            return Answer(503, "too many requests are waiting for verification; try again in a minute")
        # Each request makes the hub send one: bounded per host whatever the mode.
        if self._pending_hosts[host] >= limits.max_subscriptions_per_host:
            return Answer(429, f"too many requests for callback host {host} are waiting for verification")
        if adds:
            if self.store.count() + sum(self._adding_hosts.values()) >= limits.max_subscriptions:
                return Answer(429, f"this hub has reached its limit of {limits.max_subscriptions} subscriptions")
            if self.store.count(host) + self._adding_hosts[host] >= limits.max_subscriptions_per_host:
                return Answer(429, f"callback host {host} has reached its limit of "
                                   f"{limits.max_subscriptions_per_host} subscriptions")
        return None

    # -- verification of intent (section 5.3) -------------------------------------------------

    async def _verify(self, mode: str, topic: str, requested: str, callback: str, secret: bytes | None, lease: int,
                      failures: int) -> Outcome:
        key = (topic, callback)
        challenge = secrets.token_urlsafe(32)
        # The topic as the subscriber wrote it (section 5.3), which it compares with its own records;
        # the subscription is kept under the canonical URL, which deliveries name in rel="self".
        query = {"hub.mode": mode, "hub.topic": requested, "hub.challenge": challenge}
        if mode == "subscribe":
            query["hub.lease_seconds"] = str(lease)
        # The callback's own query string is kept; the hub's parameters are appended (section 5.3).
        url = callback + ("&" if httpx.URL(callback).query else "?") + urlencode(query)
        try:
            status, body = await exchange(self.client, "GET", url, cap=CHALLENGE_CAP, deadline=self.verify_deadline)
        except (CallbackRefused, httpx.HTTPError, TimeoutError, OSError) as error:
            self._unverified(mode, topic, callback, str(error) or type(error).__name__)
            return Outcome.SENT  # not retried: the subscriber asks again
        finally:
            self._done(key, None)
        if not 200 <= status < 300:
            self._unverified(mode, topic, callback, f"answered {status}")
            return Outcome.SENT
        if body.strip() != challenge.encode("ascii"):  # surrounding whitespace (a newline) is forgiven
            self._unverified(mode, topic, callback, "answered without the challenge")
            return Outcome.SENT
        if mode == "unsubscribe":
            self.store.remove(topic, callback)
            self.distributor.forget(topic, callback)
            log.info("WebSub: %s unsubscribed from %s", callback, topic)
        else:
            host = httpx.URL(callback).host
            if self.store.get(topic, callback) is None and (
                    self.store.count() >= self.settings.max_subscriptions
                    or self.store.count(host) >= self.settings.max_subscriptions_per_host):
                self._unverified(mode, topic, callback, "the subscription limit was reached meanwhile")
                return Outcome.SENT
            self.store.save(Subscription(topic, callback, host, secret, lease, self.clock() + lease))
            log.info("WebSub: %s subscribed to %s for %d s", callback, topic, lease)
        self.verified += 1
        return Outcome.SENT

    def _done(self, key: tuple[str, str], _: Outcome | None) -> None:
        found = self._pending.pop(key, None)
        if found is not None:
            host, adds = found
            for counter, by in ((self._pending_hosts, 1), (self._adding_hosts, int(adds))):
                counter[host] -= by
                if counter[host] <= 0:
                    del counter[host]

    def _unverified(self, mode: str, topic: str, callback: str, why: str) -> None:
        self.unverified += 1
        log.info("WebSub: %s of %s to %s not verified: %s", mode, callback, topic, why)


async def _read(request: Request) -> bytes | Answer:
    too_large = Answer(413, f"a subscription request must be at most {MAX_BODY} bytes")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        return too_large
    body = bytearray()
    try:
        # The protocol bounds a request's head in time, not its body: a body trickled byte by byte
        # must not hold the connection open.
        async with asyncio.timeout(BODY_TIMEOUT_S):
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:  # a chunked body has no length to check first
                    return too_large
    except TimeoutError:
        return Answer(408, f"the request body did not arrive within {BODY_TIMEOUT_S:g} s")
    return bytes(body)
