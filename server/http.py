"""HTTP rules for serving prepared bodies: conditional GET, content negotiation for gzip, headers.

Pure functions over header values, so each rule is testable on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime


def etag_matches(if_none_match: str, etags: tuple[str, ...]) -> bool:
    """RFC 9110 §13.1.2: weak comparison; `*` matches any current representation."""
    if if_none_match.strip() == "*":
        return True
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return any(etag.removeprefix("W/") in wanted for etag in etags)


# uvicorn refreshes the Date header it sends once a second (its main loop's tick), so it may lag the
# clock by up to a second or so.
_DATE_LAG = timedelta(seconds=2)


def served_last_modified(last_modified: datetime) -> datetime:
    """The Last-Modified a document is served with: its newest item's date, but never after the
    response's Date. With `include_future` that date may be a scheduled article's, and a Last-Modified
    later than Date is refused by RFC 9110 §8.8.2.1 (a client sending it back would be told "not
    modified" until that day)."""
    return min(last_modified, datetime.now(UTC) - _DATE_LAG)


def is_not_modified(request_headers: Mapping[str, str], etags: tuple[str, ...], last_modified: datetime) -> bool:
    """RFC 9110 §13.2.2 for GET and HEAD.

    1. If-None-Match present: 304 when it matches, whatever If-Modified-Since says.
    2. Otherwise If-Modified-Since: 304 when the resource is not newer (one-second precision).
    """
    get = request_headers.get
    if_none_match = get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etags)
    if_modified_since = get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
            if since.tzinfo is None:
                return False
            return int(served_last_modified(last_modified).timestamp()) <= int(since.timestamp())
        except (TypeError, ValueError, IndexError, OverflowError):
            # An unusable date (year 99999999999 overflows) is ignored (§13.1.3): a full answer.
            return False
    return False


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when `gzip` (or `*`) is acceptable with a non-zero quality."""
    if not accept_encoding:
        return False
    star = False
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        coding = coding.strip()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            star = q > 0
    return star


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)
