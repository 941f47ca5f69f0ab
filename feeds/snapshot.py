"""The site as last published, kept beside the caches so a restart on an unchanged folder answers at once.

A snapshot is used only when its fingerprint (every file's identity, the settings and feedpub's
code: see `build.fingerprint`) equals the folder's now and no scheduled article has come due since
it was taken. The server then loads the folder behind it and publishes what the load gives: the
same bytes. The fingerprint is taken before the load reads any file, so a file that changes during
a load can only make the next start load in full, never serve a stale snapshot.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .build import Summary
from .site import Output

_VERSION = 1


@dataclass(frozen=True, slots=True)
class Snapshot:
    fingerprint: str
    site: dict[str, Output]
    summary: Summary
    next_due: datetime | None  # the next scheduled article's time: the snapshot is stale from then on


def read(path: Path, fingerprint: str, now: datetime) -> Snapshot | None:
    """The snapshot at `path` if it was taken of exactly this folder and is still current; else None."""
    try:
        with open(path, "rb") as handle:
            version, stored = pickle.load(handle)
    except Exception:  # missing, truncated, from another version: only an accelerator
        return None
    if version != _VERSION or not isinstance(stored, Snapshot) or stored.fingerprint != fingerprint:
        return None
    if stored.next_due is not None and stored.next_due <= now:
        return None
    return stored


def write(path: Path, snapshot: Snapshot) -> None:
    """Replace the snapshot atomically (a reader sees the old file or the new one); errors are ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".snapshot-")
        try:
            with os.fdopen(fd, "wb") as handle:
                # Streamed: pickling to bytes first would hold a second copy of every body.
                pickle.dump((_VERSION, snapshot), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError:
        pass
