"""The command line: export, check, settings, and how bad input is reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedpub.build import Build
from feedpub.cli import main
from feedpub.settings import Settings
from tests.helpers import article_text, loaded, sample_fields

BASE = "https://news.example.com"


def run(*args: str | Path) -> tuple[int, str]:
    """Run the command line; an export is given a base URL unless it names one or a settings file."""
    words = [str(a) for a in args]
    if words[0] == "export" and "--base-url" not in words and "--config" not in words:
        words += ["--base-url", BASE]
    result = CliRunner().invoke(main, words, catch_exceptions=False)
    return result.exit_code, result.output


def catalog(out: Path) -> dict[str, dict]:
    feeds = json.loads((out / "feeds/index.json").read_text())["feeds"]
    return {f"{f['kind']}:{f['key']}": f for f in feeds}


def test_export_reports_bad_files_and_still_publishes_the_rest(articles: Path, write_article: Callable[..., Path],
                                                                tmp_path: Path) -> None:
    write_article("broken.txt", "---\ntitle: [unclosed\n---\n")
    write_article("nofront.md", "just some text\n")
    code, output = run("export", articles, "--out", tmp_path / "out")
    assert code == 0, output
    assert "broken.txt: invalid YAML" in output
    assert "nofront.md: no front matter" in output
    assert "8 files read: 6 published, 0 drafts, 0 scheduled, 0 duplicates, 2 bad files" in output
    assert catalog(tmp_path / "out")["all:all"]["items"] == 6


def test_strict_fails_on_a_bad_file_and_writes_nothing(articles: Path, write_article: Callable[..., Path],
                                                        tmp_path: Path) -> None:
    write_article("broken.txt", "---\n- a list\n---\n")
    code, output = run("export", articles, "--out", tmp_path / "out", "--strict")
    assert code == 1
    assert "broken.txt: front matter is a list" in output and "nothing written" in output
    assert not (tmp_path / "out").exists()


def test_limit_and_drafts_flags(articles: Path, write_article: Callable[..., Path], tmp_path: Path) -> None:
    write_article("draft.txt", **sample_fields(10, title="Secret draft", published=False))
    code, output = run("export", articles, "--out", tmp_path / "a", "--limit", "2")
    assert code == 0, output
    assert "1 draft," in output  # and plurals as people write them
    assert catalog(tmp_path / "a")["all:all"]["items"] == 2
    assert b"Secret draft" not in (tmp_path / "a/feeds/all.rss").read_bytes()
    code, output = run("export", articles, "--out", tmp_path / "b", "--include-drafts")
    assert code == 0, output
    assert b"Secret draft" in (tmp_path / "b/feeds/all.rss").read_bytes()


def test_summary_counts_duplicates_and_scheduled(articles: Path, write_article: Callable[..., Path],
                                                 tmp_path: Path) -> None:
    write_article("copy.txt", **sample_fields(3, publishedDateTime="2026-01-15T13:00:00Z", title="Re-crawled"))
    write_article("future.txt", **sample_fields(40, publishedDateTime="2999-01-01T00:00:00Z"))
    code, output = run("export", articles, "--out", tmp_path / "out")
    assert code == 0, output
    assert "1 scheduled, 1 duplicate," in output
    # An export sums duplicates up in one line (it repeats them on every run); check names each.
    assert "1 duplicate: files whose article another file publishes too" in output
    code, output = run("check", articles)
    # the newer date wins; the line names the file left out
    assert "003.txt: not published, an older version of copy.txt (the same URL, https://" in output
    body = (tmp_path / "out/feeds/all.rss").read_text()
    assert "Re-crawled" in body and "Headline number 3" not in body and "Headline number 40" not in body
    code, output = run("export", articles, "--out", tmp_path / "later", "--include-future")
    assert "Headline number 40" in (tmp_path / "later/feeds/all.rss").read_text()


def test_config_file_and_flags_override_it(articles: Path, tmp_path: Path) -> None:
    config = tmp_path / "feedpub.yaml"
    config.write_text("title: Harbor News\nbase_url: https://harbor.example/\nlimit: 3\n"
                      "topics:\n  World: Around the world\n")
    code, output = run("export", articles, "--out", tmp_path / "out", "--config", config, "--limit", "4")
    assert code == 0, output
    entries = catalog(tmp_path / "out")
    assert entries["all:all"]["items"] == 4
    assert entries["all:all"]["urls"]["rss"] == "https://harbor.example/feeds/all.rss"
    assert entries["topic:world"]["title"] == "Around the world"
    assert "<title>Harbor News</title>" in (tmp_path / "out/feeds/all.rss").read_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("titel: typo\n", "unknown setting 'titel'"),
        ("limit: many\n", "limit must be a whole number"),
        ("limit: 0\n", "limit must be a whole number"),
        ("base_url: ftp://x\n", "base_url must be an absolute http(s) URL"),
        ("base_url: https://user:secret@news.example.com\n", "base_url must not hold a user name or password"),
        ("language: 'xx-INVALID-!!'\n", "language must be a language tag such as en or pt-BR"),
        ("topics: [a, b]\n", "topics must map topic names"),
        ("- a\n", "must be a mapping"),
        ("title: [\n", "not valid YAML"),
    ],
)
def test_a_wrong_setting_is_a_clear_error_naming_it(articles: Path, tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "feedpub.yaml"
    config.write_text(text)
    code, output = run("export", articles, "--out", tmp_path / "out", "--config", config)
    assert code == 1 and message in output and str(config) in output
    assert not (tmp_path / "out").exists()


def test_config_is_found_in_the_current_folder(articles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "feedpub.yaml").write_text("title: Found Me\nbase_url: https://found.example\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["export", str(articles), "--out", "out"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "<title>Found Me</title>" in (tmp_path / "out/feeds/all.rss").read_text()
    assert "https://found.example/feeds/all.rss" in (tmp_path / "out/feeds/index.opml").read_text()


@pytest.mark.parametrize("command", ["export", "deploy"])
def test_export_and_deploy_without_a_base_url_stop_and_say_how_to_give_one(articles: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch,
                                                                           command: str) -> None:
    monkeypatch.chdir(tmp_path)  # no feedpub.yaml here
    target = ["--out", "site"] if command == "export" else ["s3://bucket/news"]
    result = CliRunner().invoke(main, [command, str(articles), *target], catch_exceptions=False)
    assert result.exit_code == 1
    assert "needs the public URL the site is served from" in result.output
    assert "--base-url https://news.example.com" in result.output and "base_url in feedpub.yaml" in result.output
    assert not (tmp_path / "site").exists()
    (tmp_path / "feedpub.yaml").write_text("base_url: https://news.example.com\n")
    if command == "export":  # a base URL from feedpub.yaml is as good as the flag
        assert CliRunner().invoke(main, ["export", str(articles), "--out", "site"]).exit_code == 0
        assert (tmp_path / "site" / "index.html").is_file()


def test_an_ipv6_base_url_is_a_base_url(articles: Path, tmp_path: Path) -> None:
    code, output = run("export", articles, "--out", tmp_path / "out", "--base-url", "http://[::1]:8000")
    assert code == 0, output
    assert '<atom:link href="http://[::1]:8000/feeds/all.rss" rel="self"' in (tmp_path / "out/feeds/all.rss").read_text()


def test_bad_base_url_flag_is_an_error(articles: Path, tmp_path: Path) -> None:
    code, output = run("export", articles, "--out", tmp_path / "out", "--base-url", "javascript:alert(1)")
    assert code == 1 and "base_url must be an absolute http(s) URL" in output


def test_check_lists_problems_and_fails_on_bad_files(articles: Path, write_article: Callable[..., Path]) -> None:
    code, output = run("check", articles)
    assert code == 0, output
    write_article("noimage.txt", **sample_fields(20, images=None, excerpt=""))
    write_article("copy.txt", **sample_fields(2))
    write_article("bad.txt", **sample_fields(21, publishedDateTime="next tuesday"))
    code, output = run("check", articles)
    assert code == 1
    assert "noimage.txt: warning: no usable image" in output
    assert "noimage.txt: warning: empty excerpt" in output
    assert "not published, an older version of" in output
    assert "bad.txt: publishedDateTime is not a date" in output and "tuesday" not in output


def test_missing_article_folder_is_a_clear_error(tmp_path: Path) -> None:
    code, output = run("export", tmp_path / "nope", "--out", tmp_path / "out")
    assert code == 1 and "does not exist" in output


def test_default_articles_are_the_bundled_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./seeds here: falls back to the bundled sample articles
    code, output = run("export", "--out", "out")
    assert code == 0, output
    assert catalog(tmp_path / "out")["all:all"]["items"] == 50
    assert len([k for k in catalog(tmp_path / "out") if k.startswith("topic:")]) >= 20


def test_python_dash_m_feeds_works(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "feedpub", "--help"], capture_output=True, text=True,
                            cwd=tmp_path, env=dict(os.environ))
    assert result.returncode == 0 and "export" in result.stdout and "serve" in result.stdout


def test_the_console_script_ends_an_export_at_once_and_leaves_nothing_undone(
        articles: Path, write_article: Callable[..., Path], tmp_path: Path) -> None:
    """`run` ends a finished export with `os._exit`: the files, the cache's fragments, the record and
    every line of the report must all be out by then; a failed export ends the usual way, with its code."""
    out, cache = tmp_path / "out", tmp_path / "cache"

    def script(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "feedpub", "export", articles, "--base-url", BASE,
                               "--cache-dir", cache, *args], capture_output=True, text=True, cwd=tmp_path, timeout=120)

    first = script("--out", out)
    assert first.returncode == 0, first.stderr
    assert first.stderr.rstrip().splitlines()[-1].startswith("29 files in"), first.stderr
    code, reference = run("export", articles, "--out", tmp_path / "reference", "--no-cache")
    assert code == 0, reference
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == {
        p.relative_to(tmp_path / "reference"): p.read_bytes() for p in (tmp_path / "reference").rglob("*") if p.is_file()}
    again = script("--out", out)  # the record of the first is in the cache: nothing to do
    assert again.returncode == 0 and "is up to date" in again.stderr, again.stderr
    warm = Build(articles, Settings(base_url=BASE), cache_dir=cache)  # every fragment went to the cache
    loaded(warm)
    assert [renderer.rendered_items for renderer in warm.builder.fragments] == [0] * len(warm.builder.fragments)
    write_article("broken.txt", "---\ntitle: [unclosed\n---\n")
    strict = script("--out", out, "--strict")
    assert strict.returncode == 1 and "(--strict): nothing written" in strict.stderr, strict.stderr


def test_an_unchanged_rerun_stops_early_and_replays_the_report(articles: Path, write_article: Callable[..., Path],
                                                                 tmp_path: Path) -> None:
    write_article("broken.txt", "---\ntitle: [unclosed\n---\n")
    out = tmp_path / "out"
    code, first = run("export", articles, "--out", out)
    assert code == 0, first
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    code, second = run("export", articles, "--out", out)
    assert code == 0, second
    assert "is up to date" in second and "broken.txt: invalid YAML" in second
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes
    code, strict = run("export", articles, "--out", out, "--strict")
    assert code == 1 and "1 bad file (--strict)" in strict


def test_an_export_removed_or_replaced_by_hand_is_made_again(articles: Path, tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "out"
    assert run("export", articles, "--out", out)[0] == 0
    shutil.rmtree(out)
    code, output = run("export", articles, "--out", out)
    assert code == 0 and "is up to date" not in output and (out / "feeds/all.rss").is_file()
    shutil.copytree(out, tmp_path / "copy")  # the same files, another folder put in its place
    shutil.rmtree(out)
    (tmp_path / "copy").rename(out)
    (out / "feeds/all.rss").write_text("edited")
    code, output = run("export", articles, "--out", out)
    assert code == 0 and "is up to date" not in output and "<rss" in (out / "feeds/all.rss").read_text()


@pytest.mark.parametrize("change", ["edit", "settings", "no-cache"])
def test_any_change_makes_a_real_export(articles: Path, tmp_path: Path, change: str) -> None:
    out = tmp_path / "out"
    assert run("export", articles, "--out", out)[0] == 0
    extra: list[str] = []
    if change == "edit":
        (articles / "002.txt").write_text(article_text(**sample_fields(2, title="Edited")), encoding="utf-8")
    elif change == "settings":
        extra = ["--limit", "2"]
    else:
        extra = ["--no-cache"]
    code, output = run("export", articles, "--out", out, *extra)
    assert code == 0, output
    assert "is up to date" not in output
    if change == "edit":
        assert "Edited" in (out / "feeds/all.rss").read_text()


def test_a_scheduled_article_coming_due_makes_a_real_export(articles: Path, write_article: Callable[..., Path],
                                                             tmp_path: Path) -> None:
    from feedpub.export import export_folder
    from feedpub.stores.databases import default_cache_dir
    from feedpub.stores.export_record import ExportRecord

    write_article("soon.txt", **sample_fields(30, title="Scheduled", publishedDateTime="2999-01-01T00:00:00Z"))
    out = tmp_path / "out"
    assert run("export", articles, "--out", out)[0] == 0
    records = ExportRecord.of(default_cache_dir(), export_folder(out))
    record = records.inputs(export_folder(out))
    assert record is not None and record["next_due"] == "2999-01-01T00:00:00Z"
    records.record_inputs(export_folder(out), {**record, "next_due": "2000-01-01T00:00:00Z"})  # as if that time had come
    code, output = run("export", articles, "--out", out)
    assert code == 0 and "is up to date" not in output


def test_export_takes_max_age_as_serve_and_deploy_do(articles: Path, tmp_path: Path) -> None:
    """`--max-age` on the command line gives an export the bytes serve --max-age serves: the RSS polling
    hints and `_headers` say it."""
    code, output = run("export", articles, "--out", tmp_path / "out", "--max-age", "60")
    assert code == 0, output
    assert "<ttl>1</ttl>" in (tmp_path / "out/feeds/all.rss").read_text()
    assert "Cache-Control: public, max-age=60" in (tmp_path / "out/_headers").read_text()
    config = tmp_path / "feedpub.yaml"
    config.write_text(f"max_age: 60\nbase_url: {BASE}\n")
    code, output = run("export", articles, "--out", tmp_path / "by-config", "--config", config)
    assert code == 0, output
    assert {p.relative_to(tmp_path / "out"): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == \
        {p.relative_to(tmp_path / "by-config"): p.read_bytes() for p in (tmp_path / "by-config").rglob("*") if p.is_file()}


def test_version_names_each_c_accelerator_and_whether_it_is_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from feedpub import accelerators
    from feedpub.reading import fast_article, fast_yaml
    from feedpub.reading import folder as survey
    from feedpub.render import fast_items

    code, output = run("--version")
    assert code == 0 and output.startswith("feedpub ")
    for name, module in (("YAML reader", fast_yaml), ("article builder", fast_article), ("item writer", fast_items),
                         ("folder survey", survey)):
        said = output.split(f"{name} ", 1)[1].split(";")[0].strip()
        assert said.startswith("on") == module.BUILT, (name, said)
        if not module.BUILT:
            assert said.startswith("not built") or "another feedpub version" in said
    if os.environ.get("FEEDPUB_REQUIRE_ACCELERATOR") == "1":  # CI builds every one
        assert output.count(" on") == 4, output
    monkeypatch.setenv(accelerators.SWITCH, "0")
    code, output = run("--version")
    built = [module.BUILT for module in (fast_yaml, fast_article, fast_items, survey)]
    assert code == 0 and output.count(f"off ({accelerators.SWITCH}=0)") == sum(built), output
