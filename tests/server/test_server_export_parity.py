"""The server and `feedpub export` publish the same map: same paths, byte-identical bodies."""

from __future__ import annotations

import gzip
import warnings
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from feedpub.cli import main
from feedpub.server.app import create_app
from feedpub.server.live.live_site import LiveSite
from feedpub.settings import Settings

with warnings.catch_warnings():  # Starlette 1.x suggests httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
BASE = "https://news.example.org/feeds-site"  # a base with a path: links must keep it


def _seeds_present() -> bool:
    return SEEDS.is_dir() and any(SEEDS.glob("*.txt"))


def _messy_folder(articles: Path, write_article: Callable[..., Path]) -> Path:
    """The conftest articles plus unicode topics, slug collisions and a broken file."""
    from tests.helpers import sample_fields

    extra = [
        ["人工知能", "Économie"], ["C++", "C#"], ["AI", "A.I."], ["Machine Learning", "Machine learning"],
        ["Здоровье", "Santé publique"],
    ]
    for n, topics in enumerate(extra, start=10):
        write_article(f"extra/{n}.txt", **sample_fields(n, topics=topics))
    write_article("draft.txt", **sample_fields(30, published=False))
    write_article("broken.txt", "---\ntitle: [unclosed\n---\n")
    return articles


@pytest.fixture(params=["seeds", "fixture"])
def folder(request: pytest.FixtureRequest, articles: Path, write_article: Callable[..., Path]) -> Path:
    if request.param == "seeds" and _seeds_present():
        return SEEDS
    return _messy_folder(articles, write_article)  # seeds/ not generated yet: the same check on fixtures


def export_with_cli(folder: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    monkeypatch.chdir(out.parent)  # no stray ./feedpub.yaml
    result = CliRunner().invoke(main, ["export", str(folder), "--out", str(out), "--base-url", BASE])
    assert result.exit_code == 0, result.output
    files = {}
    for path in out.resolve().rglob("*"):
        if path.is_file():
            files[path.relative_to(out.resolve()).as_posix()] = path.read_bytes()
    return files


def test_server_serves_exactly_the_export(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exported = export_with_cli(folder, tmp_path / "out", monkeypatch)
    assert "index.html" in exported and "feeds/all.rss" in exported and "_headers" in exported

    live = LiveSite(folder, Settings(base_url=BASE))
    live.load()
    served = set(live.published.resources)
    assert served == {"/" + path for path in exported if path != "_headers"} | {"/"}

    with TestClient(create_app(live, watch=False)) as client:
        for path, body in sorted(exported.items()):
            url = "/" + quote(path)  # unicode topic slugs travel percent-encoded
            plain = client.get(url, headers={"accept-encoding": "identity"})
            if path == "_headers":
                assert plain.status_code == 404
                continue
            assert plain.status_code == 200, path
            assert plain.content == body, f"{path}: served bytes differ from the exported file"
            assert int(plain.headers["content-length"]) == len(body)
            with client.stream("GET", url, headers={"accept-encoding": "gzip"}) as response:
                raw = b"".join(response.iter_raw())
                encoded = response.headers.get("content-encoding") == "gzip"
            assert (gzip.decompress(raw) if encoded else raw) == body, path
        root = client.get("/", headers={"accept-encoding": "identity"})
        assert root.content == exported["index.html"]


def test_export_and_server_agree_from_the_same_build(articles: Path, tmp_path: Path) -> None:
    from feedpub.export import export_site

    live = LiveSite(articles, Settings(base_url=BASE))
    live.load()
    export_site(live.rebuilder.build.site, tmp_path / "out")
    root = (tmp_path / "out").resolve()
    for path, resource in live.published.resources.items():
        name = "index.html" if path == "/" else path[1:]
        assert (root / name).read_bytes() == resource.output.body, path
        assert resource.output.etag == live.rebuilder.build.site[name].etag
