"""The export's records in the cache folder: what the tree in place holds, and what it was made from.

Nothing of this lives in or beside the export folder (`--out DIR`), which holds only the site. Each
export folder has a folder of its own in the cache, `<cache_dir>/export-<digest of DIR's path>/`:

- `manifest.json`: path → (ETag, size, mtime) of every file the tree in DIR holds, so the next
  export knows an unchanged file from its ETag alone (an archive document is not made just to be
  compared) and hard-links it into the new tree;
- `inputs.json`: a fingerprint of the inputs (each article file's stamp, under the export's key:
  settings, code and library versions), the lines the export reported, and when the next
  scheduled article is due, so a rerun with nothing changed stops after a folder walk;
- staging: the new tree while it is written, when the cache is on DIR's filesystem (`export.py`).

Both records name the tree they describe by the device and inode of DIR itself, which an export
changes every time it puts a new tree in place: a record of any other tree (DIR replaced by hand,
or a run killed between the swap and the record) is not used. They are accelerators: without them
an export compares the files' bytes instead, and writes the same tree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from array import array
from dataclasses import dataclass
from pathlib import Path

from ..reading.folder import Survey

INPUTS = "inputs.json"
MANIFEST = "manifest.json"

Tree = tuple[int, int]  # (st_dev, st_ino) of the export folder
Entry = tuple[str, int, int]  # (ETag, size, mtime_ns) of one file of the export


def fingerprint(survey: Survey, key: str) -> str:
    """A digest of everything an export is made from: each file's identity (the folder's `survey`)
    and the export's key."""
    digest = hashlib.sha256(key.encode())
    digest.update(len(survey).to_bytes(8, "little"))  # where the paths end and the stamps begin
    digest.update("\0".join(survey).encode("utf-8", "surrogateescape"))  # paths have no NUL
    digest.update(array("q", [marked for marked, _ in survey.values()]).tobytes())  # a stamp is a 64-bit hash
    return digest.hexdigest()


def tree_of(out: Path) -> Tree | None:
    """The identity of the tree at `out` (not following a symlink), or None when there is none."""
    try:
        st = os.lstat(out)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """The cache folder's records of one export folder."""

    folder: Path  # <cache_dir>/export-<digest>

    @classmethod
    def of(cls, cache_dir: Path, out: Path) -> ExportRecord:
        """The records of the export folder `out`, an absolute path (`export.export_folder`)."""
        name = hashlib.sha256(str(out).encode("utf-8", "surrogateescape")).hexdigest()[:20]
        return cls(cache_dir / f"export-{name}")

    # -- the manifest -------------------------------------------------------------------------

    def manifest(self, tree: Tree | None) -> dict[str, Entry] | None:
        """Path → entry of every file of `tree`, when the manifest describes that tree."""
        data = self._read(MANIFEST, tree)
        files = data.get("files") if data else None
        if not isinstance(files, dict):
            return None
        try:
            return {path: (str(etag), int(size), int(mtime)) for path, (etag, size, mtime) in files.items()}
        except (TypeError, ValueError):
            return None

    def write_manifest(self, tree: Tree, files: dict[str, Entry]) -> None:
        self._write(MANIFEST, {"tree": list(tree), "files": files})

    def forget(self) -> None:
        """Before the tree in place changes: drop both records, so that neither can ever describe
        another tree than it names (inode numbers are reused once a tree is removed)."""
        for name in (MANIFEST, INPUTS):
            try:
                (self.folder / name).unlink(missing_ok=True)
            except OSError:
                pass

    # -- the inputs -----------------------------------------------------------------------------

    def inputs(self, out: Path) -> dict[str, object] | None:
        """What the export in place at `out` was made from (see `record_inputs`), if it is still in place."""
        return self._read(INPUTS, tree_of(out))

    def record_inputs(self, out: Path, record: dict[str, object]) -> None:
        """Remember what the export in place at `out` was made from, so an unchanged rerun can stop early."""
        tree = tree_of(out)
        if tree is not None:
            self._write(INPUTS, {**record, "tree": list(tree)})

    # -- files ------------------------------------------------------------------------------------

    def _read(self, name: str, tree: Tree | None) -> dict[str, object] | None:
        if tree is None:
            return None
        try:
            data = json.loads((self.folder / name).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("tree") == list(tree) else None

    def _write(self, name: str, data: dict[str, object]) -> None:
        staged = self.folder / f".{name}.{secrets.token_hex(4)}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            staged.write_text(json.dumps(data, sort_keys=True), "utf-8")
            os.replace(staged, self.folder / name)  # a reader finds the old record or the new one
        except OSError:  # only an accelerator: the next export compares bytes instead
            with contextlib.suppress(OSError):
                staged.unlink(missing_ok=True)
