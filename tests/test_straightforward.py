"""Every speed-up together gives the bytes of the straightforward path.

`feedpub export` as shipped (the C YAML accelerator, the direct item writers, the text fast paths,
the parse cache and fragment store, files parsed and items rendered in worker processes) against
the same command with all of that off (`FEEDPUB_ACCELERATORS=0`, `--no-cache`, `--jobs 1`): PyYAML's
loader, feedgen for every item, one process. Enough articles that both kinds of worker pool run;
archives and the JSON API on, so every renderer is involved. Cold and warm (from the caches).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from feedpub import accelerators
from feedpub.corpus import generate
from feedpub.reading.fast_yaml import accelerator
from feedpub.reading.parallel import PARALLEL_MIN
from feedpub.render.site import PARALLEL_RENDER_MIN

BASE = "https://news.example.com"


def export(articles: Path, out: Path, *options: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([sys.executable, "-m", "feedpub", "export", str(articles), "--out", str(out),
                             "--base-url", BASE, "--config", str(articles.parent / "feedpub.yaml"), *options],
                            capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr


def files(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_the_shipped_export_equals_the_straightforward_one_byte_for_byte(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    generate(articles, PARALLEL_MIN + 100, seed=11)
    # Dated back, so the parse cache keeps every file (a file written within the last second is not
    # trusted to it) and the cached export's render workers get the articles from the cache.
    past = time.time() - 5
    for path in articles.iterdir():
        os.utime(path, (past, past))
    (tmp_path / "feedpub.yaml").write_text("everyday_api: true\narchive_size: 200\n", encoding="utf-8")
    plain = tmp_path / "plain"
    export(articles, plain, "--no-cache", "--jobs", "1", env={accelerators.SWITCH: "0"})
    reference = files(plain)
    assert sum(path.startswith("feeds/archive/") for path in reference) > 100
    assert sum(path.startswith("api/") for path in reference) > 10
    assert PARALLEL_MIN + 100 > PARALLEL_RENDER_MIN  # so the render pool runs too
    if os.environ.get("FEEDPUB_REQUIRE_ACCELERATOR") == "1":
        assert accelerator() is not None

    shipped = tmp_path / "shipped"
    cache = tmp_path / "cache"
    export(articles, shipped, "--cache-dir", str(cache), "--jobs", "2")
    assert files(shipped) == reference
    export(articles, shipped, "--cache-dir", str(cache), "--jobs", "2")  # warm: from the caches
    assert files(shipped) == reference
    spooled = tmp_path / "spooled"  # no cache: the render workers write into the process's own spool
    export(articles, spooled, "--no-cache", "--jobs", "2")
    assert files(spooled) == reference
