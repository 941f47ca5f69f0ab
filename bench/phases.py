"""Where one `feedpub export` spends its time, phase by phase, in process.

    .venv/bin/python bench/phases.py export bench/corpus/n10000 --out /dev/shm/site --no-cache \\
        --base-url https://news.example.com [--config off.yaml]

Runs the command line in this process with timers around its stages (the survey, the read, the
catalogue, the render's plan, items and assembly, the writing) and prints, for each, its wall time,
this process's CPU (all its threads) and the CPU of the worker processes reaped during it. The parse
workers are reaped when the read ends, the render workers when `render_items` does, so their CPU
shows in those rows. One run is one sample: this machine is noisy, so compare runs of the old and the
new code alternately. The interpreter's start, the imports before `main` and the exit are outside
`total`: compare it with `/usr/bin/time` of the same command for those.
"""

from __future__ import annotations

import functools
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from feedpub import cli, export
from feedpub.catalog import catalog
from feedpub.reading import folder, library
from feedpub.render import site

Row = tuple[str, float, float, float]
ROWS: list[Row] = []


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(owner: Any, name: str, label: str) -> None:
    """Replace `owner.name` with a version that notes its wall time and CPU under `label`."""
    real: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(real)
    def timing(*args: Any, **kwargs: Any) -> Any:
        wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
        try:
            return real(*args, **kwargs)
        finally:
            ROWS.append((label, time.perf_counter() - wall, time.process_time() - cpu, _children_cpu() - children))

    setattr(owner, name, timing)


def main(argv: list[str]) -> None:
    timed(folder.Folder, "survey", "survey")
    timed(library.Library, "load", "read")
    timed(catalog.Catalog, "apply", "catalog")
    timed(site.SiteBuilder, "plan", "plan")
    timed(site.SiteBuilder, "render_items", "render_items")
    timed(site.SiteBuilder, "assemble", "assemble")
    timed(export, "export_site", "export_site")
    started = time.perf_counter()
    try:
        cli.main(argv, prog_name="feedpub")  # `main`, not the console script's `run`: this process prints below
    except SystemExit as end:
        if end.code not in (None, 0):
            raise
    finally:
        print(f"{'phase':<13} {'wall s':>7} {'cpu s':>7} {'workers s':>9}", file=sys.stderr)
        for label, wall, cpu, children in ROWS:
            print(f"{label:<13} {wall:7.3f} {cpu:7.3f} {children:9.3f}", file=sys.stderr)
        print(f"{'total':<13} {time.perf_counter() - started:7.3f}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
