"""Publish pings to outside WebSub hubs: `hub.mode=publish` naming the topics whose bytes changed.

Used by `feedpub export` (`ping_hubs`, once, after the new tree is in place) and by the live
server (`feedpub.server.websub.ping.Pinger`, beside serving). The builder never imports the server,
so the client lives here.

WebSub leaves how a publisher tells its hub to the hub (section 6); the form every public hub
takes is PubSubHubbub's: a form POST of `hub.mode=publish` and `hub.url=<topic>`, repeated for
several topics, with `hub.topic` repeated beside it for the hubs that read that name. Topics are
sent in batches, each retried with backoff on a 5xx, a 429 or a failed connection, and the
whole is bounded in time; a failure is returned (or logged and kept by the `Pinger`), never raised.
Hub URLs come from the operator's settings, so unlike callbacks they may be on this machine or
the intranet. httpx is imported with this module: import it only when there is something to ping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from urllib.parse import urlencode

import httpx

log = logging.getLogger("feedpub.websub")

BATCH = 50  # topics per request
RETRY_DELAYS_S = (1.0, 4.0, 15.0)  # after the 1st, 2nd and 3rd failure of a batch; then it is given up
DEADLINE_S = 15.0  # one request, connect to answer
TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # per phase, within the deadline
EXPORT_DEADLINE_S = 60.0  # every ping of one `feedpub export`, retries included
ANSWER_CAP = 4096  # bytes of a hub's answer read, for the error line
USER_AGENT = "feedpub-websub"


def ping_form(topics: list[str]) -> list[tuple[str, str]]:
    """The form of one ping naming `topics`."""
    return [("hub.mode", "publish"), *(("hub.url", topic) for topic in topics),
            *(("hub.topic", topic) for topic in topics)]


def ping_client() -> httpx.AsyncClient:
    """A client for pings: timeouts on every phase, no redirects (a hub's URL is its own)."""
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, headers={"user-agent": USER_AGENT})


async def send_ping(client: httpx.AsyncClient, hub: str, topics: list[str], *,
                    deadline: float = DEADLINE_S) -> tuple[str | None, bool]:
    """Ping `hub` once: (None, _) when it answered 2xx, else (the error, whether to try again)."""
    try:
        async with asyncio.timeout(deadline):
            async with client.stream("POST", hub, content=_encode(ping_form(topics)),
                                     headers={"content-type": "application/x-www-form-urlencoded"}) as response:
                status = response.status_code
                where = response.headers.get("location", "")
                answer = bytearray()
                async for chunk in response.aiter_raw():  # bounded: a hub's answer is a line at most
                    answer += chunk[: ANSWER_CAP - len(answer)]
                    if len(answer) >= ANSWER_CAP:
                        break
    except (httpx.HTTPError, TimeoutError, OSError) as error:
        return (f"{hub}: timed out" if isinstance(error, (TimeoutError, httpx.TimeoutException))
                else f"{hub}: {error or type(error).__name__}"), True
    if 200 <= status < 300:
        return None, False
    if 300 <= status < 400:
        return f"{hub}: answered {status} (a redirect to {where}): set websub.hubs to the hub's own URL", False
    text = answer.decode("utf-8", "replace").strip()
    first = text.splitlines()[0][:200] if text else ""
    return f"{hub}: answered {status}" + (f": {first}" if first else ""), status >= 500 or status == 429


async def ping_with_retries(client: httpx.AsyncClient, hub: str, topics: list[str], *,
                            retry_delays: tuple[float, ...] = RETRY_DELAYS_S,
                            deadline: float = DEADLINE_S) -> str | None:
    """Ping until the hub accepts or the retries run out; the last error, or None."""
    error: str | None = None
    for attempt in range(len(retry_delays) + 1):
        error, again = await send_ping(client, hub, topics, deadline=deadline)
        if error is None or not again or attempt == len(retry_delays):
            break
        log.info("WebSub ping failed (%s); trying again in %g s", error, retry_delays[attempt])
        await asyncio.sleep(retry_delays[attempt])
    return error


def batches(topics: Iterable[str], size: int = BATCH) -> list[list[str]]:
    """The topics, each once and sorted (the same changes, the same pings), in batches of `size`."""
    ordered = sorted(set(topics))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def ping_hubs(hubs: Iterable[str], topics: Iterable[str], *, batch: int = BATCH,
              retry_delays: tuple[float, ...] = RETRY_DELAYS_S, deadline: float = EXPORT_DEADLINE_S) -> list[str]:
    """Ping every hub for `topics` once (retries included), within `deadline` seconds in all;
    returns one line per failed batch (empty when every hub accepted every topic). Synchronous:
    for `feedpub export`, which has no event loop of its own."""
    parts = batches(topics, batch)
    hubs = list(hubs)
    if not parts or not hubs:
        return []

    async def run() -> list[str]:
        async with ping_client() as client:
            async def one(hub: str) -> list[str]:
                errors = []
                for part in parts:
                    error = await ping_with_retries(client, hub, part, retry_delays=retry_delays)
                    if error is not None:
                        errors.append(f"{error} ({len(part)} topics not pinged)")
                return errors
            try:
                async with asyncio.timeout(deadline):
                    found = await asyncio.gather(*(one(hub) for hub in hubs))
            except TimeoutError:
                return [f"pinging {', '.join(hubs)} took more than {deadline:g} s; stopped"]
            return [line for lines in found for line in lines]

    return asyncio.run(run())


def _encode(form: list[tuple[str, str]]) -> bytes:
    return urlencode(form).encode("ascii")
