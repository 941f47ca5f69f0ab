"""Where an export writes: the folder `--out` names, found without importing the writer (export.py).

An unchanged export stops after comparing its inputs with the record of the folder in place; that
check names the folder, and importing export.py for it (the renderers, the deploy plan) was a
sixth of an unchanged export's time at 100,000 files.
"""

from __future__ import annotations

import os
from pathlib import Path


def export_folder(out: Path) -> Path:
    """The folder an export to `out` writes: absolute, through the real path of its parent. A
    symlink to a folder is followed, except an earlier feedpub's link into `.DIR.feedpub/`, which
    is the export itself (and is converted)."""
    out = Path(os.path.abspath(out))
    out = Path(os.path.realpath(out.parent)) / out.name
    if out.is_symlink() and legacy_generation(out) is None and out.is_dir():
        return Path(os.path.realpath(out))
    return out


def legacy_store(out: Path) -> Path:
    return out.parent / f".{out.name}.feedpub"


def legacy_generation(out: Path) -> Path | None:
    """The generation folder an earlier feedpub's symlink at `out` points to, if it is one."""
    if not out.is_symlink():
        return None
    target = Path(os.path.realpath(out))
    store = Path(os.path.realpath(legacy_store(out)))
    return target if target.parent == store and target.is_dir() else None
