"""Site settings: defaults, an optional `feedpub.yaml`, and flags on top.

A wrong key or value in the file is an error naming it, raised before any work starts.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .reading.text import clean_url

CONFIG_NAME = "feedpub.yaml"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
MAX_ARCHIVE_SIZE = 500


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it and says what would work."""


@dataclass(frozen=True, slots=True)
class WebSubSettings:
    """The `websub:` mapping of feedpub.yaml (README, WebSub). Off unless configured."""

    hubs: tuple[str, ...] = ()  # outside hubs: advertised in a feed's Link header, pinged when it changes
    builtin: bool = False  # the live server is a hub too, at <base_url>/websub
    # The store keys (stores/keys.py) take each setting by its repr. The two above name the hubs a
    # feed advertises (its Link header and the hub links in its body), so they count.
    # The fields below shape no byte of any feed or header and are left out of the repr: changing a
    # limit must not drop the saved state or the export record (a cold start or a full export for nothing).
    allow_private_callbacks: bool = field(default=False, repr=False)  # intranets and tests only
    lease_seconds: int = field(default=10 * 24 * 3600, repr=False)  # granted when none is asked for
    max_lease_seconds: int = field(default=30 * 24 * 3600, repr=False)  # longer requests are shortened
    max_subscriptions: int = field(default=10_000, repr=False)  # in all, pending verifications included
    max_subscriptions_per_host: int = field(default=100, repr=False)  # per callback host

    @property
    def enabled(self) -> bool:
        return bool(self.hubs) or self.builtin


@dataclass(frozen=True, slots=True)
class Settings:
    title: str = "feedpub"
    description: str = "The latest news"
    base_url: str = DEFAULT_BASE_URL
    language: str = "en"
    limit: int = 50
    topics: dict[str, str] = field(default_factory=dict)  # topic name → display name
    # Spellings merged into another topic (`A.I.: AI`); case and spacing differences merge by themselves.
    topic_aliases: dict[str, str] = field(default_factory=dict)
    websub: WebSubSettings = field(default_factory=WebSubSettings)  # a mapping in the file
    max_file_bytes: int = 1024 * 1024
    max_age: int = 300  # Cache-Control max-age, seconds
    include_drafts: bool = False
    include_future: bool = False
    # The whole history: RFC 5005 archive documents below every feed (see catalog/archives.py).
    archives: bool = True
    archive_size: int = 100  # items per archive document at most: far below what readers accept
    archive_max_age: int = 86400  # Cache-Control max-age of archive documents but each feed's newest, seconds
    # The seed site's paged JSON API (/api/news/...), off unless asked for.
    everyday_api: bool = False
    page_size: int = 25
    # /healthz names bad files and WebSub's state only to loopback clients that no proxy forwarded,
    # unless this is on. It shapes no output (repr=False: no store key moves with it).
    health_details: bool = field(default=False, repr=False)
    max_limit: int = 200  # the most items a filtered feed may ask for (`?limit=`), live server only

    def url(self, path: str) -> str:
        """Absolute URL of a site path; always from the configured base, never a request."""
        return self.base_url + "/" + path.lstrip("/")

    def replace(self, **changes: Any) -> Settings:
        """Apply flags: a None leaves the setting as it is."""
        given = {k: v for k, v in changes.items() if v is not None}
        return validate(dataclasses.replace(self, **given))


_FILE_KEYS = {"title", "description", "base_url", "language", "limit", "topics", "max_file_bytes", "max_age",
              "archives", "archive_size", "archive_max_age", "everyday_api", "page_size", "websub", "health_details",
              "topic_aliases", "max_limit"}


def load_settings(path: Path | None, *, search: Path | None = None) -> Settings:
    """Settings from `path`, else from `feedpub.yaml` in `search` if there is one, else defaults."""
    if path is None:
        candidate = (search or Path.cwd()) / CONFIG_NAME
        if not candidate.is_file():
            return Settings()
        path = candidate
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise SettingsError(f"{path}: cannot read: {error.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: not valid YAML: {error}") from None
    if raw is None:
        return Settings()
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: must be a mapping of settings, like `title: My News`")
    unknown = sorted(set(map(str, raw)) - _FILE_KEYS)
    if unknown:
        raise SettingsError(f"{path}: unknown setting {unknown[0]!r}; known: {', '.join(sorted(_FILE_KEYS))}")
    try:
        if "websub" in raw:
            raw = {**raw, "websub": websub_from_file(raw["websub"])}
        return validate(Settings(**raw))
    except SettingsError as error:
        raise SettingsError(f"{path}: {error}") from None


# A language tag as RSS's <language>, Atom's xml:lang and HTML's lang take it (BCP 47's shape).
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def validate(settings: Settings) -> Settings:
    for name in ("title", "description", "language"):
        value = getattr(settings, name)
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"{name} must be non-empty text, not {value!r}")
    for name, low in (("limit", 1), ("max_file_bytes", 1), ("max_age", 0), ("archive_size", 1),
                      ("archive_max_age", 0), ("page_size", 1), ("max_limit", 1)):
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise SettingsError(f"{name} must be a whole number of at least {low}, not {value!r}")
    if settings.archive_size > MAX_ARCHIVE_SIZE:
        raise SettingsError(f"archive_size must be at most {MAX_ARCHIVE_SIZE} (items per archive document), "
                            f"not {settings.archive_size}: the strictest readers stop at 2 MiB a document")
    for name in ("archives", "everyday_api", "include_drafts", "include_future", "health_details"):
        if not isinstance(getattr(settings, name), bool):
            raise SettingsError(f"{name} must be true or false, not {getattr(settings, name)!r}")
    topics = settings.topics
    if not isinstance(topics, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                               for k, v in topics.items()):
        raise SettingsError("topics must map topic names to display names, like `AI: Artificial intelligence`")
    validate_aliases(settings.topic_aliases)
    if not _LANGUAGE.fullmatch(settings.language):
        raise SettingsError(f"language must be a language tag such as en or pt-BR, not {settings.language!r}")
    base = settings.base_url
    if isinstance(base, str) and "@" in base.split("//", 1)[-1].split("/", 1)[0]:
        raise SettingsError("base_url must not hold a user name or password: every public link would carry it")
    url = clean_url(base) if isinstance(base, str) else None
    if not url or url.split("?")[0].split("#")[0] != url:
        raise SettingsError(f"base_url must be an absolute http(s) URL such as https://news.example.com, not {base!r}")
    return dataclasses.replace(settings, base_url=url.rstrip("/"), websub=validate_websub(settings.websub))


def validate_aliases(aliases: object) -> None:
    """`topic_aliases`: spellings mapped to the topic they stand for, never to another alias."""
    from .catalog.topics import topic_key

    example = "like `A.I.: AI`"
    if not isinstance(aliases, dict) or not all(isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip()
                                                for k, v in aliases.items()):
        raise SettingsError(f"topic_aliases must map topic names to the topic they stand for, {example}")
    sources = {topic_key(alias): alias for alias in aliases}
    for alias, target in aliases.items():
        if topic_key(target) in sources and topic_key(target) != topic_key(alias):
            raise SettingsError(f"topic_aliases: {alias!r} stands for {target!r}, which is an alias itself "
                                f"(of {aliases[sources[topic_key(target)]]!r}); name the final topic instead")


# -- websub: a mapping in feedpub.yaml, a `WebSubSettings` in `Settings` ------------------------

_WEBSUB_KEYS = {f.name for f in dataclasses.fields(WebSubSettings)}


def websub_from_file(raw: object) -> WebSubSettings:
    """The `websub:` mapping of feedpub.yaml as settings (checked by `validate_websub`)."""
    if raw is None:
        return WebSubSettings()
    if not isinstance(raw, dict):
        raise SettingsError("websub must be a mapping, like `websub: {hubs: [https://hub.example.com/]}`")
    unknown = sorted(set(map(str, raw)) - _WEBSUB_KEYS)
    if unknown:
        raise SettingsError(f"unknown setting websub.{unknown[0]}; known: {', '.join(sorted(_WEBSUB_KEYS))}")
    values: dict[str, Any] = dict(raw)
    hubs = values.get("hubs")
    if isinstance(hubs, str):
        values["hubs"] = (hubs,)  # one hub written without a list
    elif isinstance(hubs, list):
        values["hubs"] = tuple(hubs)
    return WebSubSettings(**values)


def validate_websub(websub: object) -> WebSubSettings:
    """The WebSub settings with each hub URL cleaned (and named once); an error naming the first wrong one."""
    if not isinstance(websub, WebSubSettings):
        raise SettingsError(f"websub must be a mapping of WebSub settings, not {websub!r}")
    if not isinstance(websub.hubs, tuple):
        raise SettingsError(f"websub.hubs must be a list of hub URLs, not {websub.hubs!r}")
    hubs: list[str] = []
    for hub in websub.hubs:
        url = clean_url(hub) if isinstance(hub, str) else None
        if not url or "#" in url:
            raise SettingsError(f"websub.hubs: each hub must be an absolute http(s) URL such as "
                                f"https://pubsubhubbub.appspot.com/, not {hub!r}")
        if url not in hubs:
            hubs.append(url)
    for name in ("builtin", "allow_private_callbacks"):
        value = getattr(websub, name)
        if not isinstance(value, bool):
            raise SettingsError(f"websub.{name} must be true or false, not {value!r}")
    for name in ("lease_seconds", "max_lease_seconds", "max_subscriptions", "max_subscriptions_per_host"):
        value = getattr(websub, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SettingsError(f"websub.{name} must be a whole number of at least 1, not {value!r}")
    if websub.lease_seconds > websub.max_lease_seconds:
        raise SettingsError(f"websub.lease_seconds ({websub.lease_seconds}) must not be more than "
                            f"websub.max_lease_seconds ({websub.max_lease_seconds})")
    if websub.max_subscriptions_per_host > websub.max_subscriptions:
        raise SettingsError(f"websub.max_subscriptions_per_host ({websub.max_subscriptions_per_host}) must not be "
                            f"more than websub.max_subscriptions ({websub.max_subscriptions})")
    return dataclasses.replace(websub, hubs=tuple(hubs))
