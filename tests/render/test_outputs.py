"""`Output`: a document held as its bytes, or as the buffers they are joined from when first asked for."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from feedpub.build import Build
from feedpub.export import export_site
from feedpub.render.outputs import Output, make_output
from feedpub.settings import Settings
from tests.helpers import article_text, loaded, sample_fields

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_document_of_parts_is_the_same_document_as_its_joined_bytes() -> None:
    parts: list[bytes | memoryview] = [b"<rss>", memoryview(b"<item>a</item>"), b"<item>b</item>", b"</rss>"]
    whole = make_output(b"".join(parts), "application/rss+xml", WHEN)
    made = make_output(list(parts), "application/rss+xml", WHEN)
    assert made.parts() == parts  # not joined to be written out
    assert made.body == whole.body == b"<rss><item>a</item><item>b</item></rss>"
    assert made.etag == whole.etag
    assert made == whole and hash(made) == hash(whole)
    assert made.media_type == whole.media_type == "application/rss+xml; charset=utf-8"
    assert made.parts() == [whole.body]  # once joined, the body is what is held


def test_the_parts_handed_out_are_a_copy_a_writer_may_change() -> None:
    made = Output.of_parts([b"a", b"b"], "text/plain", WHEN)
    given = made.parts()
    given[0] = memoryview(b"a")[1:]  # what `write_new` does after a short write
    assert made.body == b"ab"


def test_an_export_writes_feeds_from_their_parts_without_joining_them(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    for n in range(12):
        (articles / f"{n:03d}.txt").write_text(article_text(**sample_fields(n)), encoding="utf-8")
    site = loaded(Build(articles, Settings(base_url="https://news.example.com"), cache_dir=None))
    feeds = {path: output for path, output in site.items() if isinstance(output, Output) and output._parts is not None}
    assert {"feeds/all.rss", "feeds/all.atom", "feeds/all.json"} <= set(feeds), "the builder holds its feeds as parts"
    export_site(site, tmp_path / "out")
    for path, output in feeds.items():
        assert output._parts is not None, f"{path} was joined to be written"
        assert (tmp_path / "out" / path).read_bytes() == output.body


def test_threads_that_ask_for_a_body_of_parts_at_once_all_get_it() -> None:
    """A server's threads may serve one document at the same moment it is first joined."""
    import threading

    pieces = [bytes([n % 251]) * 997 for n in range(2000)]
    whole = b"".join(pieces)
    for _ in range(20):
        made = Output.of_parts(list(pieces), "text/plain", WHEN)
        seen: list[bytes] = []
        start = threading.Barrier(4)

        def ask(output: Output = made, got: list[bytes] = seen) -> None:
            start.wait()
            got.append(output.body if len(got) % 2 else b"".join(output.parts()))

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == [whole] * 4
