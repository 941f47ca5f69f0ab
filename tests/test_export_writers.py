"""Archive documents written by worker processes from the fragment spool's file: the same bytes as the
export's own threads write, and a worker's failure is the export's failure, never a half-written site."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from feedpub import export_writers
from feedpub.build import Build
from feedpub.export import ExportError, export_site
from feedpub.render.outputs import LazyOutput
from feedpub.render.site import Site
from feedpub.settings import Settings
from feedpub.stores.fragment_spool import FragmentSpool
from tests.helpers import article_text, loaded, sample_fields

SETTINGS = Settings(base_url="https://news.example.com", archive_size=2, limit=2)
WITH_AND_WITHOUT_CACHE = pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """40 articles: with two items a document, a few dozen archive documents in each format."""
    articles = tmp_path / "articles"
    articles.mkdir()
    for n in range(40):
        (articles / f"{n:03d}.txt").write_text(article_text(**sample_fields(n)), encoding="utf-8")
    return articles


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Workers take any number of documents; the paths they were given, as the parent handed them out."""
    monkeypatch.setattr(export_writers, "MIN_DOCUMENTS", 1)
    given: list[str] = []
    job = export_writers.DocumentWriters.job

    def noted(self: export_writers.DocumentWriters, target: Path, path: str, document: object) -> object:
        found = job(self, target, path, document)  # type: ignore[arg-type]
        if found is not None:
            given.append(target.name)
        return found

    monkeypatch.setattr(export_writers.DocumentWriters, "job", noted)
    return given


def built(folder: Path, cache: Path | None) -> tuple[Build, Site]:
    build = Build(folder, SETTINGS, cache_dir=cache, write_behind=cache is not None)
    return build, loaded(build)


@WITH_AND_WITHOUT_CACHE
def test_workers_write_every_archive_document_byte_for_byte_as_the_threads_do(
        cached: bool, folder: Path, tmp_path: Path, counted: list[str]) -> None:
    build, site = built(folder, tmp_path / "cache" if cached else None)
    archives = [path for path, output in site.items() if isinstance(output, LazyOutput) and output.stored]
    assert len(archives) > 30
    export_site(site, tmp_path / "threads", jobs=1)
    assert counted == []
    export_site(site, tmp_path / "workers", jobs=2)
    assert sorted(counted) == sorted(Path(path).name for path in archives)  # every one went to a worker
    assert tree(tmp_path / "workers") == tree(tmp_path / "threads") == {path: o.body for path, o in site.items()}
    build.flush_fragments()


def test_a_worker_s_failed_write_fails_the_export_and_leaves_the_previous_one_whole(
        folder: Path, tmp_path: Path, counted: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    out, record = tmp_path / "site", tmp_path / "cache"  # with its record, unchanged documents are not made
    build, site = built(folder, None)
    export_site(site, out, cache_dir=record, jobs=2)
    before = tree(out)
    counted.clear()
    (folder / "039.txt").write_text(article_text(**sample_fields(39, title="New")), encoding="utf-8")  # archived
    build.load()

    def full(fd: int, places: list[int]) -> list[bytes]:
        raise OSError(errno.ENOSPC, "No space left on device")

    # Forked after this, the workers read with it; the parent never calls it.
    monkeypatch.setattr(export_writers, "read_places", full)
    with pytest.raises(ExportError, match="No space left on device"):
        export_site(build.site, out, cache_dir=record, jobs=2)
    assert counted and tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles", "cache", "site"]
    assert not any(p.name.startswith("staging-") for p in record.rglob("*"))  # nothing half-written left


def test_a_worker_that_dies_fails_the_export_with_a_clear_error(folder: Path, tmp_path: Path, counted: list[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _, site = built(folder, None)
    monkeypatch.setattr(export_writers, "read_places", lambda fd, places: os._exit(9))
    with pytest.raises(ExportError, match="a process writing the export's documents died"):
        export_site(site, tmp_path / "site", jobs=2)
    assert not (tmp_path / "site").exists()


def test_a_document_whose_fragments_moved_since_the_fork_is_made_in_the_parent(folder: Path) -> None:
    _, site = built(folder, None)
    path, document = next((path, o.stored) for path, o in site.items() if isinstance(o, LazyOutput) and o.stored)
    spool = export_writers.spool_of(document.renderer.store)
    assert isinstance(spool, FragmentSpool)
    writers = export_writers.DocumentWriters(spool, 2, site)
    try:
        assert writers.job(Path("/nowhere/x.rss"), path, document) is not None
        spool._failed(OSError(errno.EIO, "Input/output error"))  # the spool starts a new file
        assert writers.job(Path("/nowhere/x.rss"), path, document) is None
    finally:
        writers.close()


def test_an_export_that_rewrites_a_few_documents_forks_no_workers(folder: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With the export's record, only documents whose ETag changed count: an edited file's few archive
    documents are written by the parent's threads, not by workers forked from a 700 MB process."""
    monkeypatch.setattr(export_writers, "MIN_DOCUMENTS", 30)
    forks: list[int] = []
    start = export_writers.DocumentWriters.__init__

    def counted(self: export_writers.DocumentWriters, spool: FragmentSpool, jobs: int, site: Site) -> None:
        forks.append(jobs)
        start(self, spool, jobs, site)

    monkeypatch.setattr(export_writers.DocumentWriters, "__init__", counted)
    out, record = tmp_path / "site", tmp_path / "cache"
    build, site = built(folder, None)
    export_site(site, out, cache_dir=record, jobs=2)
    assert forks == [2]  # every archive document is new
    (folder / "039.txt").write_text(article_text(**sample_fields(39, title="New")), encoding="utf-8")
    build.load()
    result = export_site(build.site, out, cache_dir=record, jobs=2)
    assert forks == [2] and any("/archive/" in path for path in result.changed_paths)
    assert tree(out) == {path: output.body for path, output in build.site.items()}


def test_a_second_fork_refused_leaves_no_worker_behind(folder: Path, tmp_path: Path, counted: list[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The first worker forked, the second refused (a pids limit, no memory): the export fails with the
    reason, and the first worker is ended, not left on its queue for the interpreter's exit to join for
    ever (it hung there)."""
    import multiprocessing
    from concurrent.futures import process

    _, site = built(folder, None)
    spawn = process.ProcessPoolExecutor._spawn_process  # type: ignore[attr-defined]  # what forks a worker
    calls = {"n": 0}

    def refused(self: process.ProcessPoolExecutor) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
        spawn(self)

    monkeypatch.setattr(process.ProcessPoolExecutor, "_spawn_process", refused)
    with pytest.raises(ExportError, match="Resource temporarily unavailable"):
        export_site(site, tmp_path / "site", jobs=2)
    assert calls["n"] == 2 and multiprocessing.active_children() == []
    assert not (tmp_path / "site").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["articles"]


def test_a_document_with_a_fragment_the_workers_have_no_place_for_is_made_in_the_parent(
        folder: Path, tmp_path: Path, counted: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers find places in their copy of the spool's index, as it was at the fork: a fragment
    stored only after it (none is, in an export; a bug might) sends that document back to the parent."""
    _, site = built(folder, None)
    path, document = next((path, o.stored) for path, o in site.items() if isinstance(o, LazyOutput) and o.stored)
    spool = export_writers.spool_of(document.renderer.store)
    assert isinstance(spool, FragmentSpool)
    kind, name = document.renderer.fmt.name, document.entries[0].digest
    start = export_writers.DocumentWriters.__init__

    def forked_without_it(self: export_writers.DocumentWriters, spool: FragmentSpool, jobs: int, site: Site) -> None:
        where = spool._index[kind].pop(name)  # not there when the workers fork...
        try:
            start(self, spool, jobs, site)
        finally:
            spool._index[kind][name] = where  # ...and there again at once in the parent

    monkeypatch.setattr(export_writers.DocumentWriters, "__init__", forked_without_it)
    export_site(site, tmp_path / "site", jobs=2)
    assert Path(path).name in counted  # handed to a worker, which gave it back
    assert tree(tmp_path / "site") == {p: o.body for p, o in site.items()}
