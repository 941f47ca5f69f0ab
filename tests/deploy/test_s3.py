"""`feedpub deploy` against a real S3 server (SeaweedFS): what is stored, what is sent, what is kept.

Each test deploys to its own prefix of the session's bucket and reads the result back through
the S3 API, as any reader of the bucket would.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from feedpub.cli import main
from feedpub.render.headers import headers_for
from feedpub.settings import Settings
from tests.deploy.s3_server import BUCKET, S3Server, free_ports
from tests.helpers import SEEDS, article_text, sample_fields

BASE = "https://news.example.com"
SETTINGS = Settings(base_url=BASE)
# What a GET of an object says about it (boto3's names), without the per-request fields.
STORED_FIELDS = ("ContentType", "CacheControl", "ContentEncoding", "ETag", "LastModified", "Metadata")
SUMMARY = re.compile(r": (\d+) objects: (\d+) uploaded \(([\d,]+) bytes\), (\d+) unchanged, (\d+) deleted; ")


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A prefix of the bucket that only this test uses."""
    return "t/" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")


def deploy(server: S3Server, *args: str | Path, base_url: str | None = BASE, endpoint: str | None = None,
           env: dict[str, str | None] | None = None) -> tuple[int, str]:
    command = ["deploy", *map(str, args), "--endpoint-url", endpoint or server.endpoint]
    if base_url:
        command += ["--base-url", base_url]
    result = CliRunner().invoke(main, command, env=env or server.env(), catch_exceptions=False)
    return result.exit_code, result.output


def counts(output: str) -> dict[str, int]:
    found = SUMMARY.search(output)
    assert found, output
    objects, uploaded, sent, unchanged, deleted = found.groups()
    return {"objects": int(objects), "uploaded": int(uploaded), "bytes": int(sent.replace(",", "")),
            "unchanged": int(unchanged), "deleted": int(deleted)}


def export(folder: Path, out: Path, *options: str) -> dict[str, bytes]:
    """The static export of `folder` (same base URL), minus `_headers`, which a deploy leaves out."""
    result = CliRunner().invoke(main, ["export", str(folder), "--out", str(out), "--base-url", BASE, "--no-cache",
                                       *options])
    assert result.exit_code == 0, result.output
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert files.pop("_headers")
    return files


def listing(server: S3Server, prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every object of the bucket under `prefix` (all of them for ""): key → listed entry."""
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {item["Key"]: item for page in pages for item in page.get("Contents", ())}


def stored(server: S3Server, prefix: str) -> dict[str, tuple[bytes, dict[str, Any]]]:
    """Each object under `prefix/`: site path → (stored bytes, STORED_FIELDS of its GET)."""
    client = server.client()
    objects = {}
    for key in listing(server, prefix + "/"):
        answer = client.get_object(Bucket=BUCKET, Key=key)
        fields = {name: answer[name] for name in STORED_FIELDS if name in answer}
        objects[key[len(prefix) + 1:]] = (answer["Body"].read(), fields)
    return objects


def stamps(server: S3Server, prefix: str) -> dict[str, Any]:
    """Key → Last-Modified: an object that is uploaded again gets a new one (after a second)."""
    return {key: item["LastModified"] for key, item in listing(server, prefix + "/").items()}


def copy_of(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(folder, target)
    return target


def test_a_deploy_stores_the_export_with_its_headers(s3_server: S3Server, prefix: str, tmp_path: Path) -> None:
    code, output = deploy(s3_server, SEEDS, f"s3://{BUCKET}/{prefix}")
    assert code == 0, output
    files = export(SEEDS, tmp_path / "site")
    objects = stored(s3_server, prefix)
    assert set(objects) == set(files)  # every exported file, and nothing else (no `_headers`)
    assert counts(output) == {"objects": len(files), "uploaded": len(files), "bytes": sum(map(len, files.values())),
                              "unchanged": 0, "deleted": 0}
    # Each feed's newest archive document, as a reader finds it: the one its subscription documents
    # link as prev-archive (JSON Feed: next_url).
    newest = {found.removeprefix(SETTINGS.base_url + "/") for path, body in files.items() if path.count("/") <= 2
              for found in re.findall(rb'rel="prev-archive" href="([^"]+)"|"next_url":"([^"]+)"', body)
              for found in map(bytes.decode, found) if found}
    assert newest and all(path.startswith("feeds/archive/") for path in newest)
    for path, (body, answer) in objects.items():
        assert body == files[path], path
        rules = headers_for(path, SETTINGS, growing=path in newest)
        assert answer["ContentType"] == rules["Content-Type"], path
        # An archive document keeps its range: caches may hold it for archive_max_age. All but the
        # newest, which takes each item pushed out of the subscription document.
        age = 86400 if path.startswith("feeds/archive/") and path not in newest else 300
        assert answer["CacheControl"] == rules["Cache-Control"] == f"public, max-age={age}", path
        assert "ContentEncoding" not in answer, path
        assert answer["ETag"].strip('"') == hashlib.md5(body).hexdigest(), path
        assert answer["Metadata"]["feedpub-sha256"] == hashlib.sha256(body).hexdigest(), path
    # The Content-Types of the README's table, spelled out rather than taken from the code under test.
    assert objects["feeds/all.rss"][1]["ContentType"] == "application/rss+xml; charset=utf-8"
    assert objects["feeds/all.atom"][1]["ContentType"] == "application/atom+xml; charset=utf-8"
    assert objects["feeds/all.json"][1]["ContentType"] == "application/feed+json; charset=utf-8"
    assert objects["feeds/index.json"][1]["ContentType"] == "application/json; charset=utf-8"
    assert objects["feeds/index.opml"][1]["ContentType"] == "text/x-opml; charset=utf-8"
    assert objects["index.html"][1]["ContentType"] == "text/html; charset=utf-8"
    assert any(not path.isascii() for path in objects)  # unicode slugs reach the bucket as keys

    code, output = deploy(s3_server, SEEDS, f"s3://{BUCKET}/{prefix}")
    assert code == 0, output
    assert counts(output)["uploaded"] == 0 and counts(output)["unchanged"] == len(files)


def test_gzip_stores_deterministic_gzip_with_content_encoding(s3_server: S3Server, prefix: str,
                                                               tmp_path: Path) -> None:
    code, output = deploy(s3_server, SEEDS, f"s3://{BUCKET}/{prefix}", "--gzip")
    assert code == 0, output
    files = export(SEEDS, tmp_path / "site")
    objects = stored(s3_server, prefix)
    assert set(objects) == set(files)
    compressed = 0
    for path, (body, answer) in objects.items():
        assert answer["ContentType"] == headers_for(path, SETTINGS)["Content-Type"]
        if len(files[path]) >= 256:
            assert answer["ContentEncoding"] == "gzip", path
            assert gzip.decompress(body) == files[path], path
            assert body == gzip.compress(files[path], compresslevel=6, mtime=0), path  # no timestamp inside
            compressed += 1
        else:  # too small to gain from it, as the live server decides
            assert body == files[path] and "ContentEncoding" not in answer, path
    assert compressed > len(files) // 2
    assert counts(output)["bytes"] == sum(len(body) for body, _ in objects.values())
    assert counts(output)["bytes"] < sum(map(len, files.values())) // 3

    code, output = deploy(s3_server, SEEDS, f"s3://{BUCKET}/{prefix}", "--gzip")
    assert code == 0 and counts(output)["uploaded"] == 0, output  # the same bytes again: nothing to send
    # Plain again: the bytes and the encoding change, so everything goes up once more.
    code, output = deploy(s3_server, SEEDS, f"s3://{BUCKET}/{prefix}")
    assert code == 0 and counts(output)["uploaded"] == len(files), output
    assert {path: body for path, (body, _) in stored(s3_server, prefix).items()} == files


def test_a_redeploy_touches_only_what_changed(s3_server: S3Server, articles: Path, prefix: str,
                                              tmp_path: Path) -> None:
    target = f"s3://{BUCKET}/{prefix}"
    code, output = deploy(s3_server, articles, target)
    assert code == 0, output
    before = export(articles, tmp_path / "before")
    first = stamps(s3_server, prefix)
    time.sleep(1.1)  # Last-Modified has whole seconds: a new upload now shows

    code, output = deploy(s3_server, articles, target)
    assert code == 0, output
    assert counts(output) == {"objects": len(before), "uploaded": 0, "bytes": 0, "unchanged": len(before),
                              "deleted": 0}
    assert stamps(s3_server, prefix) == first  # not one object was written

    (articles / "005.txt").write_text(article_text(**sample_fields(5, title="A corrected headline")), "utf-8")
    after = export(articles, tmp_path / "after")
    changed = {path for path in after if after[path] != before[path]}
    assert "feeds/all.rss" in changed and "feeds/providers/news0.example.com.rss" not in changed
    code, output = deploy(s3_server, articles, target)
    assert code == 0, output
    assert counts(output)["uploaded"] == len(changed) and counts(output)["unchanged"] == len(after) - len(changed)
    now = stamps(s3_server, prefix)
    assert {key[len(prefix) + 1:] for key in now if now[key] != first[key]} == changed
    assert {path: body for path, (body, _) in stored(s3_server, prefix).items()} == after

    # A header rule's input changes: every object it applies to is stored again (archive documents
    # follow archive_max_age, which stays), with the bytes an export with that max-age has: the same
    # but for RSS, which repeats the max-age as polling hints (<ttl>, sy:updateFrequency).
    code, output = deploy(s3_server, articles, target, "--max-age", "60")
    current = [path for path in after if not path.startswith("feeds/archive/")]
    assert code == 0 and counts(output)["uploaded"] == len(current), output
    (tmp_path / "max-age.yaml").write_text("max_age: 60\n", encoding="utf-8")
    shorter = export(articles, tmp_path / "shorter", "--config", str(tmp_path / "max-age.yaml"))
    assert {path for path in after if after[path] != shorter[path]} == {p for p in current if p.endswith(".rss")}
    for path, (body, answer) in stored(s3_server, prefix).items():
        age = 86400 if path.startswith("feeds/archive/") else 60
        assert answer["CacheControl"] == f"public, max-age={age}" and body == shorter[path]


def test_objects_no_longer_in_the_site_are_deleted_within_the_bound(s3_server: S3Server, articles: Path,
                                                                     prefix: str, tmp_path: Path) -> None:
    target = f"s3://{BUCKET}/{prefix}"
    code, output = deploy(s3_server, articles, target)
    assert code == 0, output
    gone = [f"feeds/providers/news2.example.com.{fmt}" for fmt in ("rss", "atom", "json", "html")]  # and its page
    assert {f"{prefix}/{path}" for path in gone} <= set(listing(s3_server, prefix + "/"))
    old = stored(s3_server, prefix)
    for n in (2, 5):  # the articles of provider news2
        (articles / f"{n:03d}.txt").unlink()

    code, output = deploy(s3_server, articles, target, "--max-deletes", "0")
    assert code == 1
    assert "4 objects under" in output and "more than --max-deletes 0" in output
    assert "nothing was uploaded or deleted" in output
    assert stored(s3_server, prefix) == old  # not one upload either: the bound is checked first

    code, output = deploy(s3_server, articles, target, "--max-deletes", "4")
    assert code == 0, output
    assert counts(output)["deleted"] == 4
    for path in gone:
        assert f"deleted {prefix}/{path}" in output
    files = export(articles, tmp_path / "site")
    assert {path: body for path, (body, _) in stored(s3_server, prefix).items()} == files


def test_objects_outside_the_prefix_are_never_touched(s3_server: S3Server, articles: Path, prefix: str) -> None:
    client = s3_server.client()
    outside = {
        "keep-at-root.txt": b"root",
        f"{prefix}2/feeds/all.rss": b"a sibling prefix that starts with the same letters",
        f"{prefix}-old/feeds/topics/gone.rss": b"another sibling",
        f"elsewhere/{prefix}/feeds/all.rss": b"the prefix, deeper",
    }
    inside = {f"{prefix}/feeds/topics/gone.rss": b"stale", f"{prefix}/old/page.html": b"stale too",
              f"{prefix}/_headers": b"from an earlier aws s3 sync of the export"}
    for key, body in {**outside, **inside}.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=body)
    client.put_object(Bucket=BUCKET, Key=f"{prefix}/feeds/", Body=b"")  # a console's folder placeholder

    code, output = deploy(s3_server, articles, f"s3://{BUCKET}/{prefix}/")  # a trailing slash is the same
    assert code == 0, output
    assert counts(output)["deleted"] == len(inside)
    keys = set(listing(s3_server))
    assert not set(inside) & keys
    assert f"{prefix}/feeds/" in keys
    for key, body in outside.items():
        assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body, key


def test_dry_run_prints_the_plan_and_changes_nothing(s3_server: S3Server, articles: Path, prefix: str) -> None:
    target = f"s3://{BUCKET}/{prefix}"
    code, output = deploy(s3_server, articles, target, "--dry-run")
    assert code == 0, output
    assert listing(s3_server, prefix + "/") == {}
    lines = [line for line in output.splitlines() if line.startswith("upload ")]
    # Leaves first, the documents that link every feed last, the index page at the very end.
    assert lines[0].startswith(f"upload {prefix}/feeds/providers/") or lines[0].startswith(f"upload {prefix}/feeds/topics/")
    assert [line.split()[1] for line in lines[-3:]] == [f"{prefix}/feeds/index.json", f"{prefix}/feeds/index.opml",
                                                        f"{prefix}/index.html"]
    assert all("(new, " in line for line in lines)
    assert "dry run, nothing changed" in output

    code, output = deploy(s3_server, articles, target)
    assert code == 0, output
    before = listing(s3_server, prefix + "/")
    s3_server.client().put_object(Bucket=BUCKET, Key=f"{prefix}/feeds/topics/gone.rss", Body=b"stale")
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="Changed")), "utf-8")
    code, output = deploy(s3_server, articles, target, "--dry-run", "--max-deletes", "0")
    assert code == 1  # the real deploy would refuse: so does its rehearsal, after showing why
    assert f"delete {prefix}/feeds/topics/gone.rss" in output
    assert f"upload {prefix}/feeds/all.rss (bytes changed, " in output
    after = listing(s3_server, prefix + "/")
    assert f"{prefix}/feeds/topics/gone.rss" in after
    after.pop(f"{prefix}/feeds/topics/gone.rss")
    assert after == before


def test_a_multipart_etag_is_checked_through_the_metadata(s3_server: S3Server, articles: Path, prefix: str) -> None:
    target = f"s3://{BUCKET}/{prefix}"
    code, output = deploy(s3_server, articles, target)
    assert code == 0, output
    client = s3_server.client()
    key = f"{prefix}/feeds/all.rss"
    head = client.head_object(Bucket=BUCKET, Key=key)
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def multipart(metadata: dict[str, str]) -> None:
        """Store the same bytes and headers again, as a one-part multipart upload (`aws s3 cp` of a big file)."""
        upload = client.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType=head["ContentType"],
                                                CacheControl=head["CacheControl"], Metadata=metadata)
        part = client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=body)
        client.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload["UploadId"],
                                         MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        assert "-" in client.head_object(Bucket=BUCKET, Key=key)["ETag"]  # not an MD5 of the bytes

    multipart(head["Metadata"])
    code, output = deploy(s3_server, articles, target)
    assert code == 0 and counts(output)["uploaded"] == 0, output  # the metadata vouches for the bytes

    multipart({})  # same bytes, but nothing says so
    code, output = deploy(s3_server, articles, target, "--dry-run")
    assert f"upload {key} (bytes unverified, " in output
    code, output = deploy(s3_server, articles, target)
    assert code == 0 and counts(output)["uploaded"] == 1, output
    assert "-" not in client.head_object(Bucket=BUCKET, Key=key)["ETag"]


def test_a_failed_upload_deletes_nothing(s3_server: S3Server, articles: Path, prefix: str) -> None:
    target = f"s3://{BUCKET}/{prefix}"
    code, output = deploy(s3_server, articles, target)
    assert code == 0, output
    s3_server.client().put_object(Bucket=BUCKET, Key=f"{prefix}/feeds/topics/gone.rss", Body=b"stale")
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="Changed")), "utf-8")
    before = listing(s3_server, prefix + "/")
    # Credentials that may list and read but not write: the listing works, the first upload fails.
    code, output = deploy(s3_server, articles, target, env=s3_server.env(reader=True))
    assert code == 1
    assert "access denied while uploading" in output and "nothing was deleted" in output
    assert listing(s3_server, prefix + "/") == before


@pytest.mark.parametrize("case", ["missing bucket", "wrong secret", "unknown key", "no credentials",
                                  "unreachable endpoint"])
def test_errors_exit_1_with_a_clear_message(s3_server: S3Server, articles: Path, prefix: str, case: str) -> None:
    env = s3_server.env()
    bucket, endpoint = BUCKET, None
    if case == "missing bucket":
        bucket, expected = "feedpub-no-such-bucket", "bucket 'feedpub-no-such-bucket' does not exist at"
    elif case == "wrong secret":
        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        expected = "refused the credentials (SignatureDoesNotMatch"
    elif case == "unknown key":
        env["AWS_ACCESS_KEY_ID"] = "nobody"
        expected = "refused the credentials (InvalidAccessKeyId"
    elif case == "no credentials":
        env["AWS_ACCESS_KEY_ID"] = env["AWS_SECRET_ACCESS_KEY"] = None
        expected = "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    else:
        (port,) = free_ports(1)  # nothing listens there
        endpoint = f"http://127.0.0.1:{port}"
        expected = f"cannot reach the S3 endpoint http://127.0.0.1:{port}"
    started = time.perf_counter()
    code, output = deploy(s3_server, articles, f"s3://{bucket}/{prefix}", endpoint=endpoint, env=env)
    assert code == 1, output
    assert expected in output and "nothing was uploaded or deleted" in output
    assert "Traceback" not in output
    assert time.perf_counter() - started < 30  # bounded retries
    assert listing(s3_server, prefix + "/") == {}


def test_a_deploy_needs_a_base_url_and_an_s3_target(s3_server: S3Server, articles: Path, prefix: str,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no feedpub.yaml here
    code, output = deploy(s3_server, articles, f"s3://{BUCKET}/{prefix}", base_url=None)
    assert code == 1
    assert "pass --base-url https://news.example.com or set base_url in feedpub.yaml" in output
    (tmp_path / "feedpub.yaml").write_text(f"base_url: {BASE}\n")
    code, output = deploy(s3_server, articles, f"s3://{BUCKET}/{prefix}", base_url=None)
    assert code == 0, output
    assert f'"{BASE}/feeds/all.rss"'.encode() in stored(s3_server, prefix)["feeds/index.json"][0]
    # The front page links relatively; the OPML, for other programs, absolutely: from the base URL.
    assert f'xmlUrl="{BASE}/feeds/all.rss"'.encode() in stored(s3_server, prefix)["feeds/index.opml"][0]

    for wrong, message in ((f"{BUCKET}/{prefix}", "like `feedpub deploy articles s3://my-bucket/news`"),
                           ("s3://A_Bucket/x", "is not a bucket name"),
                           (f"s3://{BUCKET}/a/../b", "'.' or '..' segment")):
        code, output = deploy(s3_server, articles, wrong)
        assert code == 2 and message in output, output


def test_a_deploy_pings_the_hubs_for_the_feeds_whose_bytes_changed(s3_server: S3Server, articles: Path, prefix: str,
                                                                    tmp_path: Path) -> None:
    from tests.websub.parts import HubStandIn, feedpub_yaml

    hub = HubStandIn()
    try:
        config = ("--config", feedpub_yaml(tmp_path, hubs=[hub.url("/hub")]))
        target = f"s3://{BUCKET}/{prefix}"
        code, output = deploy(s3_server, articles, target, *config)
        assert code == 0, output
        assert hub.received == [] and "websub" not in output  # a first deploy: nobody can have subscribed yet
        code, output = deploy(s3_server, articles, target, *config)
        assert code == 0 and counts(output)["uploaded"] == 0 and hub.received == []  # nothing changed
        # Article 6: provider news0, topic World: those feeds and the feeds of everything change.
        (articles / "006.txt").write_text(article_text(**sample_fields(6, publishedDateTime="2026-01-15T13:00:00Z")),
                                          encoding="utf-8")
        code, output = deploy(s3_server, articles, target, *config, "--dry-run")
        assert code == 0 and hub.received == []  # a dry run changes nothing, so announces nothing
        code, output = deploy(s3_server, articles, target, *config)
        assert code == 0, output
        assert "websub: 9 changed feeds announced to 1 hub" in output
        assert sorted(hub.pinged_topics()) == sorted(
            f"{BASE}/feeds/{where}.{fmt}" for where in ("all", "topics/world", "providers/news0.example.com")
            for fmt in ("rss", "atom", "json"))
        (articles / "007.txt").write_text(article_text(**sample_fields(7, publishedDateTime="2026-01-15T14:00:00Z")),
                                          encoding="utf-8")
        code, output = deploy(s3_server, articles, target, *config, "--no-ping")
        assert code == 0 and counts(output)["uploaded"] > 0 and "websub" not in output and len(hub.received) == 1
    finally:
        hub.close()
