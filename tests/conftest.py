"""Shared fixtures: small article folders written into tmp_path, and the bundled seeds."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
REFERENCE = SEEDS / "000_3f08816b81f43964.txt"

BASE_TIME = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)


def article_text(**fields: Any) -> str:
    """Front matter for an article; every value is written as JSON, which is valid YAML.

    A field given as None is left out entirely (use `yaml_null=True`-style raw text via
    `raw_article` when a literal `null` is wanted).
    """
    lines = ["---"]
    for key, value in fields.items():
        if value is None:
            continue
        lines.append(f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def sample_fields(n: int, **overrides: Any) -> dict[str, Any]:
    """A complete, valid article number `n`: distinct URL, descending dates (n=0 is newest)."""
    fields: dict[str, Any] = {
        "category": "news",
        "title": f"Headline number {n}",
        "excerpt": f"Summary of article {n}.",
        "publishedDateTime": (BASE_TIME - timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "originalUrl": f"https://news{n % 3}.example.com/story/{n}",
        "webUrl": f"https://news{n % 3}.example.com/story/{n}",
        "type": "article",
        "quality": 50,
        "heat": 1,
        "provider": {"name": f"News {n % 3}", "domain": f"news{n % 3}.example.com"},
        "topics": ["World", "Science"] if n % 2 else ["World"],
        "images": [{"url": f"https://img.example.com/{n}.jpg", "width": 800, "height": 600}],
        "secured": f"SECRET-BLOB-{n}",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def write_article(tmp_path: Path) -> Callable[..., Path]:
    """write_article(name, **fields) writes `tmp_path/articles/name` and returns its path."""
    folder = tmp_path / "articles"
    folder.mkdir(exist_ok=True)

    def write(name: str, text: str | bytes | None = None, **fields: Any) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            text = article_text(**fields)
        if isinstance(text, str):
            text = text.encode("utf-8")
        path.write_bytes(text)
        return path

    return write


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    """An article folder with 6 valid articles (numbers 0–5) across 3 providers and 2 topics."""
    folder = tmp_path / "articles"
    folder.mkdir(exist_ok=True)
    for n in range(6):
        (folder / f"{n:03d}.txt").write_text(article_text(**sample_fields(n)), encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's parse cache lives in its own folder, never in the user's ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
