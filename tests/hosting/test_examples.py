"""The hosting examples in `examples/` are the ones the README shows, and their feedpub commands
run: the GitHub Pages workflow, the GitLab Pages job and the Netlify build, each export step run for
real with this feedpub (the hosts themselves are not run here; the pip steps install feedpub, which
the tests have already)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, SEEDS
from tests.hosting.servers import EXAMPLES

README = (ROOT / "README.md").read_text("utf-8")
SHOWN = ["nginx/feedpub-static.conf", "nginx/feedpub-replicas.conf", "Caddyfile", "github-pages.yml",
         "gitlab-pages.yml", "netlify.toml"]
NOT_SHOWN = ["screenshots.py"]  # makes the README's screenshots (docs/screenshots/): a tool, not a setup to copy


@pytest.mark.parametrize("name", SHOWN)
def test_the_readme_shows_each_example_as_it_is(name: str) -> None:
    text = (EXAMPLES / name).read_text("utf-8").strip()
    assert text in README, f"README.md does not hold examples/{name} as it is: copy the file into the README"
    assert sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*") if p.is_file()) == sorted(SHOWN + NOT_SHOWN)


def run_step(command: str, tmp_path: Path, **env: str) -> None:
    """Run one shell step of an example in a checkout holding articles/, with this feedpub on PATH."""
    shutil.copytree(SEEDS, tmp_path / "articles", dirs_exist_ok=True)
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    result = subprocess.run(["bash", "-ec", command], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PATH": path, **env})
    assert result.returncode == 0, f"{command}\n{result.stderr}"


def assert_published(out: Path, base: str) -> None:
    assert (out / "index.html").is_file() and (out / "404.html").is_file() and not out.is_symlink()
    catalog = json.loads((out / "feeds/index.json").read_bytes())
    assert catalog["home_page_url"] == base + "/"
    assert all(url.startswith(base + "/feeds/") for entry in catalog["feeds"] for url in entry["urls"].values())


def test_the_github_pages_workflow_exports_on_push_and_on_a_schedule(tmp_path: Path) -> None:
    workflow: dict[Any, Any] = yaml.safe_load((EXAMPLES / "github-pages.yml").read_text("utf-8"))
    triggers: dict[str, Any] = workflow["on"] if "on" in workflow else workflow[True]  # YAML 1.1 reads `on` as true
    assert triggers["push"]["branches"] == ["main"] and triggers["schedule"][0]["cron"] == "*/15 * * * *"
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    steps = workflow["jobs"]["feeds"]["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert uses.index("actions/configure-pages") < uses.index("actions/upload-pages-artifact") < uses.index(
        "actions/deploy-pages")
    [export] = [step["run"] for step in steps if "feedpub export" in step.get("run", "")]
    artifact = steps[uses.index("actions/upload-pages-artifact")]["with"]["path"]
    assert uses.index("actions/configure-pages") < [s.get("run") for s in steps].index(export)
    assert f"--out {artifact} " in export
    base = "https://someone.github.io/news"  # what configure-pages says for a project site
    run_step(export.replace("${{ steps.pages.outputs.base_url }}", base), tmp_path)
    assert_published(tmp_path / artifact, base)


def test_the_gitlab_pages_job_exports_into_public(tmp_path: Path) -> None:
    job = yaml.safe_load((EXAMPLES / "gitlab-pages.yml").read_text("utf-8"))["pages"]
    assert job["artifacts"]["paths"] == ["public"]
    [export] = [line for line in job["script"] if "feedpub export" in line]
    base = "https://someone.gitlab.io/news"
    run_step(export, tmp_path, CI_PAGES_URL=base)
    assert_published(tmp_path / "public", base)


def test_the_netlify_build_exports_into_the_published_folder(tmp_path: Path) -> None:
    build = tomllib.loads((EXAMPLES / "netlify.toml").read_text("utf-8"))["build"]
    export = build["command"].split("&&", 1)[1].strip()  # after the pip install
    assert re.search(rf"--out {re.escape(build['publish'])}\b", export)
    base = "https://news-example.netlify.app"
    run_step(export, tmp_path, URL=base)
    assert_published(tmp_path / build["publish"], base)
    assert (tmp_path / build["publish"] / "_headers").is_file()  # what gives Netlify the Content-Types
