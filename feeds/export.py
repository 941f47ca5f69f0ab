"""Writing a site to a folder: a plain folder, replaced in one step, incrementally and deterministically.

`--out DIR` is an ordinary folder that holds the site and nothing else (`git add DIR`, `tar`,
`cp -r` and `docker COPY` see the files). A few files that hosts read and feedpub never writes are
kept as they are when present: `CNAME` and `.nojekyll` (GitHub Pages) and `.git` (DIR may be a
checkout of a Pages branch). Everything else in DIR is feedpub's: a file it did not write is
removed by the next export.

An export writes the new tree into a staging folder on DIR's filesystem (hard links need one
filesystem): inside the cache folder when that is on the same filesystem as DIR, else beside DIR
as `.DIR.feedpub-<random>`. Every unchanged file is a hard link to DIR's (the same inode, so its
mtime, and with it a web server's ETag and Last-Modified, stays); only new and changed files are
written. Then the staging folder and DIR are exchanged in one `renameat2(RENAME_EXCHANGE)`
(`exchange.py`) and the old tree, now in the staging place, is removed. A reader sees the whole old
tree or the whole new one at DIR; a failure, a full disk or a kill -9 at any moment leaves the
previous tree there whole, and whatever a killed run left in its staging place is removed by the
next run. Files are not fsynced: after a power loss, run the export again.

Where the exchange is not available (not Linux, a C library without renameat2, a filesystem that
refuses it), each new or changed file is moved into DIR with a rename of its own, archives and
deeper documents first and the index pages last, and then stale files are removed: every file is
always whole, but a reader during the export may meet old files beside new ones
(`ExportResult.atomic` is False, and `feedpub export` says so).

What DIR holds and was made from is recorded in the cache folder (`stores/export_record.py`), never
beside it; without a cache (`--no-cache`) an export compares bytes instead and writes the same
tree. Exports into one folder take turns: each holds an flock on DIR's parent folder, which needs
no file of its own.

An export made by an earlier feedpub (DIR a symlink into `.DIR.feedpub/gen-*`) is converted in
place: the new tree, linked from the old generation, is exchanged with the symlink and the old
store removed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import shutil
import stat
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from .deploy.plan import upload_rank
from .exchange import ExchangeUnsupported, exchange
from .export_target import export_folder, legacy_generation, legacy_store
from .export_writers import BATCH, DocumentWriters, Job, write_new
from .render.paths import CATALOG
from .render.site import Document, LazyOutput, Site
from .stores.export_record import Entry, ExportRecord, tree_of

# Top-level names that feedpub never writes and keeps when present.
KEPT = frozenset({"CNAME", ".nojekyll", ".git"})
STAGING = "staging-"  # prefix of a staging folder inside the cache folder's record


class ExportError(RuntimeError):
    """The export could not be written; the previous one is intact."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    files: int
    written: int
    removed: int
    changed: bool  # whether a new tree was put in place
    changed_paths: frozenset[str] = frozenset()  # paths written anew: new, or their bytes changed
    previous: bool = False  # DIR held an export before (a first export announces nothing)
    atomic: bool = True  # False: files were replaced one by one (no exchange on this system)


def export_site(site: Site, out: Path, *, cache_dir: Path | None = None, jobs: int = 1) -> ExportResult:
    """Put `site` in place at `out`; `cache_dir` (feedpub's cache folder) keeps the records that
    spare unchanged files a comparison of their bytes. With `jobs` > 1, that many processes write
    the archive documents when there are many (`export_writers`)."""
    out = export_folder(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with _locked(out.parent):
            record = ExportRecord.of(cache_dir, out) if cache_dir is not None else None
            return _Export(site, out, record, jobs=jobs).run()
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        raise ExportError(f"cannot write the export to {out}: {error.strerror or error}{where}") from None


@contextlib.contextmanager
def _locked(parent: Path) -> Iterator[None]:
    """One export into a folder at a time: two overlapping runs (cron) would undo each other's work.
    The lock is on the parent folder, which outlives every exchange of DIR and needs no lock file."""
    handle = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


class _CrossDevice(Exception):
    """The staging folder turned out not to be on DIR's filesystem (two mounts of one device)."""


WRITERS = 2  # threads that make and write documents (see `_Export._fill`)
# A path, its write (a thread's, or a worker's batch) and its place in the batch.
_Pending = tuple[str, "Future[tuple[int, int]] | Future[list[tuple[int, int] | None]]", "int | None"]
_IN_FLIGHT = 8  # documents made or being written at once: bounds the bodies held in memory


@dataclass(slots=True)
class _Filled:
    """What writing the staging tree found."""

    entries: dict[str, Entry] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)
    stale: set[str] = field(default_factory=set)  # files of the previous tree that are not in the site


class _Export:
    def __init__(self, site: Site, out: Path, record: ExportRecord | None, *, jobs: int = 1) -> None:
        self.site = site
        self.out = out
        self.record = record
        self.jobs = jobs

    def run(self) -> ExportResult:
        out = self.out
        legacy = legacy_generation(out)
        if out.is_symlink() and legacy is None:
            raise ExportError(f"{out} is a symlink to nothing; remove it or choose another --out")
        if out.exists() and not out.is_dir():
            raise ExportError(f"{out} is a file, not a folder; remove it or choose another --out")
        self._sweep(legacy)
        source = legacy or (out if out.is_dir() else None)
        manifest = None
        if self.record is not None and legacy is None and source is not None:
            manifest = self.record.manifest(tree_of(out))
        if source is not None and legacy is None and manifest is None:
            _check_ours(out)
        previous = source is not None and (manifest is not None or _is_catalog(source / CATALOG))
        if manifest is not None and self._unchanged(manifest):
            return ExportResult(files=len(self.site), written=0, removed=0, changed=False, previous=True)

        for beside in (False, True):
            stage = self._staging(beside)
            try:
                filled = self._fill(stage, source, manifest)
                if source is not None and legacy is None and not filled.written and not filled.stale:
                    # Compared byte for byte, DIR already holds this site: leave it be.
                    _remove(stage)
                    if self.record is not None and (tree := tree_of(out)) is not None:
                        self.record.write_manifest(tree, filled.entries)
                    return ExportResult(files=len(self.site), written=0, removed=0, changed=False, previous=previous)
                if self.record is not None:
                    self.record.forget()
                atomic = self._put_in_place(stage, source, legacy, filled)
            except _CrossDevice:
                _remove(stage)
                continue
            except BaseException:
                _remove(stage)
                raise
            break
        else:  # pragma: no cover - beside DIR is always DIR's filesystem
            raise ExportError(f"cannot stage the export beside {out} on its filesystem")

        if self.record is not None and (tree := tree_of(out)) is not None:
            self.record.write_manifest(tree, filled.entries)
        _remove(stage)  # the old tree, after an exchange
        if legacy is not None:
            _remove(legacy_store(out))
        return ExportResult(files=len(self.site), written=len(filled.written), removed=len(filled.stale),
                            changed=True, changed_paths=frozenset(filled.written), previous=previous, atomic=atomic)

    # -- before ------------------------------------------------------------------------------------

    def _sweep(self, legacy: Path | None) -> None:
        """Remove what killed runs left in their staging places (and an old store once converted)."""
        prefix = f".{self.out.name}.feedpub-"
        for entry in os.scandir(self.out.parent):
            if entry.name.startswith(prefix):
                _remove(Path(entry.path))
        if legacy is None:
            _remove(legacy_store(self.out))
        if self.record is not None and self.record.folder.is_dir():
            for entry in os.scandir(self.record.folder):
                if entry.name.startswith(STAGING):
                    _remove(Path(entry.path))

    def _unchanged(self, manifest: dict[str, Entry]) -> bool:
        """Whether DIR holds exactly this site, as the manifest recorded it (no file edited, added
        or removed by hand since)."""
        if set(manifest) != set(self.site):
            return False
        for path, output in self.site.items():
            if manifest[path][0] != output.etag or _stamp(self.out / path) != manifest[path][1:]:
                return False
        return _files(self.out) == set(manifest)

    def _staging(self, beside: bool) -> Path:
        """A new, empty staging folder on DIR's filesystem: in the cache folder when it is on it."""
        name = secrets.token_hex(6)
        if self.record is not None and not beside:
            self.record.folder.mkdir(parents=True, exist_ok=True)
            if os.stat(self.record.folder).st_dev == os.stat(self.out.parent).st_dev:
                stage = self.record.folder / f"{STAGING}{name}"
                stage.mkdir()
                return stage
        stage = self.out.parent / f".{self.out.name}.feedpub-{name}"
        stage.mkdir()
        return stage

    # -- the new tree -------------------------------------------------------------------------------

    def _fill(self, stage: Path, source: Path | None, manifest: dict[str, Entry] | None) -> _Filled:
        """Write the site into `stage`, hard-linking what `source` (the tree in place) already holds.

        Documents are made and written by `WRITERS` threads, at most `_IN_FLIGHT` at a time: making an
        archive document (reading its items back from the fragment store) and writing it (time in
        the kernel) both let go of the GIL, so one document is written while the next is made. The
        record keeps the site's order whatever order the threads finish in."""
        filled = _Filled()
        # The archive documents likely to be written: with a record, those whose ETag changed (an
        # edit of one file forks no workers); without one, an existing tree's are made to be compared.
        stored = [output.stored for path, output in self.site.items()
                  if isinstance(output, LazyOutput) and output.stored is not None
                  and (manifest is None or (entry := manifest.get(path)) is None or entry[0] != output.etag)]
        comparing = source is not None and manifest is None
        writers: DocumentWriters | None = None
        try:
            if self.jobs > 1 and not comparing:
                writers = DocumentWriters.for_site(stored, self.jobs, self.site)
            with ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="feedpub-write") as pool:
                pending: deque[_Pending] = deque()
                try:
                    self._fill_with(pool, writers, pending, filled, stage, source, manifest)
                    while pending:
                        self._finish(pending, filled, stage)
                finally:
                    for _, future, _ in pending:
                        future.cancel()
        except BaseException as error:
            if writers is not None:
                writers.close(cancel=True)
            if isinstance(error, BrokenProcessPool):  # at a submit or a result
                raise ExportError("a process writing the export's documents died (out of memory?); "
                                  "the previous export is as it was") from error
            raise
        if writers is not None:
            writers.close()
        if source is not None:
            filled.stale = _files(source) - set(self.site)
            for name in sorted(KEPT):
                if os.path.lexists(source / name):
                    _carry(source / name, stage / name)
        return filled

    def _finish(self, pending: deque[_Pending], filled: _Filled, stage: Path) -> None:
        path, future, index = pending.popleft()
        # The etag was put in its place by `_fill_with`; a failed write raises here, as it did inline.
        result = future.result()
        stamp = result[index] if index is not None else result
        if stamp is None:  # a worker could not make it (a fragment it has no place for): made here
            stamp = _write(stage / path, self.site[path])
        assert isinstance(stamp, tuple)
        filled.entries[path] = (filled.entries[path][0], *stamp)

    def _fill_with(self, pool: ThreadPoolExecutor, writers: DocumentWriters | None, pending: deque[_Pending],
                   filled: _Filled, stage: Path, source: Path | None, manifest: dict[str, Entry] | None) -> None:
        made: set[Path] = set()
        batch: list[tuple[str, Job]] = []
        # Bodies in flight are bounded; the workers' documents are not in this process at all.
        in_flight = _IN_FLIGHT if writers is None else _IN_FLIGHT + BATCH * 3 * self.jobs

        def send() -> None:
            future = writers.submit([job for _, job in batch]) if writers is not None else None
            assert future is not None
            pending.extend((path, future, index) for index, (path, _) in enumerate(batch))
            batch.clear()

        # An ETag is only kept in the record's manifest, and an archive document's is a digest of what it
        # is made of (~17,000 of them at 100k with archives), so none is taken without a record.
        tagged = self.record is not None
        for path, output in self.site.items():
            etag = output.etag if tagged else ""
            target = stage / path
            if target.parent not in made:  # thousands of archive documents share a few folders
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            body: bytes | None = None
            if source is not None:
                old = source / path
                if manifest is not None:
                    entry = manifest.get(path)
                    same = entry is not None and entry[0] == etag and _stamp(old) == entry[1:] and (
                        isinstance(output, LazyOutput) or entry[1] == len(output.body))
                else:
                    body = output.body  # no record: compare the bytes themselves
                    same = _holds(old, body)
                if same and (linked := _link(old, target)) is not None:
                    filled.entries[path] = (etag, *linked)
                    continue
            filled.entries[path] = (etag, 0, 0)  # its place in the record's order; filled in by _finish
            filled.written.add(path)
            if (body is None and writers is not None and isinstance(output, LazyOutput) and output.stored is not None
                    and (job := writers.job(target, path, output.stored)) is not None):
                batch.append((path, job))
                if len(batch) >= BATCH:
                    send()
            else:
                pending.append((path, pool.submit(_write, target, output if body is None else body), None))
            while len(pending) >= in_flight:
                self._finish(pending, filled, stage)
        if batch:
            send()

    # -- in place ------------------------------------------------------------------------------------

    def _put_in_place(self, stage: Path, source: Path | None, legacy: Path | None, filled: _Filled) -> bool:
        """Make the staged tree the one at DIR; True when that took one atomic step."""
        out = self.out
        try:
            if source is None:
                os.rename(stage, out)  # nothing there: the whole tree appears at once
                return True
            with contextlib.suppress(OSError):  # the folder keeps the permissions it was given
                os.chmod(stage, stat.S_IMODE(os.stat(source).st_mode))
            try:
                exchange(stage, out)
                return True
            except ExchangeUnsupported:
                pass
            if legacy is not None:
                # No exchange: the symlink has to go before a folder can take its name.
                os.unlink(out)
                os.rename(stage, out)
                return False
            _replace_each(stage, out, filled)
            return False
        except OSError as error:
            if error.errno == errno.EXDEV:
                raise _CrossDevice from None
            raise


def _replace_each(stage: Path, out: Path, filled: _Filled) -> None:
    """The fallback: move each new or changed file into DIR with a rename of its own, in the order
    that never links a missing file (archives, then feeds, then the index documents), then remove
    the stale files and the folders they leave empty."""
    for path in sorted(filled.written, key=lambda p: (upload_rank(p), p)):
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / path, out / path)
    for path in sorted(filled.stale):
        (out / path).unlink(missing_ok=True)
    folders = []
    for folder, names, _ in os.walk(out):
        if folder == str(out):
            names[:] = [name for name in names if name not in KEPT]
        else:
            folders.append(folder)
    for folder in sorted(folders, key=lambda name: -name.count(os.sep)):  # deepest first
        if not os.listdir(folder):
            os.rmdir(folder)


# -- files ----------------------------------------------------------------------------------------------


def _stamp(path: Path) -> tuple[int, int] | None:
    """(size, mtime_ns) of a regular file, else None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _holds(path: Path, body: bytes) -> bool:
    """Whether the regular file at `path` holds exactly `body`."""
    stamp = _stamp(path)
    if stamp is None or stamp[0] != len(body):
        return False
    try:
        return path.read_bytes() == body
    except OSError:
        return False


def _link(old: Path, target: Path) -> tuple[int, int] | None:
    """Hard-link `old` at `target`; (size, mtime_ns) of the file, or None when it must be written."""
    try:
        os.link(old, target, follow_symlinks=False)
    except OSError as error:
        if error.errno == errno.EXDEV:
            raise _CrossDevice from None
        if error.errno not in (errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        # A filesystem without hard links (or at its limit): a copy keeps at least the mtime.
        shutil.copy2(old, target, follow_symlinks=False)
    return _stamp(target)


def _write(target: Path, what: Document | bytes) -> tuple[int, int]:
    return write_new(target, [what] if isinstance(what, bytes) else what.parts())


def _files(root: Path) -> set[str]:
    """Every file (and symlink) under `root`, as site paths; the kept names are left out."""
    found: set[str] = set()
    for folder, folders, names in os.walk(root):
        relative = os.path.relpath(folder, root)
        if relative == ".":
            folders[:] = [name for name in folders if name not in KEPT]
            names = [name for name in names if name not in KEPT]
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        found.update(prefix + name for name in names)
        found.update(prefix + name for name in folders if os.path.islink(os.path.join(folder, name)))
    return found


def _carry(source: Path, target: Path) -> None:
    """Bring a kept file or folder into the new tree as it is: folders made again, files hard-linked."""
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    elif source.is_dir():
        target.mkdir()
        with contextlib.suppress(OSError):
            shutil.copystat(source, target)
        for entry in os.scandir(source):
            _carry(Path(entry.path), target / entry.name)
    else:
        _link(source, target)


def _is_catalog(path: Path) -> bool:
    """Whether `path` is a catalog feedpub wrote (`feeds/index.json`): what marks a feedpub export."""
    try:
        if path.stat().st_size > 256 << 20:
            return False
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and isinstance(document.get("feeds"), list) and "home_page_url" in document


def _check_ours(out: Path) -> None:
    """Refuse a folder that is neither empty nor a feedpub export: it may hold someone's work."""
    foreign = sorted(name for name in os.listdir(out) if name not in KEPT)
    if foreign and not _is_catalog(out / CATALOG):
        shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
        raise ExportError(f"{out} is not empty and is not a feedpub export (it holds {shown}); "
                          "empty it, or choose another --out")


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        with contextlib.suppress(OSError):
            path.unlink()
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)
