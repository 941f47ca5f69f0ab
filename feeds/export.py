"""Writing a site to a folder: atomic, incremental and deterministic.

`--out DIR` is a symlink to a generation folder kept beside it (`.DIR.feedpub/gen-*`). A new
export is written as a new generation in which every unchanged file is a hard link to the
previous generation's (same inode, so its mtime stays), then the symlink is swapped with one
rename. A reader (nginx, rsync, a CDN upload) sees the old tree or the new one, never a mix, and
a failure or a kill half-way leaves the previous export untouched; the next run sweeps the debris.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .render.site import Document, LazyOutput, Site
from .stores.export_record import INPUTS

MANIFEST = "manifest.json"


class ExportError(RuntimeError):
    """The export could not be written; the previous one is intact."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    files: int
    written: int
    removed: int
    changed: bool


def store_of(out: Path) -> Path:
    return out.parent / f".{out.name}.feedpub"


def export_site(site: Site, out: Path) -> ExportResult:
    out = Path(os.path.abspath(out))
    store = store_of(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        store.mkdir(exist_ok=True)
        with _locked(store):
            return _export(site, out, store)
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        raise ExportError(f"cannot write the export to {out}: {error.strerror or error}{where}") from None


@contextmanager
def _locked(store: Path) -> Iterator[None]:
    """One export of a folder at a time: two overlapping runs (cron) would sweep each other's work."""
    with open(store / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _export(site: Site, out: Path, store: Path) -> ExportResult:
    current = _current_generation(out, store)
    manifest = _read_manifest(store, current)
    wanted = {path: output.etag for path, output in site.items()}
    if current is not None and manifest == wanted:
        _sweep(store, keep=(current,))
        return ExportResult(files=len(site), written=0, removed=0, changed=False)
    generation = store / f"gen-{secrets.token_hex(6)}"
    generation.mkdir()
    try:
        written = _write_generation(site, generation, current, manifest)
        _write_json(store / f"{generation.name}.{MANIFEST}", wanted)
        _swap(out, store, generation)
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        (store / f"{generation.name}.{MANIFEST}").unlink(missing_ok=True)
        raise
    removed = len(set(manifest) - set(wanted)) if manifest else 0
    # The previous generation stays until the next export: a reader (rsync, an upload) that
    # started walking it before the swap can finish.
    _sweep(store, keep=(generation, current) if current is not None else (generation,))
    return ExportResult(files=len(site), written=written, removed=removed, changed=True)


def _current_generation(out: Path, store: Path) -> Path | None:
    if out.is_symlink():
        target = (out.parent / os.readlink(out)).resolve()
        return target if target.parent == store.resolve() and target.is_dir() else None
    if not out.exists():
        return None
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()  # an empty folder the user made for us: replace it with the symlink
        return None
    raise ExportError(f"{out} exists and is not a feedpub export; remove it or choose another --out")


def _read_manifest(store: Path, current: Path | None) -> dict[str, str]:
    if current is None:
        return {}
    try:
        data = json.loads((store / f"{current.name}.{MANIFEST}").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def exported_etags(out: Path) -> dict[str, str] | None:
    """Path → ETag of every file of the export in place, or None when there is none (WebSub: an
    export pings the hubs for the feeds whose bytes it changed)."""
    out = Path(os.path.abspath(out))
    store = store_of(out)
    try:
        current = _current_generation(out, store)
    except ExportError:
        return None
    return _read_manifest(store, current) if current is not None else None


def _write_generation(site: Site, generation: Path, current: Path | None, manifest: dict[str, str]) -> int:
    written = 0
    made: set[Path] = set()
    for path, output in site.items():
        target = generation / path
        if target.parent not in made:  # thousands of archive documents share a few folders
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        if current is not None and manifest.get(path) == output.etag and _same(current / path, output):
            try:
                os.link(current / path, target)
                continue
            except OSError:
                pass  # a filesystem without hard links: write the bytes instead
        with open(target, "xb") as handle:
            handle.write(output.body)
        written += 1
    return written


def _same(path: Path, output: Document) -> bool:
    """Is the file the previous export wrote for `output` still there as written? The manifest says
    its ETag matches; a size check catches a file someone edited by hand (a document made when asked
    for is not made just to be measured: its ETag says what it is made of)."""
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return isinstance(output, LazyOutput) or size == len(output.body)


def _write_json(path: Path, data: Mapping[str, object]) -> None:
    path.write_text(json.dumps(data, sort_keys=True), "utf-8")


def _swap(out: Path, store: Path, generation: Path) -> None:
    link = store / f"link-{secrets.token_hex(6)}"
    os.symlink(os.path.relpath(generation, out.parent), link)
    os.replace(link, out)  # the one atomic step


def _sweep(store: Path, *, keep: tuple[Path, ...]) -> None:
    """Remove older generations and anything a killed run left behind."""
    kept = {INPUTS, ".lock"} | {g.name for g in keep} | {f"{g.name}.{MANIFEST}" for g in keep}
    for entry in store.iterdir():
        if entry.name in kept:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
