"""Site settings: defaults, an optional `feedpub.yaml`, and flags on top.

A wrong key or value in the file is an error naming it, raised before any work starts.
"""

from __future__ import annotations

import dataclasses
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
class Settings:
    title: str = "feedpub"
    description: str = "The latest news"
    base_url: str = DEFAULT_BASE_URL
    language: str = "en"
    limit: int = 50
    topics: dict[str, str] = field(default_factory=dict)  # topic name → display name
    max_file_bytes: int = 1024 * 1024
    max_age: int = 300  # Cache-Control max-age, seconds
    include_drafts: bool = False
    include_future: bool = False
    # The whole history: RFC 5005 archive documents below every feed (see catalog/archives.py).
    archives: bool = True
    archive_size: int = 100  # items per archive document at most: far below what readers accept
    archive_max_age: int = 86400  # Cache-Control max-age of archive documents, seconds
    # The seed site's paged JSON API (/api/news/...), off unless asked for.
    everyday_api: bool = False
    page_size: int = 25

    def url(self, path: str) -> str:
        """Absolute URL of a site path; always from the configured base, never a request."""
        return self.base_url + "/" + path.lstrip("/")

    def replace(self, **changes: Any) -> Settings:
        """Apply flags: a None leaves the setting as it is."""
        given = {k: v for k, v in changes.items() if v is not None}
        return validate(dataclasses.replace(self, **given))


_FILE_KEYS = {"title", "description", "base_url", "language", "limit", "topics", "max_file_bytes", "max_age",
              "archives", "archive_size", "archive_max_age", "everyday_api", "page_size"}


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
        return validate(Settings(**raw))
    except SettingsError as error:
        raise SettingsError(f"{path}: {error}") from None


def validate(settings: Settings) -> Settings:
    for name in ("title", "description", "language"):
        value = getattr(settings, name)
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"{name} must be non-empty text, not {value!r}")
    for name, low in (("limit", 1), ("max_file_bytes", 1), ("max_age", 0), ("archive_size", 1),
                      ("archive_max_age", 0), ("page_size", 1)):
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise SettingsError(f"{name} must be a whole number of at least {low}, not {value!r}")
    if settings.archive_size > MAX_ARCHIVE_SIZE:
        raise SettingsError(f"archive_size must be at most {MAX_ARCHIVE_SIZE} (items per archive document), "
                            f"not {settings.archive_size}: the strictest readers stop at 2 MiB a document")
    for name in ("archives", "everyday_api", "include_drafts", "include_future"):
        if not isinstance(getattr(settings, name), bool):
            raise SettingsError(f"{name} must be true or false, not {getattr(settings, name)!r}")
    topics = settings.topics
    if not isinstance(topics, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                               for k, v in topics.items()):
        raise SettingsError("topics must map topic names to display names, like `AI: Artificial intelligence`")
    base = settings.base_url
    url = clean_url(base) if isinstance(base, str) else None
    if not url or url.split("?")[0].split("#")[0] != url:
        raise SettingsError(f"base_url must be an absolute http(s) URL such as https://news.example.com, not {base!r}")
    return dataclasses.replace(settings, base_url=url.rstrip("/"))
