"""What a suite-wide audit found, kept in files so that worker processes forked from the session can
report it too (each process appends to a file of its own; tests/conftest.py fails the session on any)."""

from __future__ import annotations

import os
from pathlib import Path


class AuditLog:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def note(self, text: str) -> None:
        """Record a difference, from whichever process found it."""
        with open(self.folder / f"found-{os.getpid()}.txt", "a", encoding="utf-8") as out:
            out.write(text if text.endswith("\n") else text + "\n")

    def mismatches(self) -> list[str]:
        """Every difference any process recorded."""
        return [path.read_text(encoding="utf-8") for path in sorted(self.folder.glob("found-*.txt"))]
