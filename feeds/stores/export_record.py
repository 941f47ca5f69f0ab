"""The export's record of what it was made from, so a rerun with nothing changed stops after a walk.

The record holds a fingerprint of the inputs (each article file's stamp, under the export's key:
settings, code and library versions), the lines the export reported, and when the next scheduled
article is due. Equal fingerprints mean a new export would come out byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
from array import array
from pathlib import Path

from ..reading.folder import Folder

INPUTS = "inputs.json"


def fingerprint(folder: Folder, key: str) -> str:
    """A digest of everything an export is made from: each file's identity and the export's key."""
    survey = folder.survey()
    digest = hashlib.sha256(key.encode())
    digest.update(len(survey).to_bytes(8, "little"))  # where the paths end and the stamps begin
    digest.update("\0".join(survey).encode("utf-8", "surrogateescape"))  # paths have no NUL
    digest.update(array("q", [marked for marked, _ in survey.values()]).tobytes())  # a stamp is a 64-bit hash
    return digest.hexdigest()


def recorded_inputs(out: Path, store: Path) -> dict[str, object] | None:
    """What the export in place at `out` was made from (see `record_inputs`), if it is still in place."""
    try:
        record = json.loads((store / INPUTS).read_text("utf-8"))
        current = os.path.basename(os.readlink(out))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("generation") == current else None


def record_inputs(out: Path, store: Path, record: dict[str, object]) -> None:
    """Remember what the export in place at `out` was made from, so an unchanged rerun can stop early."""
    try:
        record = {**record, "generation": os.path.basename(os.readlink(out))}
        (store / INPUTS).write_text(json.dumps(record, sort_keys=True), "utf-8")
    except OSError:
        pass  # only an accelerator
