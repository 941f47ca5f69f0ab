"""feedpub installs like a real package: a wheel in a fresh venv works from any folder.

The wheel is built from a copy of the project and installed with no network (its dependencies
come from the test environment's site-packages, which the new venv can see but whose editable
install of feedpub it does not load). It runs from a folder holding a `server.py` and a `feeds.py`
of its own, which must not stand in for feedpub's modules.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import ROOT
from tests.live_server import free_port

SHADOW = 'import sys\nprint("a user\'s own {name} ran instead of feedpub\'s")\nsys.exit(3)\n'


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with feedpub installed from its wheel; returns the venv's folder."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("feeds", "server", "seeds"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    dist = work / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", str(dist), str(source)], cwd=work)
    (wheel,) = dist.glob("feedpub-*.whl")
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=work)
    # The dependencies the tests run with, without this environment's editable feedpub: a path
    # listed in a .pth file is searched, but .pth files found there are not run.
    packages = next(venv.glob("lib/python*/site-packages"))
    (packages / "test-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=work)
    return venv


def run(command: list[str], *, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A folder of the user's, far from any checkout, with modules named like feedpub's folders."""
    folder = tmp_path / "my-project"
    folder.mkdir()
    for name in ("server", "feeds"):
        (folder / f"{name}.py").write_text(SHADOW.format(name=f"{name}.py"))
    return folder


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path, elsewhere: Path) -> None:
    found = run([str(installed / "bin" / "python"), "-c",
                 "import feedpub, feedpub.server.app, feedpub.seeds, feedpub.deploy.command; "
                 "print(feedpub.__file__); print(feedpub.server.app.__file__)"], cwd=elsewhere).stdout.split()
    assert all(path.startswith(str(installed)) for path in found), found
    assert not any(path.startswith(str(ROOT)) for path in found)


def test_the_wheel_builds_the_yaml_accelerator_where_libyaml_s_headers_are(installed: Path, elsewhere: Path) -> None:
    if os.environ.get("FEEDPUB_REQUIRE_ACCELERATOR") != "1" and not Path("/usr/include/yaml.h").exists():
        pytest.skip("no libyaml headers here: the wheel is built without the accelerator")
    found = run([str(installed / "bin" / "python"), "-c",
                 "from feedpub.reading import fast_yaml; print(fast_yaml.accelerator(), fast_yaml._frontmatter.__file__)"],
                cwd=elsewhere).stdout.split()
    assert found[0].count(".") == 2 and found[1].startswith(str(installed)), found


def test_export_with_no_folder_given_publishes_the_bundled_samples(installed: Path, elsewhere: Path) -> None:
    result = run([str(installed / "bin" / "feedpub"), "export", "--out", "site", "--base-url", "https://news.example"],
                 cwd=elsewhere)
    assert "240 files read: 221 published" in result.stderr
    assert b"<rss" in (elsewhere / "site" / "feeds" / "all.rss").read_bytes()
    again = run([str(installed / "bin" / "python"), "-m", "feedpub", "export", "--out", "again",
                 "--base-url", "https://news.example"], cwd=elsewhere)
    assert "240 files read: 221 published" in again.stderr
    for path in ("feeds/all.rss", "feeds/all.atom", "feeds/all.json", "index.html"):
        assert (elsewhere / "site" / path).read_bytes() == (elsewhere / "again" / path).read_bytes()


def test_serve_with_no_folder_given_serves_the_bundled_samples(installed: Path, elsewhere: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    with open(elsewhere / "serve.log", "wb") as log:
        process = subprocess.Popen([str(installed / "bin" / "python"), "-m", "feedpub", "serve", "--port", str(port),
                                    "--quiet"], cwd=elsewhere, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (elsewhere / "serve.log").read_text()
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (elsewhere / "serve.log").read_text()
                time.sleep(0.1)
        assert health.json()["articles"] == 221
        assert httpx.get(f"http://127.0.0.1:{port}/feeds/all.rss", timeout=5).status_code == 200
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
