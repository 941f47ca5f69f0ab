"""The article folder: every file read, every bad file reported, one bad file never hides the others."""

from __future__ import annotations

import codecs
import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from feedpub.reading.article_file import ParsedFile
from feedpub.reading.folder import Folder
from feedpub.reading.library import Duplicate, Library
from feedpub.settings import Settings
from feedpub.stores.keys import StoreKeys
from tests.helpers import SEEDS, all_articles, article_at, article_text, library_of, parsed, sample_fields, survey

PARSE_KEY = StoreKeys(Settings()).parses()

WriteArticle = Callable[..., Path]


@pytest.fixture
def folder(tmp_path: Path, write_article: WriteArticle) -> Path:
    """The article folder with two good articles, 001.txt and 002.txt, beside whatever a test adds."""
    write_article("001.txt", **sample_fields(1))
    write_article("002.txt", **sample_fields(2))
    return tmp_path / "articles"


def titles(library: Library) -> set[str]:
    return {article.title for article in all_articles(library)}


def load(folder: Path, **options: int) -> Library:
    library = library_of(folder, **options)
    library.load()
    return library


def assert_others_still_read(library: Library) -> None:
    assert {"Headline number 1", "Headline number 2"} <= titles(library)
    assert {"001.txt", "002.txt"} <= library.good.keys()


# -- bad input: each reported with its reason, the others still read ------------------------------

GOOD = article_text(**sample_fields(9))
PYTHON_TAG = "---\ntitle: !!python/object/apply:os.system ['touch {marker}']\nwebUrl: https://example.com/x\n---\n"

BAD_FILES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "empty file"),
    ("whitespace only", b" \n\r\n\t\n", "empty file"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "binary file"),
    ("latin-1, not UTF-8", GOOD.replace("Headline", "Caf\u00e9").encode("latin-1"), "not UTF-8: invalid byte 0xe9"),
    ("no front matter", b"Just a body, no fields.\n", "no front matter"),
    ("front matter not first", b"\n\n" + GOOD.encode(), "no front matter"),
    ("unterminated front matter", GOOD.rsplit("---", 1)[0].encode(), "unterminated front matter"),
    ("front matter is a list", b"---\n- title\n- webUrl\n---\n", "front matter is a list"),
    ("front matter is a scalar", b"---\njust some words\n---\n", "front matter is a string"),
    ("empty front matter", b"---\n---\nbody\n", "empty front matter"),
    ("invalid YAML", b"---\ntitle: [unclosed\nwebUrl: https://example.com/x\n---\n", "invalid YAML at line"),
    ("tab indentation", b"---\nprovider:\n\tname: x\n---\n", "invalid YAML at line 3"),
    ("deep nesting", b"---\ntopics: " + b"[" * 10_000 + b"]" * 10_000 + b"\n---\n", "nest"),
    ("deep nesting as the whole front matter", b"---\n" + b"[" * 10_000 + b"]" * 10_000 + b"\n---\n", "nest"),
    ("a value YAML cannot build", GOOD.replace("quality: 50", "quality: !!int fifty").encode(), "invalid YAML"),
]


@pytest.mark.parametrize("content, why", [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_is_reported_with_its_reason_and_the_others_are_still_read(
    folder: Path, write_article: WriteArticle, content: bytes, why: str
) -> None:
    write_article("bad.txt", content)
    library = load(folder)
    assert why in library.bad["bad.txt"]
    assert "bad.txt" not in library.good
    assert_others_still_read(library)


def test_yaml_tags_that_construct_objects_are_refused_and_never_run(
    folder: Path, write_article: WriteArticle, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    write_article("bad.txt", PYTHON_TAG.format(marker=marker))
    library = load(folder)
    assert "python/object/apply:os.system" in library.bad["bad.txt"]
    assert not marker.exists()
    assert_others_still_read(library)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_decoded_and_accepted(folder: Path, write_article: WriteArticle, codec: str) -> None:
    text = article_text(**sample_fields(3, title="Café ☕ au lait"))
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(codec, b"")
    write_article("utf16.txt", bom + text.encode(codec))
    library = load(folder)
    assert library.bad == {}
    assert "Café ☕ au lait" in titles(library)


def test_utf16_without_a_byte_order_mark_is_reported_not_guessed(folder: Path, write_article: WriteArticle) -> None:
    write_article("utf16.txt", GOOD.encode("utf-16-le"))
    library = load(folder)
    assert "binary file" in library.bad["utf16.txt"]
    assert_others_still_read(library)


def test_an_alias_bomb_is_handled_quickly_and_without_a_memory_blow_up(folder: Path, write_article: WriteArticle) -> None:
    laughs = ['lol0: &lol0 "lol"'] + [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 9)}]" for i in range(1, 10)]
    for name, n, field in (("bomb.txt", 3, "topics"), ("bomb-published.txt", 4, "published")):
        fields = article_text(**sample_fields(n, topics=None))
        write_article(name, fields.replace("---\n", "---\n" + "\n".join(laughs) + f"\n{field}: *lol9\n", 1))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        library = load(folder)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 5  # ~0.1 s (under tracemalloc); expanding 9⁹ values would take hours
    assert peak < 20 * 1024 * 1024
    # Both are bad files, named with the reason; the other articles are read as ever.
    assert all("billion laughs" in library.bad[name] for name in ("bomb.txt", "bomb-published.txt"))
    assert "bomb.txt" not in library.good
    assert_others_still_read(library)


def test_a_file_over_the_size_limit_is_skipped_without_being_read(folder: Path, write_article: WriteArticle) -> None:
    huge = write_article("huge.txt", GOOD)
    os.truncate(huge, 64 * 1024 * 1024)  # sparse: 64 MB on paper, nothing on disk
    tracemalloc.start()
    try:
        library = load(folder, max_bytes=4096)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert library.bad["huge.txt"] == "file is 67,108,864 bytes, over the 4,096-byte limit"
    assert peak < 4 * 1024 * 1024  # reading it whole would have taken 64 MB
    assert_others_still_read(library)


def test_a_file_exactly_at_the_size_limit_is_read(folder: Path, write_article: WriteArticle) -> None:
    path = write_article("exact.txt", GOOD)
    library = load(folder, max_bytes=path.stat().st_size)
    assert "exact.txt" in library.good


@pytest.mark.parametrize(
    "fields, why",
    [
        ({"title": "   "}, "title"),
        ({"published": "maybe"}, "published must be true or false, not other text"),
        ({"publishedDateTime": "0000-01-01"}, "out of range"),
        ({"publishedDateTime": None}, "no publishedDateTime"),
        ({"webUrl": "javascript:alert(1)", "originalUrl": "/story/3"}, "no absolute http(s) URL"),
    ],
)
def test_an_unusable_article_is_reported_and_the_others_are_still_read(
    folder: Path, write_article: WriteArticle, fields: dict[str, object], why: str
) -> None:
    write_article("bad.txt", **sample_fields(3, **fields))
    library = load(folder)
    assert why in library.bad["bad.txt"]
    assert_others_still_read(library)


# -- formats and layout --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.replace("\n", "\r\n").encode(),
        lambda text: codecs.BOM_UTF8 + text.encode(),
        lambda text: codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode(),
    ],
    ids=["CRLF", "UTF-8 BOM", "BOM and CRLF"],
)
def test_crlf_line_endings_and_a_utf8_bom_work(folder: Path, write_article: WriteArticle, encode: Callable[[str], bytes]) -> None:
    write_article("windows.txt", encode(article_text(**sample_fields(3, title="Ünïcode from Windows"))))
    library = load(folder)
    assert library.bad == {}
    article = parsed(library, "windows.txt")
    assert article.title == "Ünïcode from Windows"
    assert article.url == "https://news0.example.com/story/3"  # no stray \r in a value


def test_jekyll_style_nested_folders_and_a_markdown_body_are_read(folder: Path, write_article: WriteArticle) -> None:
    body = "\nSome **markdown** body.\n\n---\n\nA rule above, and `title: not this` below.\n"
    write_article("_news/2021-05-07-some-title.md", article_text(**sample_fields(3, title="From Jekyll")) + body)
    write_article("_news/2021/05/deeper.md", **sample_fields(4))
    library = load(folder)
    assert library.bad == {}
    assert parsed(library, "_news/2021-05-07-some-title.md").title == "From Jekyll"
    assert "_news/2021/05/deeper.md" in library.good


def test_hidden_files_and_folders_and_other_suffixes_are_ignored(folder: Path, write_article: WriteArticle) -> None:
    for name in (".draft.txt", ".git/HEAD.txt", "_news/.#lock.md", ".obsidian/x/y.md", "notes.html", "image.jpg"):
        write_article(name, **sample_fields(7))
    library = load(folder)
    assert sorted(library.good) == ["001.txt", "002.txt"]
    assert library.bad == {}
    assert library.load([".draft.txt"]) == set() and ".draft.txt" not in library.good


def test_a_symlink_to_a_file_outside_the_folder_is_not_followed(folder: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(article_text(**sample_fields(5, title="Secret outside")), encoding="utf-8")
    (folder / "link.txt").symlink_to(outside)
    library = load(folder)
    assert "symlink" in library.bad["link.txt"]
    assert "Secret outside" not in titles(library)
    assert_others_still_read(library)


def test_a_file_in_a_symlinked_folder_outside_is_not_read_even_when_named(folder: Path, tmp_path: Path) -> None:
    # The live server hands over changed paths itself: naming one must not reach outside either.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.txt").write_text(article_text(**sample_fields(5, title="Secret outside")), encoding="utf-8")
    (folder / "linked").symlink_to(elsewhere, target_is_directory=True)
    library = load(folder)
    library.load(["linked/x.txt"])
    assert "Secret outside" not in titles(library)
    assert "symlink" in library.bad["linked/x.txt"]


def test_one_batch_tells_each_file_apart_whatever_its_neighbours_are(folder: Path, tmp_path: Path) -> None:
    # The reader learns where each folder really is once per batch: a link next to plain files, a
    # folder linked from outside next to a folder linked from inside, and a root that is a link.
    (tmp_path / "outside.txt").write_text(article_text(**sample_fields(5, title="Secret outside")), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.txt").write_text(article_text(**sample_fields(6, title="Secret folder")), encoding="utf-8")
    (folder / "news").mkdir()
    (folder / "news" / "n.txt").write_text(article_text(**sample_fields(8, title="Inside news")), encoding="utf-8")
    (folder / "news" / "out.txt").symlink_to(tmp_path / "outside.txt")
    (folder / "linked").symlink_to(elsewhere, target_is_directory=True)
    (folder / "same").symlink_to(folder / "news", target_is_directory=True)
    (tmp_path / "root-link").symlink_to(folder, target_is_directory=True)
    for root in (folder, tmp_path / "root-link"):
        read = Folder(root).reader()
        outcomes = {rel: read(rel) for rel in ("news/n.txt", "news/out.txt", "linked/x.txt", "same/n.txt",
                                               "001.txt", "missing.txt", "news")}
        assert isinstance(outcomes["news/n.txt"], ParsedFile) and isinstance(outcomes["same/n.txt"], ParsedFile)
        assert isinstance(outcomes["001.txt"], ParsedFile)
        assert "symlink" in str(outcomes["news/out.txt"]) and "symlink" in str(outcomes["linked/x.txt"])
        assert outcomes["missing.txt"] is None and outcomes["news"] is None


def test_a_symlink_within_the_folder_is_read(folder: Path) -> None:
    (folder / "alias.txt").symlink_to(folder / "001.txt")
    library = load(folder)
    assert "alias.txt" in library.good and library.bad == {}


@pytest.mark.parametrize("rel", ["../outside.txt", "/etc/hosts.txt", "a/../../outside.txt"])
def test_a_path_outside_the_folder_is_never_read(folder: Path, tmp_path: Path, rel: str) -> None:
    (tmp_path / "outside.txt").write_text(article_text(**sample_fields(5, title="Secret outside")), encoding="utf-8")
    library = load(folder)
    assert library.load([rel]) == set()
    assert "Secret outside" not in titles(library) and rel not in library.good


# -- duplicates ----------------------------------------------------------------------------------

URL = "https://news.example.com/story/same"


def test_the_same_url_in_two_files_is_one_article_and_the_newer_version_wins(folder: Path, write_article: WriteArticle) -> None:
    write_article("a.txt", **sample_fields(5, webUrl=URL, title="Old version", publishedDateTime="2026-01-01T00:00:00Z"))
    write_article("b.txt", **sample_fields(6, webUrl=URL, title="New version", publishedDateTime="2026-01-02T00:00:00Z"))
    library = load(folder)
    same = [article for article in all_articles(library) if article.url == URL]
    assert [article.title for article in same] == ["New version"]
    assert library.duplicates() == [Duplicate(URL, kept="b.txt", dropped=("a.txt",))]


def test_duplicates_with_the_same_date_are_decided_by_path_order(folder: Path, write_article: WriteArticle) -> None:
    for name, title in (("b/z.txt", "Second"), ("a.txt", "First"), ("c.txt", "Third")):
        write_article(name, **sample_fields(5, webUrl=URL, title=title))
    library = load(folder)
    first = article_at(library, URL)
    assert first is not None and first.title == "First"
    assert library.duplicates() == [Duplicate(URL, kept="a.txt", dropped=("b/z.txt", "c.txt"))]


def test_an_original_url_only_file_duplicates_a_web_url_file(folder: Path, write_article: WriteArticle) -> None:
    write_article("a.txt", **sample_fields(5, webUrl=URL, originalUrl="https://elsewhere.example/a"))
    write_article("b.txt", **sample_fields(5, webUrl=None, originalUrl=URL))
    assert [d.url for d in load(folder).duplicates()] == [URL]


def test_when_the_winning_duplicate_is_deleted_the_other_takes_over(folder: Path, write_article: WriteArticle) -> None:
    write_article("a.txt", **sample_fields(5, webUrl=URL, title="Older", publishedDateTime="2026-01-01T00:00:00Z"))
    newer = write_article("b.txt", **sample_fields(6, webUrl=URL, title="Newer", publishedDateTime="2026-01-02T00:00:00Z"))
    library = load(folder)
    newer.unlink()
    assert library.load(["b.txt"]) == {URL}
    older = article_at(library, URL)
    assert older is not None and older.title == "Older"
    assert library.duplicates() == []


# -- changes over time ---------------------------------------------------------------------------


def test_a_file_that_breaks_keeps_its_last_good_article_and_is_listed_as_bad(folder: Path, write_article: WriteArticle) -> None:
    path = write_article("live.txt", **sample_fields(3, title="Good version"))
    library = load(folder)
    path.write_text(article_text(**sample_fields(3, title="Half written"))[:40], encoding="utf-8")  # mid-copy
    assert library.load(["live.txt"]) == set()
    assert "unterminated front matter" in library.bad["live.txt"]
    assert "Good version" in titles(library)
    assert "Half written" not in titles(library)

    path.write_text(article_text(**sample_fields(3, title="Fixed version")), encoding="utf-8")
    assert library.load(["live.txt"]) == {"https://news0.example.com/story/3"}
    assert "live.txt" not in library.bad
    assert "Fixed version" in titles(library) and "Good version" not in titles(library)


def test_a_deleted_file_s_article_disappears(folder: Path) -> None:
    library = load(folder)
    (folder / "001.txt").unlink()
    assert library.load(["001.txt"]) == {"https://news1.example.com/story/1"}
    assert titles(library) == {"Headline number 2"}
    assert "001.txt" not in library.good and "001.txt" not in library.bad


def test_a_deleted_bad_file_is_no_longer_reported(folder: Path, write_article: WriteArticle) -> None:
    bad = write_article("bad.txt", b"")
    library = load(folder)
    bad.unlink()
    library.load(["bad.txt"])
    assert library.bad == {}


def test_a_draft_is_kept_as_a_draft_and_an_article_without_published_is_published(
        folder: Path, write_article: WriteArticle) -> None:
    write_article("draft.txt", **sample_fields(3, published=False))
    library = load(folder)
    assert parsed(library, "draft.txt").draft is True
    assert parsed(library, "001.txt").draft is False


# -- secured -------------------------------------------------------------------------------------


def test_the_secured_blob_is_stored_nowhere_in_the_library(folder: Path, write_article: WriteArticle) -> None:
    write_article("bad.txt", **sample_fields(3, published="maybe"))
    library = load(folder)
    everything = repr(library.good) + repr(library.bad) + repr(list(all_articles(library))) + repr(library.duplicates())
    assert "SECRET-BLOB" not in everything
    assert "Headline number 1" in everything  # the check looks at real content


def test_stale_names_exactly_the_files_changed_since_they_were_read(articles: Path, tmp_path: Path) -> None:
    """A resumed build reads again only what `stale` names (see tests/test_resume.py): it must name
    every file changed, added or gone since the library read it, and none that is as it was read."""
    from feedpub.stores.parse_cache import ParseCache

    hour_ago = time.time() - 3600
    for path in articles.glob("*.txt"):
        os.utime(path, (hour_ago, hour_ago))
    library = library_of(articles, cache=ParseCache(tmp_path / "parsed.sqlite3", key=PARSE_KEY))
    library.load()
    (articles / "bad.txt").write_text("---\n- a list\n---\n")
    os.utime(articles / "bad.txt", (hour_ago, hour_ago))
    library.load(["bad.txt"])
    assert library.stale(survey(library)) == set()
    (articles / "004.txt").unlink()
    os.utime(articles / "001.txt", ns=(1, 1))
    os.chmod(articles / "002.txt", 0o600)  # ctime only: a chmod can make an unreadable file readable
    (articles / "new.txt").write_text(article_text(**sample_fields(9)))
    assert library.stale(survey(library)) == {"001.txt", "002.txt", "004.txt", "new.txt"}
    library.load(["001.txt", "002.txt", "004.txt", "new.txt"])
    assert library.stale(survey(library)) == {"new.txt"}  # read within its racy second: never trusted


def test_parsing_across_processes_gives_what_one_process_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    import feedpub.reading.parallel

    serial = library_of(SEEDS)
    serial.load()
    monkeypatch.setattr(feedpub.reading.parallel, "PARALLEL_MIN", 1)
    parallel = library_of(SEEDS, jobs=2)
    parallel.load()
    assert parallel.loader.parsed_last == serial.loader.parsed_last == len(serial.good) + len(serial.bad)
    assert parallel.bad == serial.bad
    assert {rel: parsed(parallel, rel) for rel in parallel.good} == {rel: parsed(serial, rel) for rel in serial.good}


def test_the_work_given_to_do_meanwhile_runs_once_the_workers_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """`meanwhile` (an export's imports) runs after the workers are forked and have every chunk,
    before any result is taken; once, and not at all without workers. The results are whole."""
    import multiprocessing

    import feedpub.reading.parallel

    serial = library_of(SEEDS)
    ran: list[int] = []
    serial.load(meanwhile=lambda: ran.append(len(multiprocessing.active_children())))
    assert ran == []  # parsed here: nothing runs beside it
    monkeypatch.setattr(feedpub.reading.parallel, "PARALLEL_MIN", 1)
    parallel = library_of(SEEDS, jobs=2)
    taken: list[str] = []
    real_entry = feedpub.reading.parallel.Parsed.entry

    def entry(self: feedpub.reading.parallel.Parsed, shared: object) -> object:
        taken.append(self.rel)
        return real_entry(self, shared)  # type: ignore[arg-type]

    monkeypatch.setattr(feedpub.reading.parallel.Parsed, "entry", entry)
    seen: list[tuple[int, int]] = []
    parallel.load(meanwhile=lambda: seen.append((len(taken), len(multiprocessing.active_children()))))
    assert seen == [(0, 2)]  # once, with both workers forked, before a result was taken
    assert {rel: parsed(parallel, rel) for rel in parallel.good} == {rel: parsed(serial, rel) for rel in serial.good}


def test_a_survey_made_in_a_forked_process_equals_one_made_here(articles: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    (articles / "sub").mkdir()
    (articles / "sub" / "deep.md").write_text(article_text(**sample_fields(8)))
    folder = library_of(articles).loader.folder
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # pytest may run threads; the fork is safe here
    parent = os.getpid()
    forks = []
    fork = os.fork
    def counted_fork() -> int:
        forks.append(1)
        return fork()

    monkeypatch.setattr(os, "fork", counted_fork)
    surveyed = folder.survey_behind()
    assert surveyed() == folder.survey()
    assert forks  # the survey above came from a child
    assert "sub/deep.md" in folder.survey()

    def fails_in_the_child() -> dict:
        if os.getpid() != parent:
            raise OSError("the child could not walk the folder")
        return Folder.survey(folder)

    monkeypatch.setattr(folder, "survey", fails_in_the_child)
    assert folder.survey_behind()() == Folder.survey(folder)  # the parent surveys instead

    def no_fork() -> int:
        raise OSError("fork: resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert folder.survey_behind()() == Folder.survey(folder)
