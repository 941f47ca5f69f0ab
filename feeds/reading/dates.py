"""Publication dates as they arrive in front matter, turned into aware UTC datetimes.

The article loader keeps YAML timestamps as strings (see `article_file.py`), so every form —
`2020-11-12T20:49:00Z`, an offset, no zone, a bare date, an RFC 822 date from an old crawler —
is parsed here, in one place, with one rule: no zone means UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

# Feeds need four-digit years; anything outside is a typo, not a date.
MIN_YEAR = 1970
MAX_YEAR = 9999

_YEAR = re.compile(r"[+-]?(\d{1,9})-\d\d?-\d\d?(?:$|[Tt ])")
_YAML_SPACE = re.compile(r"^(\d{4}-\d\d?-\d\d?)(?:[Tt]|[ \t]+)(\d\d?:\d\d(?::\d\d(?:\.\d+)?)?)[ \t]*(.*)$")


class DateError(ValueError):
    """A value that is not a usable publication date."""


def parse_date(value: object) -> datetime:
    if isinstance(value, str) and (moment := _plain_utc(value)) is not None and MIN_YEAR <= moment.year <= MAX_YEAR:
        return moment  # aware, in UTC, to the second already: what the path below makes (after two more copies)
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time(0), UTC)
    elif isinstance(value, str):
        result = _parse_string(value.strip())
    elif value is None:
        raise DateError("no publishedDateTime")
    else:
        kind = {int: "number", float: "number", bool: "boolean", list: "list", dict: "mapping"}.get(type(value))
        raise DateError(f"publishedDateTime is a {kind or type(value).__name__}, not a date")
    if result.tzinfo is None or result.tzinfo.utcoffset(result) is None:
        result = result.replace(tzinfo=UTC)
    try:
        result = result.astimezone(UTC)
    except OverflowError:
        raise _out_of_range(value) from None
    if not MIN_YEAR <= result.year <= MAX_YEAR:
        raise _out_of_range(value)
    return result.replace(microsecond=0)


def _out_of_range(value: object) -> DateError:
    # Reasons name the field and the problem, never the value: they reach logs and /healthz.
    return DateError(f"publishedDateTime is out of range: the year must be {MIN_YEAR}–{MAX_YEAR}")


# The form nearly every article has (`2020-11-12T20:49:00Z`), which `fromisoformat` reads as it is.
_PLAIN_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _plain_utc(text: str) -> datetime | None:
    """A date in the usual form, or None: any other form, or a month 13 (the general path gives the reason)."""
    if _PLAIN_UTC.fullmatch(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    return None


def _parse_string(text: str) -> datetime:
    moment = _plain_utc(text)
    return moment if moment is not None else _parse_general(text)


def _parse_general(text: str) -> datetime:
    if not text:
        raise DateError("publishedDateTime is empty")
    # YAML allows `2020-11-12 20:49:00 +02:00` and one-digit months; ISO wants neither.
    match = _YAML_SPACE.match(text)
    if match:
        day, clock, zone = match.groups()
        y, m, d = day.split("-")
        clock = clock if len(clock.split(":")[0]) == 2 else "0" + clock
        zone = zone.strip()
        if zone in ("Z", "z"):
            zone = "+00:00"
        elif re.fullmatch(r"[+-]\d\d?", zone):
            zone = f"{zone[0]}{int(zone[1:]):02d}:00"
        text = f"{y}-{int(m):02d}-{int(d):02d}T{clock}{zone}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    # RFC 2822 dates are rare in front matter: `email.utils` (and with it socket, random, calendar
    # and email.charset, ~11 ms) is imported for the first one, not before every build.
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    # `0000-01-01` or `99999-01-01` fail to parse only because of the year: say so.
    year = _YEAR.match(text)
    if year and not MIN_YEAR <= int(year.group(1)) <= MAX_YEAR:
        raise _out_of_range(text)
    raise DateError("publishedDateTime is not a date (expected like 2026-01-15T12:00:00Z)")


def rfc3339(moment: datetime) -> str:
    """`2020-11-12T20:49:00Z`: the one form JSON Feed, Atom and the catalog all accept."""
    m = moment.astimezone(UTC)
    # Fields, not strftime: several times quicker, and the same text for the years feeds carry (1970–9999).
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"
