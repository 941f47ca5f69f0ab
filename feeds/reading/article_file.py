"""Reading one article file: bytes → front matter → a clean `Article`, or a reason it is bad.

A file is bad (an `ArticleError` naming the reason) only when it cannot give an article a reader
could use: no front matter, invalid YAML, not a mapping, no title, no http(s) URL, no date.
Anything less (a missing image, a `quality` that is not a number) is a warning and the article
is still published.
"""

from __future__ import annotations

import codecs
import html
import math
import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, overload

import yaml

from ..catalog.topics import topic_key
from . import fast_article, fast_yaml
from .article import Article, Compact, Extras, Image, Picture, Provider, Related
from .dates import DateError, parse_date
from .fast_article import Built
from .text import NAME_LIMIT, SUMMARY_LIMIT, TITLE_LIMIT, clean_text, clean_url, domain_key, strip_forbidden, utf8_is_clean

MAX_FILE_BYTES = 1024 * 1024
MAX_TOPICS = 50
MAX_RELATED = 20

class _PyLoader(yaml.SafeLoader):
    """Safe YAML (no object-constructing tags) that leaves timestamps as strings.

    `dates.parse_date` then owns every date rule, and an out-of-range year such as `0000-01-01`
    is reported as a bad date instead of failing the whole file inside PyYAML.
    """


class _Loader(getattr(yaml, "CSafeLoader", _PyLoader)):  # type: ignore[misc]  # a base chosen at import time
    """The same rules on libyaml, when present: several times faster on a large folder."""


for _loader in (_PyLoader, _Loader):
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _loader.construct_yaml_str)

# libyaml refuses `\ud800`-style escapes (and so the surrogate pairs JSON writers emit for emoji)
# where PyYAML's own loader accepts them; `text.strip_forbidden` then joins pairs and drops halves.
_LIBYAML_SURROGATE = "invalid Unicode character escape"

_FENCE = re.compile(r"^---[ \t]*\r?\n", re.ASCII)
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE | re.ASCII)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_IFRAME_SRC = re.compile(r"""<iframe\b[^>]*\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_QUOTED = re.compile(r"""\s*(?:'[^']*'|"[^"]*")""")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


_NO_EXTRAS = Extras()


class ArticleError(ValueError):
    """A file that gives no usable article; the message is the reason a user reads."""


class NotRegularFile(OSError):
    """A FIFO, device, socket or folder where an article file was: no article, and never waited on."""


# O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever. No controlling
# terminal from a tty, no descriptor leaked into a worker process.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CAN_REFUSE_LINKS = _NOFOLLOW != 0  # whether `read_article(..., follow=False)` can keep from following one


@dataclass(frozen=True, slots=True)
class ParsedFile(Compact):
    article: Article
    warnings: tuple[str, ...]


@overload
def read_article(path: Path | str, *, max_bytes: int = ..., name: str | None = ..., extras: bool = ...,
                 built: Literal[False] = ..., follow: bool = ...) -> ParsedFile: ...
@overload
def read_article(path: Path | str, *, max_bytes: int = ..., name: str | None = ..., extras: bool = ...,
                 built: bool, follow: bool = ...) -> ParsedFile | Built: ...
def read_article(path: Path | str, *, max_bytes: int = MAX_FILE_BYTES, name: str | None = None,
                 extras: bool = True, built: bool = False, follow: bool = True) -> ParsedFile | Built:
    """Read and parse one file; raises `ArticleError` (or `OSError`) with a reason, and
    `NotRegularFile` when what is at `path` now is not a regular file. Without `extras`, the fields
    only the JSON API shows are not read (see `parse_article`); with `built`, see there. Without
    `follow`, a symlink is not opened: `OSError` (ELOOP, on BSDs EMLINK)."""
    fd = os.open(path, _OPEN_FLAGS if follow else _OPEN_FLAGS | _NOFOLLOW)
    try:  # the descriptor itself, not a file object around it: ~3 µs of a file's ~90
        # What was opened, not what a check before found: the name may have been swapped meanwhile.
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"{path} is not a regular file")
        size = info.st_size
        if size > max_bytes:
            raise ArticleError(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
        # As many bytes as the file has (asking for the limit allocated 1 MiB per file), then
        # whatever it grew by meanwhile, up to just past the limit. Exactly its size in one read is the
        # whole file as it was when it was opened: no second read to find its end (~2 µs a file).
        data = os.read(fd, size + 1)
        if 0 < len(data) < size:  # a short read (FUSE, NFS): on to its end
            data += _read_up_to(fd, size + 1 - len(data))
        if len(data) > size:
            data += _read_up_to(fd, max_bytes + 1 - len(data))
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # grew while we read it
        raise ArticleError(f"file is over the {max_bytes:,}-byte limit")
    return parse_article(data, source=name if name is not None else str(path), extras=extras, built=built)


def _read_up_to(fd: int, wanted: int) -> bytes:
    """`wanted` bytes, or all there are before the end: a read may give fewer (FUSE, NFS)."""
    data = os.read(fd, wanted)
    while 0 < len(data) < wanted:
        more = os.read(fd, wanted - len(data))
        if not more:
            break
        data += more
    return data


@overload
def parse_article(data: bytes, *, source: str = ..., extras: bool = ..., built: Literal[False] = ...) -> ParsedFile: ...
@overload
def parse_article(data: bytes, *, source: str = ..., extras: bool = ..., built: bool) -> ParsedFile | Built: ...
def parse_article(data: bytes, *, source: str = "", extras: bool = True, built: bool = False) -> ParsedFile | Built:
    """One file's bytes as an article. `extras=False` leaves `Article.extras` empty: the thirteen
    fields only the seed site's JSON API shows (`everyday_api`, off by default) are then neither
    cleaned, packed nor digested, ~a fifth of a file's parse. Nothing they hold makes a file bad.

    With `built` (and without `extras`), a usual file comes as the C builder makes it (`Built`: its
    article's stored values and its warnings, for a worker to pack; `fast_article`), any other as a
    `ParsedFile`, both the same article."""
    # The file is checked as text (UTF-8, or UTF-16 with its mark) on either path: by the C accelerator
    # where it can say the bytes are what `decode` takes, without making a str that is not read.
    text = None if fast_yaml.plain_text(data) else decode(data)
    front = _accelerated_front_matter(data)
    if front is None:
        front = load_front_matter(text if text is not None else decode(data))
    if built and not extras:
        made = fast_article.build(front, source)
        if made is not None:
            return made
    return _article_from(front, source, extras=extras)


def _accelerated_front_matter(data: bytes) -> dict[str, Any] | None:
    """`load_front_matter(decode(data))` for the usual file, taken from its bytes: a UTF-8 file that
    opens with its fence and holds no character `strip_forbidden` would drop. Its front matter's
    bytes are then exactly what `load_front_matter` would encode for the C accelerator, so they go
    to it as they are: no scan of the text for forbidden characters (a regex over every
    character, ~8 µs a file), no copy to encode. None leaves the file to `load_front_matter`,
    which gives any error its reason; `data` must already have passed `decode` (or `plain_text`)."""
    if not data.startswith(b"---") or not fast_yaml.accelerated():
        return None
    source = fast_yaml.front_matter(data)  # between the fences, as `_FENCE` and `_closing` find them
    if source is None:
        return None
    # The quick path reads only bytes free of every character `utf8_is_clean` looks for (and of more:
    # tabs, CRs, line and paragraph separators): what it builds needs no second scan (~5.6 µs a file).
    front = fast_yaml.load_accelerated(source, _Loader, paths="quick")
    if front.__class__ is not dict:  # it builds only a mapping at the top, or gives up
        if not utf8_is_clean(source):
            return None
        front = fast_yaml.load_accelerated(source, _Loader, paths="libyaml")
    return front if front.__class__ is dict else None


def decode(data: bytes) -> str:
    if not data.strip():
        raise ArticleError("empty file")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ArticleError("starts with a UTF-16 byte order mark but is not UTF-16") from None
    if b"\x00" in data:
        raise ArticleError("binary file (contains NUL bytes), not a text article")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ArticleError(f"not UTF-8: invalid byte 0x{data[error.start]:02x} at offset {error.start}") from None


def load_front_matter(text: str) -> dict[str, Any]:
    text = text.lstrip("\ufeff")
    opening = _FENCE.match(text)
    if not opening:
        raise ArticleError("no front matter: the file must start with a '---' line")
    closing = _closing(text, opening.end())
    if not closing:
        raise ArticleError("unterminated front matter: no closing '---' line")
    # Control characters are invalid YAML but are only noise in a field: drop them, not the file.
    source = strip_forbidden(text[opening.end() : closing.start()])
    try:
        try:
            front = fast_yaml.load(source, _Loader, max_expanded=fast_yaml.MAX_EXPANDED)
        except yaml.YAMLError as error:
            if _LIBYAML_SURROGATE not in str(error):
                raise
            front = fast_yaml.load(source, _PyLoader, max_expanded=fast_yaml.MAX_EXPANDED)
    except fast_yaml.TooLarge as error:
        raise ArticleError(f"invalid YAML: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""  # +1 for 0-based, +1 for the fence
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        # PyYAML quotes what it found (`found undefined alias 'x'`): the kind of problem is enough.
        # A tag is named (it says what the file asked for), and so is the syntax it expected or found
        # (`did not find expected ',' or ']'`, `found character '\\t'`), no other quote.
        problem = _QUOTED.sub(lambda quote: quote.group(0) if _says_syntax(quote.group(0)) else "", problem).strip()
        raise ArticleError(f"invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise ArticleError("invalid YAML: nested too deeply") from None
    except Exception as error:
        # PyYAML's constructors raise bare ValueError, KeyError or IndexError on values such as
        # `!!int abc`, `!!bool maybe` or a 5,000-digit number: still this file's fault, not the build's.
        # The message would quote the value (a draft's title, the `secured` blob): name its kind only.
        raise ArticleError(f"invalid YAML: a tagged value cannot be read ({type(error).__name__})") from None
    if front is None:
        raise ArticleError("empty front matter")
    if not isinstance(front, dict):
        raise ArticleError(f"front matter is a {_kind(front)}, not a mapping of fields")
    return front


def _says_syntax(quote: str) -> bool:
    """Whether a quote in PyYAML's message names a tag or a piece of YAML's syntax (one punctuation
    character, or an escape such as `\\t`): never a value of the file."""
    inner = quote.strip()[1:-1]
    return "tag:" in inner or (len(inner) == 1 and not inner.isalnum()) or (len(inner) == 2 and inner[0] == "\\")


def _closing(text: str, start: int) -> re.Match[str] | None:
    """`_CLOSE.search(text, start)`: the first line from `start` on that closes the front matter. Only
    a line that starts with `---` or `...` can, so those are found with `str.find` and only they are
    tried (the regex tried every position of the front matter: ~9 µs a file). A `...` line is looked
    for only up to the next `---` one, which comes first in nearly every file: looking through the
    whole body for a `...` that is not there cost ~3 µs a file. A file's bytes are cut in C
    (`fast_yaml.front_matter`), to the same line."""
    close, dash, dot, line_dash, line_dot = _CLOSE, "---", "...", "\n---", "\n..."
    size = len(text)
    dashes = start - 1 if text.startswith(dash, start) else text.find(line_dash, start)
    dots = start - 1 if text.startswith(dot, start) else text.find(line_dot, start, size if dashes == -1 else dashes)
    while dashes != -1 or dots != -1:
        if dots != -1:  # only ever found before `dashes`
            found = close.match(text, dots + 1)
            if found:
                return found
            dots = text.find(line_dot, dots + 1, size if dashes == -1 else dashes)
            continue
        found = close.match(text, dashes + 1)
        if found:
            return found
        after = dashes + 1
        dashes = text.find(line_dash, after)
        dots = text.find(line_dot, after, size if dashes == -1 else dashes)
    return None


def _article_from(front: dict[str, Any], source: str, *, extras: bool = True) -> ParsedFile:
    warnings: list[str] = []
    title = clean_text(front.get("title"), limit=TITLE_LIMIT)
    if not title:
        raise ArticleError("no title" if front.get("title") in (None, "") else "title is empty or not text")
    url = _canonical_url(front)
    try:
        published = parse_date(front.get("publishedDateTime"))
    except DateError as error:
        raise ArticleError(str(error)) from None
    draft = _draft(front.get("published"))

    summary = clean_text(front.get("excerpt"), limit=SUMMARY_LIMIT)
    if not summary:
        warnings.append("empty excerpt")
    image = _image(front.get("images"))
    if image is None:
        warnings.append("no usable image")
    topics = _topics(front.get("topics"))
    if not topics:
        warnings.append("no topics")
    quality = _number(front, "quality", warnings)
    heat = _number(front, "heat", warnings)
    article = Article(
        url=url,
        title=title,
        summary=summary,
        published=published,
        provider=_provider(front.get("provider"), url),
        topics=topics,
        image=image,
        related=_related(front.get("related"), url),
        category=clean_text(front.get("category"), limit=NAME_LIMIT),
        kind=clean_text(front.get("type"), limit=NAME_LIMIT),
        quality=quality,
        heat=heat,
        draft=draft,
        source=source,
        extras=_extras(front) if extras else _NO_EXTRAS,
    )
    return ParsedFile(article, tuple(warnings))


def _extras(front: dict[str, Any]) -> Extras:
    """The fields only the JSON API shows: each cleaned as its kind is everywhere else."""
    provider = front.get("provider")
    provider = provider if isinstance(provider, dict) else {}
    return Extras(
        web_url=clean_url(front.get("webUrl")),
        original_url=clean_url(front.get("originalUrl")),
        source_url=clean_url(front.get("sourceUrl")),
        amp_url=clean_url(front.get("ampWebUrl")),
        cdn_amp_url=clean_url(front.get("cdnAmpWebUrl")),
        featured=_embed(front.get("featuredContent")),
        highlight=clean_text(front.get("highlight"), limit=SUMMARY_LIMIT) or None,
        tags=_names(front.get("tags")),
        images=_pictures(front.get("images")),
        updated=_when(front.get("updatedDateTime")),
        provider_images=_pictures(provider.get("images")),
        publishers=_names(provider.get("publishers")),
        authors=_names(provider.get("authors")),
    )


def _embed(value: object) -> str | None:
    """An embed as the https URL it shows (from an `<iframe src>` or a plain URL): never raw HTML."""
    if not isinstance(value, str):
        return None
    match = _IFRAME_SRC.search(value)
    src = html.unescape(match.group(1)).strip() if match else value.strip()
    url = clean_url("https:" + src if src.startswith("//") else src)
    return url if url is not None and url.startswith("https://") else None


def _names(value: object) -> tuple[str, ...] | None:
    """A list of plain names (strings, or mappings with a `name`), cleaned and de-duplicated."""
    if not isinstance(value, list):
        return None
    seen: dict[str, None] = {}
    for item in value[: MAX_TOPICS * 2]:
        raw = item.get("name") if isinstance(item, dict) else item
        if isinstance(raw, str):
            name = clean_text(raw, limit=NAME_LIMIT)
            if name:
                seen.setdefault(name, None)
    return tuple(seen)[:MAX_TOPICS]


def _pictures(value: object) -> tuple[Picture, ...] | None:
    if not isinstance(value, list):
        return None
    found = []
    for item in value[:20]:
        raw = item.get("url") if isinstance(item, dict) else item
        url = clean_url(raw)
        if not url:
            continue
        size = item if isinstance(item, dict) else {}
        cached = size.get("isCached")
        found.append(Picture(url, _dimension(size.get("width")), _dimension(size.get("height")),
                             clean_text(size.get("title"), limit=TITLE_LIMIT) or None,
                             clean_text(size.get("attribution"), limit=NAME_LIMIT) or None,
                             cached if isinstance(cached, bool) else None))
    return tuple(found)


def _when(value: object) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return parse_date(value)
    except DateError:
        return None


def _canonical_url(front: dict[str, Any]) -> str:
    for key in ("webUrl", "originalUrl"):
        url = clean_url(front.get(key))
        if url:
            return url
    # Video records may carry only an embed; a plain link to the video is all that survives.
    embed = front.get("featuredContent")
    if isinstance(embed, str):
        match = _IFRAME_SRC.search(embed)
        if match:
            # The src is an HTML attribute: `&amp;` in it means `&`, and embed snippets are often
            # protocol-relative (`//www.youtube.com/embed/…`); feeds are read over https.
            src = html.unescape(match.group(1)).strip()
            url = clean_url("https:" + src if src.startswith("//") else src)
            if url:
                return url
    # Name the fields, not their values: a draft's URL must not reach a log.
    given = [key for key in ("webUrl", "originalUrl") if front.get(key) not in (None, "")]
    if given:
        raise ArticleError(f"no absolute http(s) URL: {' and '.join(given)} {'is' if len(given) == 1 else 'are'} not usable")
    raise ArticleError("no URL: webUrl and originalUrl are missing")


def _draft(value: object) -> bool:
    # Anything we cannot read as yes or no is refused: guessing could publish a draft.
    if value is None or value is True:
        return False
    if value is False:
        return True
    # `published: 0` is as clear as `published: "0"`.
    word = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if word in _TRUE | _FALSE:
        return word in _FALSE
    raise ArticleError(f"published must be true or false, not {_kind_of(value)}")


def _provider(value: object, url: str) -> Provider:
    name, domain = "", None
    if isinstance(value, dict):
        name = clean_text(value.get("name"), limit=NAME_LIMIT)
        domain = domain_key(value.get("domain"))
    elif isinstance(value, str):
        name = clean_text(value, limit=NAME_LIMIT)
    domain = domain or domain_key(url) or "unknown"
    return Provider(name=name or domain, domain=domain)


def _topics(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    # Spellings of one topic (`AI`, `ai`, `A I`: `topic_key`) are one feed, and so one category of
    # the item too, named as the article first spells it: listed twice, a reader showed both.
    seen: dict[str, str] = {}
    for item in items[: MAX_TOPICS * 2]:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            continue
        # A topic is a plain name, printed as RSS <category> and Atom term where markup is not
        # read: `<b>AI</b>` from a CMS template means "AI", and a tag left in would show as text
        # (and make validators warn). A lone `<` (`a < b`) is not a tag and stays.
        name = " ".join(_TAG.sub(" ", clean_text(str(item), limit=NAME_LIMIT)).split())
        if name:
            seen.setdefault(topic_key(name), name)
    return tuple(seen.values())[:MAX_TOPICS]


def _image(value: object) -> Image | None:
    items = [value] if isinstance(value, (dict, str)) else value if isinstance(value, list) else []
    for item in items[:20]:
        raw = item.get("url") if isinstance(item, dict) else item
        url = clean_url(raw)
        if url:
            size = item if isinstance(item, dict) else {}
            return Image(url, _dimension(size.get("width")), _dimension(size.get("height")))
    return None


def _dimension(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100_000 else None


def _related(value: object, own_url: str) -> tuple[Related, ...]:
    if not isinstance(value, list):
        return ()
    found: dict[str, Related] = {}
    for item in value[: MAX_RELATED * 5]:
        if not isinstance(item, dict):
            continue
        title = clean_text(item.get("title"), limit=TITLE_LIMIT)
        url = clean_url(item.get("webUrl")) or clean_url(item.get("originalUrl"))
        if not title or not url or url == own_url or url in found:
            continue
        provider = item.get("provider")
        name = ""
        if isinstance(provider, dict):
            name = clean_text(provider.get("name"), limit=NAME_LIMIT) or domain_key(provider.get("domain")) or ""
        try:
            when = parse_date(item.get("publishedDateTime"))
        except DateError:
            when = None
        found[url] = Related(title=title, url=url, provider=name, published=when)
        if len(found) == MAX_RELATED:
            break
    return tuple(found.values())


def _number(front: dict[str, Any], key: str, warnings: list[str]) -> float | None:
    value = front.get(key)
    if value is None or value == "":
        return None
    try:
        # Only scalars: `str()` of a list could be an alias bomb expanded into gigabytes of text.
        number = float(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else math.nan
    except (ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number):
        warnings.append(f"{key} is not a number ({_kind_of(value)})")
        return None
    return number


def _kind_of(value: object) -> str:
    """What a value is, for a message, never what it says: a draft's words must not reach a log."""
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "other text"
    if isinstance(value, float) and not math.isfinite(value):
        return "not a finite number"
    return f"a {_kind(value)}"


def _kind(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )
