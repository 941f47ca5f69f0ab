"""Fixtures: small article folders written into tmp_path, and a private cache for every test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings

from tests.helpers import article_text, sample_fields
from tests.reading.article_checks import ArticleAudit
from tests.reading.yaml_checks import Audit
from tests.render.item_checks import FrameAudit, ItemAudit

AuditT = TypeVar("AuditT", Audit, ItemAudit, FrameAudit, ArticleAudit)

pytest_plugins = ["tests.deploy.s3_server"]  # the session's SeaweedFS S3 server, for the deploy tests

# Property tests judge what code gives, never how long one example takes: Hypothesis' default 200 ms
# deadline fails an example a busy 2-core CI machine paused, and its own "ci" profile is only chosen
# when a CI variable is set. Examples stay random (a fixed database is not kept between runs).
settings.register_profile("feedpub", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("feedpub")


@pytest.fixture(scope="session", autouse=True)
def yaml_accelerator_audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audit]:
    """Every front matter the C YAML accelerator builds during the whole suite, in this process and
    in the worker processes it forks, is checked against PyYAML; one difference fails the session."""
    yield from _audited(Audit(tmp_path_factory.mktemp("yaml-audit")), "the YAML accelerator and PyYAML differ")


@pytest.fixture(scope="session", autouse=True)
def item_writer_audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ItemAudit]:
    """Every item rendered during the whole suite, here and in forked workers, is compared with its
    reference (feedgen's for RSS and Atom, the Python writer's for what the C writer writes of JSON Feed
    and the feed pages); one difference fails the session."""
    yield from _audited(ItemAudit(tmp_path_factory.mktemp("item-audit")), "the item writers and their references differ")


@pytest.fixture(scope="session", autouse=True)
def frame_audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrameAudit]:
    """Every RSS and Atom frame made during the whole suite (filled into a template, frames.py), here
    and in forked workers, is compared with feedgen's; one difference fails the session."""
    yield from _audited(FrameAudit(tmp_path_factory.mktemp("frame-audit")), "the templated frames and feedgen's differ")


@pytest.fixture(scope="session", autouse=True)
def article_builder_audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArticleAudit]:
    """Every front matter the Python path makes an article of during the whole suite, here and in
    forked workers, is built by the C article builder too; one difference fails the session."""
    yield from _audited(ArticleAudit(tmp_path_factory.mktemp("article-audit")),
                        "the C article builder and the Python path differ")


def _audited(audit: AuditT, differ: str) -> Iterator[AuditT]:
    """The body of a session audit: installed for the session, then every difference it saw fails it."""
    audit.install()
    yield audit
    audit.uninstall()
    differences = audit.mismatches()
    assert not differences, f"{differ}:\n" + "\n".join(differences)


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
