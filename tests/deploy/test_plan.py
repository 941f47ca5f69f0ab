"""The deploy planner's rules, without a server: targets, stored objects, comparisons, order, deletes."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from feedpub.build import Build
from feedpub.deploy import plan as deploy_plan
from feedpub.deploy.plan import (
    META_BODY,
    META_HEADERS,
    MIN_GZIP,
    RemoteObject,
    SiteObject,
    Target,
    TargetError,
    announced_topics,
    headers_digest,
    needs_metadata,
    parse_target,
    plan,
    site_objects,
    upload_rank,
    upload_reason,
)
from feedpub.render.site import Output, make_output
from feedpub.server import published
from feedpub.settings import Settings
from tests.helpers import article_text, loaded, sample_fields

SETTINGS = Settings(base_url="https://news.example.com")
TARGET = Target("bucket", "site")
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def obj(path: str, body: bytes = b"body", **headers: str) -> SiteObject:
    return SiteObject(path, body, {"Content-Type": "text/plain; charset=utf-8", **headers})


def stored_as(o: SiteObject, key: str | None = None, *, etag: str | None = None,
              metadata: dict[str, str] | None = None) -> RemoteObject:
    """The remote object a deploy of `o` leaves behind (or one with the given ETag / metadata)."""
    return RemoteObject(key or TARGET.key(o.path), etag or f'"{o.md5}"', len(o.body),
                        o.metadata if metadata is None else metadata)


@pytest.mark.parametrize(("url", "bucket", "prefix"), [
    ("s3://bucket", "bucket", ""), ("s3://bucket/", "bucket", ""), ("s3://my.bucket-1/site", "my.bucket-1", "site"),
    ("s3://bucket//news/2026/", "bucket", "news/2026"), ("s3://bucket/Nachrichten/ä", "bucket", "Nachrichten/ä"),
])
def test_parse_target(url: str, bucket: str, prefix: str) -> None:
    assert parse_target(url) == Target(bucket, prefix)


@pytest.mark.parametrize(("url", "message"), [
    ("bucket/site", "not an s3:// URL"), ("https://bucket/site", "not an s3:// URL"), ("s3://", "not a bucket name"),
    ("s3://UPPER/site", "not a bucket name"), ("s3://ab/site", "not a bucket name"),
    ("s3://bucket/a//b", "empty, '.' or '..'"), ("s3://bucket/a/../b", "empty, '.' or '..'"),
])
def test_parse_target_rejects_what_it_cannot_deploy_to(url: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        parse_target(url)


def test_keys_outside_the_prefix_have_no_path() -> None:
    assert TARGET.key("feeds/all.rss") == "site/feeds/all.rss"
    assert TARGET.path_of("site/feeds/all.rss") == "feeds/all.rss"
    for key in ("site", "site2/feeds/all.rss", "sitefeeds/all.rss", "other/site/feeds/all.rss", "feeds/all.rss"):
        assert TARGET.path_of(key) is None, key
    root = Target("bucket", "")
    assert root.key("index.html") == "index.html" and root.path_of("anything/at/all") == "anything/at/all"


def test_site_objects_carry_the_stored_headers_and_leave_headers_file_out(articles: Path) -> None:
    site = loaded(Build(articles, SETTINGS))
    objects = {o.path: o for o in site_objects(site, SETTINGS)}
    assert set(objects) == set(site) - {"_headers"}
    for path, o in objects.items():
        assert o.body == site[path].body
        assert dict(o.headers) == {"Content-Type": site[path].media_type, "Cache-Control": "public, max-age=300"}
        assert o.md5 == hashlib.md5(o.body).hexdigest() and o.metadata[META_BODY] == hashlib.sha256(o.body).hexdigest()
    assert [o.path for o in site_objects(site, SETTINGS)] == sorted(objects)


def test_archive_documents_are_fingerprinted_then_let_go_and_made_again_to_upload(tmp_path: Path) -> None:
    from feedpub.render.site import LazyOutput

    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(12):
        (folder / f"{n:03d}.txt").write_text(article_text(**sample_fields(n)), encoding="utf-8")
    settings = SETTINGS.replace(limit=3)
    site = loaded(Build(folder, settings))
    archived = [path for path, output in site.items() if isinstance(output, LazyOutput)]
    # Archive documents, and the feeds' pages for people (put together from stored items too).
    assert archived and all(path.startswith("feeds/archive/") or path.endswith(".html") for path in archived)
    for compress in (False, True):
        objects = {o.path: o for o in site_objects(site, settings, compress=compress)}
        for path in archived:
            o = objects[path]
            assert o.given == b""  # not held: a site has too many to hold at once
            body = o.body  # made again, exactly as fingerprinted
            assert hashlib.md5(body).hexdigest() == o.md5 and len(body) == o.size
            assert (gzip.decompress(body) if compress else body) == site[path].body


def test_site_objects_read_each_output_once_through_body_of(articles: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Outputs made on demand (archive documents) will make their bytes in body_of: once each, and
    # compared by digests of those bytes, never by the output's ETag.
    site = loaded(Build(articles, SETTINGS))
    read: list[Output] = []

    def counting(output: Output) -> bytes:
        read.append(output)
        return output.body

    monkeypatch.setattr(deploy_plan, "body_of", counting)
    objects = site_objects(site, SETTINGS, compress=True)
    assert len(read) == len(objects) == len({id(output) for output in read}) == len(site) - 1


def test_gzip_objects_are_deterministic_and_small_ones_stay_plain() -> None:
    assert MIN_GZIP == published.MIN_GZIP  # the live server's floor: what it compresses, the deploy does
    big, small = b"<rss>" + b"x" * MIN_GZIP + b"</rss>", b"<rss/>"
    site = {"feeds/all.rss": make_output(big, "application/rss+xml", WHEN),
            "feeds/all.atom": make_output(small, "application/atom+xml", WHEN)}
    first = {o.path: o for o in site_objects(site, SETTINGS, compress=True)}
    again = {o.path: o for o in site_objects(site, SETTINGS, compress=True)}
    assert first["feeds/all.rss"].headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(first["feeds/all.rss"].body) == big
    assert first["feeds/all.rss"].body == again["feeds/all.rss"].body  # no timestamp in the gzip header
    assert first["feeds/all.atom"].body == small and "Content-Encoding" not in first["feeds/all.atom"].headers
    plain = {o.path: o for o in site_objects(site, SETTINGS)}
    assert plain["feeds/all.rss"].headers_digest != first["feeds/all.rss"].headers_digest


def test_headers_digest_ignores_case_and_order_but_not_values() -> None:
    a = headers_digest({"Content-Type": "text/plain", "Cache-Control": "public, max-age=300"})
    assert a == headers_digest({"cache-control": "public, max-age=300", "CONTENT-TYPE": "text/plain"})
    assert a != headers_digest({"Content-Type": "text/plain", "Cache-Control": "public, max-age=60"})
    assert a != headers_digest({"Content-Type": "text/plain"})


def test_upload_reason() -> None:
    o = obj("feeds/all.rss")
    assert upload_reason(o, None) == "new"
    assert upload_reason(o, stored_as(o)) is None
    assert upload_reason(o, stored_as(o, etag='"' + "0" * 32 + '"')) == "bytes changed"
    assert upload_reason(o, stored_as(o, etag=f'"{o.md5.upper()}"')) is None  # hex case is not a change
    # Same bytes, other headers: the digest in metadata tells; no metadata at all is a change too.
    assert upload_reason(o, stored_as(o, metadata={**o.metadata, META_HEADERS: "old"})) == "headers changed"
    assert upload_reason(o, stored_as(o, metadata={})) == "headers changed"
    # Metadata names come back lowercased from S3; feedpub writes them lowercase already.
    assert upload_reason(o, stored_as(o, metadata={k.upper(): v for k, v in o.metadata.items()})) is None


def test_a_multipart_etag_falls_back_to_the_body_digest() -> None:
    o = obj("feeds/all.rss")
    multipart = '"' + "a" * 32 + '-3"'
    assert upload_reason(o, stored_as(o, etag=multipart)) is None
    other = {**o.metadata, META_BODY: hashlib.sha256(b"other").hexdigest()}
    assert upload_reason(o, stored_as(o, etag=multipart, metadata=other)) == "bytes changed"
    no_digest = {META_HEADERS: o.headers_digest}
    assert upload_reason(o, stored_as(o, etag=multipart, metadata=no_digest)) == "bytes unverified"


def test_metadata_is_read_only_when_the_etag_cannot_decide_alone() -> None:
    o = obj("feeds/all.rss")
    assert needs_metadata(o, stored_as(o))  # same bytes: are the headers the same?
    assert needs_metadata(o, stored_as(o, etag='"' + "a" * 32 + '-2"'))
    assert not needs_metadata(o, stored_as(o, etag='"' + "0" * 32 + '"'))  # other bytes: upload anyway


PATHS = [
    "index.html", "feeds/index.json", "feeds/index.opml", "feeds/all.rss", "feeds/all.atom", "feeds/all.json",
    "feeds/topics/ai.rss", "feeds/topics/ai.json", "feeds/providers/a.example.com.rss",
    "feeds/topics/archive.rss",  # a topic named "archive" is a topic feed, not an archive
    "feeds/archive/all/2026-05.rss", "feeds/archive/all/2026-04.rss", "feeds/archive/topics/ai/2026-05.rss",
    "feeds/archive/providers/a.example.com/2026-05.json", "feeds/archive/index.json",
]


def test_uploads_go_leaves_first_and_index_documents_last() -> None:
    planned = plan([obj(path) for path in PATHS], [], TARGET)
    order = [u.obj.path for u in planned.uploads]
    assert order == [
        # archives (everything under feeds/archive/, even an index of them: it links only archives),
        # deepest first
        "feeds/archive/providers/a.example.com/2026-05.json", "feeds/archive/topics/ai/2026-05.rss",
        "feeds/archive/all/2026-04.rss", "feeds/archive/all/2026-05.rss", "feeds/archive/index.json",
        # topic and provider feeds, then the feeds of everything
        "feeds/providers/a.example.com.rss", "feeds/topics/ai.json", "feeds/topics/ai.rss", "feeds/topics/archive.rss",
        "feeds/all.atom", "feeds/all.json", "feeds/all.rss",
        # the documents that link every feed, the index page last
        "feeds/index.json", "feeds/index.opml", "index.html",
    ]
    waves = [[u.obj.path for u in wave] for wave in planned.waves()]
    assert [path for wave in waves for path in wave] == order
    assert waves[-1] == ["index.html"] and waves[-2] == ["feeds/index.json", "feeds/index.opml"]
    assert all(upload_rank(a[0]) < upload_rank(b[0]) for a, b in pairwise(waves))
    assert planned.upload_bytes == 4 * len(PATHS) and all(u.reason == "new" for u in planned.uploads)


def test_plan_keeps_unchanged_objects_and_deletes_only_stale_ones_under_the_prefix() -> None:
    same, changed, new = obj("feeds/all.rss"), obj("feeds/all.atom", b"new bytes"), obj("index.html")
    listing = [
        stored_as(same),
        stored_as(obj("feeds/all.atom", b"old bytes")),
        stored_as(obj("feeds/topics/gone.rss")),  # no longer in the site
        RemoteObject("site/feeds/", '"d41d8cd98f00b204e9800998ecf8427e"', 0),  # a folder placeholder
        RemoteObject("site2/feeds/topics/gone.rss", '"x"', 1),  # outside: a listing that returned too much
        RemoteObject("other/site/index.html", '"x"', 1),
        RemoteObject("site", '"x"', 1),
    ]
    planned = plan([same, changed, new], listing, TARGET)
    assert [(u.key, u.reason) for u in planned.uploads] == [("site/feeds/all.atom", "bytes changed"),
                                                            ("site/index.html", "new")]
    assert planned.unchanged == ("site/feeds/all.rss",)
    assert planned.deletes == ("site/feeds/topics/gone.rss",)


def test_an_empty_prefix_plans_for_the_whole_bucket() -> None:
    root = Target("bucket", "")
    planned = plan([obj("index.html")], [RemoteObject("old.txt", '"x"', 1), RemoteObject("dir/", '"x"', 0)], root)
    assert [u.key for u in planned.uploads] == ["index.html"] and planned.deletes == ("old.txt",)


def test_the_topics_announced_are_the_feeds_whose_bytes_changed() -> None:
    rss = {"Content-Type": "application/rss+xml; charset=utf-8"}
    feed, topic, archive = (obj("feeds/all.rss", b"v2", **rss), obj("feeds/topics/künstliche-intelligenz.rss", b"v2", **rss),
                            obj("feeds/archive/all/2026.rss", b"v2", **rss))
    new_topic, index = obj("feeds/topics/new.rss", b"v1", **rss), obj("index.html", b"v2")
    headers_only = obj("feeds/providers/news0.example.com.rss", b"same", **rss)
    listing = [stored_as(obj(o.path, b"v1", **rss)) for o in (feed, topic, archive)]
    listing += [stored_as(obj("index.html", b"v1")), stored_as(headers_only, metadata={**headers_only.metadata,
                                                                                       META_HEADERS: "older"})]
    planned = plan([feed, topic, archive, new_topic, index, headers_only], listing, TARGET)
    assert {u.obj.path: u.reason for u in planned.uploads}["feeds/providers/news0.example.com.rss"] == "headers changed"
    # Changed and new feeds, percent-encoded as their self links; no archive, page or headers-only upload.
    assert announced_topics(planned, SETTINGS) == [
        "https://news.example.com/feeds/all.rss", "https://news.example.com/feeds/topics/k%C3%BCnstliche-intelligenz.rss",
        "https://news.example.com/feeds/topics/new.rss"]
    # A first deploy: nothing under the prefix was the site's, so nobody can have subscribed yet.
    assert announced_topics(plan([feed, topic, index], [], TARGET), SETTINGS) == []
