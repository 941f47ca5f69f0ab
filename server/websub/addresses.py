"""The callback safety check: which addresses the hub may send to, checked when a request names a
callback and again when a connection is made.

A hub makes requests to URLs that strangers give it, so without a check anyone could make it
reach this machine's loopback services or the intranet behind it (SSRF). A name is resolved by
the hub itself, every address it resolves to must be allowed, and the connection goes to the
address that was checked: a name that resolves publicly at subscription time and to 127.0.0.1
later (DNS rebinding) is caught when the hub connects. TLS still checks the certificate against
the name, since only the socket's address is chosen here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
from concurrent.futures import ThreadPoolExecutor

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL = 2048  # longer callback URLs are refused: they are stored and sent back with every request
RESOLVE_THREADS = 4
RESOLVE_PENDING = 64  # lookups waiting or running; past it a subscription request is told to retry later
RESOLVE_TIMEOUT_S = 5.0


class CallbackRefused(Exception):
    """A callback the hub will not send to; the message is the one-line reason a subscriber is told."""


class ResolverBusy(Exception):
    """Too many name lookups under way: a subscription request is answered 503, never queued."""


def parse_callback(url: str) -> httpx.URL:
    """The callback URL if its form is acceptable (absolute http(s), a host, no credentials or fragment)."""
    if len(url) > MAX_URL:
        raise CallbackRefused(f"hub.callback is longer than {MAX_URL} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise CallbackRefused("hub.callback is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise CallbackRefused("hub.callback must be an absolute http:// or https:// URL")
    if parsed.userinfo:
        raise CallbackRefused("hub.callback must not carry a user name or password")
    if parsed.fragment or "#" in url:
        raise CallbackRefused("hub.callback must not have a #fragment")
    return parsed


def address_kind(ip: IPAddress) -> str | None:
    """Why an address is not a public one ('loopback', 'private', …), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:  # an IPv4 address wrapped in IPv6 reaches that IPv4 address
            kind = address_kind(embedded)
            if kind is not None:
                return kind
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return None


def allowed(ip: IPAddress, *, allow_private: bool) -> bool:
    """Whether the hub may connect to `ip`. `allow_private` opens loopback, private and link-local
    addresses (intranets, tests), never multicast or the unspecified address, which name no one host."""
    kind = address_kind(ip)
    return kind is None or (allow_private and kind not in ("multicast", "unspecified"))


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return None


class Resolver:
    """Name lookups on threads of their own, bounded in number and time.

    `getaddrinfo` blocks a thread until the system resolver gives up; on the event loop's default
    executor a flood of slow names would hold the threads the live server rebuilds on.
    """

    def __init__(self, *, threads: int = RESOLVE_THREADS, pending: int = RESOLVE_PENDING,
                 timeout: float = RESOLVE_TIMEOUT_S) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="websub-dns")
        self._limit = pending
        self._pending = 0
        self.timeout = timeout

    async def resolve(self, host: str, port: int, timeout: float | None = None) -> list[IPAddress]:
        """Every address `host` resolves to, in the resolver's order; OSError when it resolves to none."""
        literal = _literal(host)
        if literal is not None:
            return [literal]
        if self._pending >= self._limit:
            raise ResolverBusy("too many name lookups under way")
        loop = asyncio.get_running_loop()
        self._pending += 1
        future = loop.run_in_executor(self._executor, socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)

        def done(_: object) -> None:  # the thread is free only when the lookup ends, not when we stop waiting
            self._pending -= 1
        future.add_done_callback(done)
        try:
            found = await asyncio.wait_for(asyncio.shield(future), min(timeout or self.timeout, self.timeout))
        except TimeoutError:
            raise OSError(f"looking up {host} took more than {self.timeout:g} s") from None
        except socket.gaierror as error:
            raise OSError(f"{host} cannot be resolved ({error.strerror})") from None
        addresses: list[IPAddress] = []
        for *_, sockaddr in found:
            ip = _literal(str(sockaddr[0]))
            if ip is not None and ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise OSError(f"{host} resolves to no address")
        return addresses

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


async def check_callback(url: str, resolver: Resolver, *, allow_private: bool) -> httpx.URL:
    """The parsed callback if the hub may send to it now; `CallbackRefused` with the reason if not.

    A first check, so a subscriber hears at once why it is refused; `GuardedBackend` checks
    again at every connection."""
    parsed = parse_callback(url)
    try:
        addresses = await resolver.resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except OSError as error:
        raise CallbackRefused(f"hub.callback: {error}") from None
    _refuse_any(parsed.host, addresses, allow_private=allow_private)
    return parsed


def _refuse_any(host: str, addresses: list[IPAddress], *, allow_private: bool) -> None:
    # Every address must pass, not just one: the connection could go to any of them.
    for ip in addresses:
        if not allowed(ip, allow_private=allow_private):
            shown = str(ip) if _literal(host) is not None else f"{host} resolves to {ip}"
            raise CallbackRefused(f"hub.callback {shown}, a {address_kind(ip)} address; "
                                  f"this hub sends only to public addresses")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address check at connect time: resolve, check every
    address, connect to a checked one (the name is never resolved again behind our back)."""

    def __init__(self, resolver: Resolver, *, allow_private: bool) -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._resolver.resolve(host, port, timeout)
        except (OSError, ResolverBusy) as error:
            raise httpcore.ConnectError(str(error)) from None
        _refuse_any(host, addresses, allow_private=self._allow_private)
        failure: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(str(ip), port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure or httpcore.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("the hub connects to callbacks over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose connections go through `GuardedBackend`.

    httpx takes no network backend, so the pool it made is replaced by one that has it (the same
    settings otherwise); no proxy is used, since a proxy would connect to unchecked addresses."""

    def __init__(self, resolver: Resolver, *, allow_private: bool, limits: httpx.Limits,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(limits=limits, trust_env=False)
        if not hasattr(self, "_pool"):  # pragma: no cover - a future httpx
            raise RuntimeError("this httpx version keeps its connection pool elsewhere; see server/websub/addresses.py")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(resolver, allow_private=allow_private),
        )


def callback_client(resolver: Resolver, *, allow_private: bool, timeout: httpx.Timeout, connections: int,
                    user_agent: str) -> httpx.AsyncClient:
    """The client every request to a subscriber goes through: checked addresses, no redirects (the
    spec counts a 3xx as a failure), no proxy from the environment, timeouts on every phase."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=5.0)
    return httpx.AsyncClient(transport=GuardedTransport(resolver, allow_private=allow_private, limits=limits),
                             timeout=timeout, follow_redirects=False, trust_env=False,
                             headers={"user-agent": user_agent})
