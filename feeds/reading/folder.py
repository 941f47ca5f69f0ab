"""The article folder on disk: which files are articles, what each one's stat says, reading one safely.

Every article file is a relative path under the root (`news/a.md`). A file's `stamp` (its size,
mtime, inode and ctime as one number) tells a later run whether it may have changed; its
`Identity` (size, mtime, inode) keys its parse cache row.
"""

from __future__ import annotations

import marshal
import os
import stat as stat_module
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal, overload

from .. import accelerators
from ..workers import release_held_signals, signals_held
from .article_file import CAN_REFUSE_LINKS, MAX_FILE_BYTES, ArticleError, NotRegularFile, ParsedFile, read_article
from .fast_article import Built

SUFFIXES = (".txt", ".md")
CANNOT_READ = "cannot read:"

Identity = tuple[int, int, int]  # size, mtime_ns, inode
# Every article file under the root, in path order, with its `stamp` and `Identity`: what a full
# load reads, and what a resumed build compares its files with.
Survey = dict[str, tuple[int, Identity]]
Outcome = ParsedFile | str | None  # an article, the reason a file is bad, or no file at all

# Without it, the Python survey alone; a build left from another checkout could lay its rows out otherwise.
_survey, STALE_BUILD = accelerators.compiled(f"{__package__}._survey", 1)
BUILT = _survey is not None  # compiled, for this version (`feedpub --version` says)


class Folder:
    def __init__(self, root: Path, *, max_bytes: int = MAX_FILE_BYTES, extras: bool = True) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.extras = extras  # read the fields only the JSON API shows (`article_file.parse_article`)

    def scan(self) -> list[str]:
        """Every article file under the root, as sorted relative paths."""
        found: list[str] = []
        for prefix, names in self._walk():
            found += [prefix + name for name in names]
        found.sort()
        return found

    def has_articles(self) -> bool:
        """Whether any article file is under the root: the walk stops at the first folder with one
        (`scan` would read every folder, ~0.2 s at 100k files, to say what the first one says)."""
        return any(names for _, names in self._walk())

    def _walk(self) -> Iterator[tuple[str, list[str]]]:
        """Each folder under the root (hidden ones left out) as the prefix that makes its files' paths
        relative, and the names of its article files."""
        root = os.path.normpath(str(self.root))
        # What to cut from a folder's path to make it relative: the root and the separator after it
        # (a root of "/" or "//" already ends with one).
        cut = len(root) if root.endswith(os.sep) else len(root) + 1
        for folder, dirs, files in os.walk(root, followlinks=False):
            # Hidden folders and files are editors' and sync tools' scratch space, not articles.
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            prefix = "" if folder == root else folder[cut:].replace(os.sep, "/") + "/"
            # One comprehension per folder: a generator step per file is a tenth of a second at 100k.
            yield prefix, [name for name in files if name.endswith(SUFFIXES) and not name.startswith(".")]

    def survey(self) -> Survey:
        """Every article file under the root, in path order, with its stamp and identity: in C
        (`_survey.c`, ~2.5 µs a file against ~5) where it is built, else `survey_in_python`."""
        if _survey is None or not accelerators.enabled():
            return self.survey_in_python()
        found, ordered = _survey.survey(os.path.normpath(str(self.root)))  # the root `_walk` walks
        # In byte order, which is str order unless a name was not UTF-8 (surrogate escapes sort otherwise).
        return found if ordered else dict(sorted(found.items()))

    def survey_in_python(self) -> Survey:
        """`survey` as the straightforward path makes it: the walk, then os.stat of each file."""
        base = str(self.root)
        found = {}
        for rel in self.scan():
            try:
                info = os.stat(f"{base}/{rel}")
            except (OSError, ValueError):
                continue
            found[rel] = (stamp(info), identity_of(info))
        return found

    def not_read(self, known: set[str]) -> list[tuple[str, str]]:
        """(path, what it is) for each article name under the root that is not a file to read, and so
        was passed over without a word: a FIFO, socket or device (opening one could block for ever), or
        a symlink to nothing. `known`: the paths read (good or bad), which are not looked at again."""
        found = []
        for rel in self.scan():
            if rel in known:
                continue
            path = f"{self.root}/{rel}"
            try:
                info = os.lstat(path)
            except (OSError, ValueError):
                continue  # gone since: nothing to say
            what = _kind(info.st_mode)
            if stat_module.S_ISLNK(info.st_mode):
                try:
                    info = os.stat(path)
                except OSError:
                    try:
                        found.append((rel, f"a symlink to {os.readlink(path)!r}, which is not there"))
                    except OSError:
                        found.append((rel, "a symlink that cannot be followed"))
                    continue
                what = f"a symlink to {_kind(info.st_mode)}"
                if stat_module.S_ISREG(info.st_mode):
                    continue  # read, or reported as bad
            elif stat_module.S_ISREG(info.st_mode):
                continue  # a file read since, or vanished in between
            found.append((rel, what))
        return found

    def survey_behind(self) -> Callable[[], Survey]:
        """Start a `survey` in a forked process; the returned function waits for its result.

        For a start that has other work to do meanwhile (unpickling a saved state holds the GIL,
        so a thread would only take turns with it). Where there is no fork, or it fails, the
        function surveys in this process instead, as it does when this process runs other threads
        (one might hold a lock the child would wait for).
        """
        if threading.active_count() > 1:
            return self.survey
        try:
            read_end, write_end = os.pipe()
            with signals_held():
                child = os.fork()
        except (AttributeError, OSError):
            return self.survey
        if child == 0:  # the child: survey, send it back, and leave without any clean-up of the parent's
            code = 1
            try:
                release_held_signals()
                os.close(read_end)
                rows = [(rel, marked, *identity) for rel, (marked, identity) in self.survey().items()]
                with os.fdopen(write_end, "wb") as out:
                    out.write(marshal.dumps(rows))
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)

        def result() -> Survey:
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(child, 0)
            if status != 0 or not data:
                return self.survey()
            return {rel: (marked, (size, mtime, inode)) for rel, marked, size, mtime, inode in marshal.loads(data)}

        return result

    def stat(self, rel: str) -> os.stat_result | None:
        try:
            return os.stat(f"{self.root}/{rel}")
        except (OSError, ValueError):
            return None

    def read(self, rel: str) -> Outcome:
        """Read one file: its article, the reason it is bad, or None when there is no such file (or
        what is there is no regular file: a FIFO, a device, a folder). Never blocks: the check is made
        on what was opened (`read_article`), so a file swapped for a FIFO after `is_file` is no article."""
        return self.reader()(rel)

    @overload
    def reader(self, *, built: Literal[False] = ...) -> Callable[[str], Outcome]: ...
    @overload
    def reader(self, *, built: bool) -> Callable[[str], Outcome | Built]: ...
    def reader(self, *, built: bool = False) -> Callable[[str], Outcome | Built]:
        """`read` for one batch of files: where their folders really are is found once per folder
        (a worker's chunk of 250 files in one folder resolves the root and that folder once, not
        twice per file). A batch is read at once: a folder swapped for a link afterwards is seen
        by the next batch. With `built`, a usual file may come as `Built` (`parse_article`)."""
        base = str(self.root)
        real_root = os.path.realpath(base)
        folders: dict[str, bool] = {}  # filled by `inside`: whether each folder really is in the root
        quick = CAN_REFUSE_LINKS

        def inside(rel: str, path: str) -> bool | None:
            """Whether the file is in the folder, links followed; None when there is no regular file."""
            try:
                info = os.lstat(path)
            except (OSError, ValueError):
                return None
            if stat_module.S_ISLNK(info.st_mode):
                # A link: the file it leads to must be inside (and be a file).
                if not os.path.isfile(path):
                    return None
                return _under(os.path.realpath(path), real_root)
            if not stat_module.S_ISREG(info.st_mode):
                return None
            parent = rel.rpartition("/")[0]
            known = folders.get(parent)
            if known is None:
                # Any folder on the way may be a link: where the file's folder really is decides.
                known = folders[parent] = _under(os.path.realpath(f"{base}/{parent}") if parent else real_root,
                                                 real_root)
            return known

        def read(rel: str) -> Outcome | Built:
            if not is_candidate(rel):
                return None
            path = f"{base}/{rel}"
            if quick:
                parent = rel.rpartition("/")[0]
                known = folders.get(parent)
                if known:  # in a folder inside: opened without following a link, with no lstat first (~4 µs)
                    try:
                        return read_article(path, max_bytes=self.max_bytes, name=rel, extras=self.extras,
                                            built=built, follow=False)
                    except (FileNotFoundError, NotADirectoryError, NotRegularFile):
                        return None
                    except ArticleError as error:
                        return str(error)
                    except OSError:
                        pass  # a link (ELOOP), a socket (ENXIO), no permission: decided below, as before
            where = inside(rel, path)
            if where is None:
                return None
            try:
                if not where:
                    raise ArticleError("a symlink to outside the article folder; not followed")
                return read_article(path, max_bytes=self.max_bytes, name=rel, extras=self.extras, built=built)
            except (FileNotFoundError, NotADirectoryError, NotRegularFile):
                return None
            except (ArticleError, OSError) as error:
                return str(error) if isinstance(error, ArticleError) else f"{CANNOT_READ} {error.strerror or error}"

        return read


def _kind(mode: int) -> str:
    for test, name in ((stat_module.S_ISFIFO, "a FIFO"), (stat_module.S_ISSOCK, "a socket"),
                       (stat_module.S_ISCHR, "a character device"), (stat_module.S_ISBLK, "a block device"),
                       (stat_module.S_ISDIR, "a folder"), (stat_module.S_ISREG, "a file")):
        if test(mode):
            return name
    return "not a regular file"


def stamp(info: os.stat_result) -> int:
    """A file's size, mtime, inode and ctime as one number (ctime too: a chmod that makes an unreadable
    file readable changes nothing else). Hashes of ints are the same in every process."""
    return hash((info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns))


def identity_of(info: os.stat_result) -> Identity:
    return (info.st_size, info.st_mtime_ns, info.st_ino)


def is_candidate(rel: str) -> bool:
    """Could this relative path be an article file? Hidden parts include `..`; an absolute path is
    never inside the folder."""
    if not rel.endswith(SUFFIXES):
        return False
    if not rel.startswith((".", "/")) and "/." not in rel:
        return True  # no part can start with a dot: nearly every path, without building a Path
    parts = Path(rel).parts
    return not Path(rel).is_absolute() and not any(p.startswith(".") for p in parts)


def _under(real: str, real_root: str) -> bool:
    """Whether a resolved path is the resolved root or below it. Links are resolved, so a link from
    outside can never carry a file into the feeds (the live server hands over paths the walk never
    took)."""
    return real == real_root or real.startswith(real_root if real_root.endswith("/") else real_root + "/")
