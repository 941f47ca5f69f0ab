"""The `feedpub` command line: export, deploy, check, serve, generate."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import accelerators
from .export_target import export_folder
from .logs import plural, printable
from .reading import fast_yaml
from .reading.dates import rfc3339
from .reading.fast_yaml import accelerator
from .reading.folder import Folder, Survey
from .settings import Settings, SettingsError, load_settings
from .stores.databases import UnsafeFolder, default_cache_dir
from .stores.export_record import ExportRecord, fingerprint
from .stores.keys import StoreKeys

if TYPE_CHECKING:  # the builder, renderers and writer load only when a command builds (not for an up-to-date export)
    from .build import Build, Summary
    from .export import ExportResult
    from .render.site import Site


def _articles_argument(function: Callable[..., Any]) -> Callable[..., Any]:
    # click gives arguments no help text: each command's description says what ARTICLES is.
    return click.argument(
        "articles", required=False, type=click.Path(file_okay=False, path_type=Path), metavar="[ARTICLES]"
    )(function)


def _cache_options(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Where parsed articles are cached (default: $XDG_CACHE_HOME/feedpub)."),
        click.option("--no-cache", is_flag=True, help="Parse every file; read and write no cache."),
        click.option("--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="CPU count",
                     help="Processes that parse files when there are many."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def reading(options: dict[str, Any]) -> dict[str, Any]:
    """Pop the cache options off the flags: how to read the folder, not what to publish."""
    cache_dir = options.pop("cache_dir", None)
    no_cache = options.pop("no_cache", False)
    return {"cache_dir": None if no_cache else cache_dir or default_cache_dir(), "jobs": options.pop("jobs", 1)}


def _site_options(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--config", type=click.Path(dir_okay=False, path_type=Path),
                     help="Settings file (default: ./feedpub.yaml when present)."),
        click.option("--base-url", help="Absolute URL the site is served from; every link starts with it."),
        click.option("--limit", type=click.IntRange(min=1), help="Items per feed (default 50)."),
        click.option("--include-drafts", is_flag=True, default=None, help="Publish `published: false` articles too."),
        click.option("--include-future", is_flag=True, default=None, help="Publish articles dated in the future now."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


# Folders no one keeps articles in, whose walk would read the whole system (or other users' files).
SYSTEM_FOLDERS = frozenset({"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/proc",
                            "/root", "/run", "/sbin", "/sys", "/tmp", "/usr", "/var", "/var/tmp", "/Users", "/System",
                            "/Library", "/private", "/private/tmp"})


def bundled_seeds() -> Path:
    """The sample articles installed with feedpub (the package `feedpub.seeds`)."""
    from importlib.resources import files

    return Path(str(files("feedpub.seeds")))


def resolve_articles(articles: Path | None) -> Path:
    """ARTICLES, else ./seeds, else the sample articles bundled with feedpub."""
    if articles is None:
        articles = Path("seeds") if Path("seeds").is_dir() else bundled_seeds()
    if not articles.is_dir():
        raise click.ClickException(f"article folder {articles} does not exist; give the folder of article files")
    resolved = articles.resolve()
    if str(resolved) in SYSTEM_FOLDERS:
        what = "the root of the file system" if resolved == Path(resolved.anchor) else "a system folder"
        raise click.ClickException(f"{articles} is {what} ({resolved}), not an article folder: reading it would "
                                   "walk every file under it. Give the folder that holds the article files")
    return articles


def make_settings(config: Path | None, **flags: Any) -> Settings:
    try:
        return load_settings(config).replace(**flags)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def load_build(articles: Path, settings: Settings, *, surveyed: list[Survey] | None = None,
               meanwhile: Callable[[], None] | None = None, **read: Any) -> Build:
    """A build of the whole folder, as surveyed when that was done already (one walk and one stat of
    each file per command, not one for the count, one for the export's fingerprint and one to read).
    The survey is handed over in a list, which this empties: held by no caller, it goes once the files
    are read, not after the whole build (~20 MB at 100k files). `meanwhile`: as `Build.load`'s."""
    from .build import Build
    from .progress import Progress

    build = Build(articles, settings, **read)
    if not surveyed:
        surveyed = [build.folder.survey()]
    with Progress() as progress:
        reading = progress.reading(len(surveyed[0]))
        build.load(progress=reading, rendering=progress.rendering, survey=surveyed.pop(), meanwhile=meanwhile)
    return build


def no_articles(root: Path, survey: Survey | None = None) -> str | None:
    """What to say when the folder holds no article file at all (a wrong folder, or a typo); from its
    `survey` when one was taken (a second walk of 100,000 files costs ~0.2 s)."""
    found = bool(survey) if survey is not None else Folder(root).has_articles()
    if found:
        return None
    return f"{root} holds no article files (*.txt or *.md, in it or in folders below it)"


def report_lines(summary: Summary) -> list[str]:
    lines = [f"{path}: {reason}" for path, reason in summary.bad]
    # Named by the files left out, as a bad file is: the line says what happened to them. A draft's
    # URL is never printed.
    lines += [f"{', '.join(d.dropped)}: not published, "
              f"{'an older version' if len(d.dropped) == 1 else 'older versions'} of {d.kept} (the same URL" + (
        "); the newest version is a draft, so the article is not published" if d.draft else
        f", {d.url}), which is published") for d in summary.duplicates]
    return lines


def report(summary: Summary, *, each_duplicate: bool = True) -> list[str]:
    """Print the bad files and duplicates; returns the lines (an export records them for reruns).

    Without `each_duplicate` the duplicates are one line: they are warnings, and an export repeats
    them on every run until the files change (`feedpub check` lists each)."""
    if each_duplicate or not summary.duplicates:
        lines = report_lines(summary)
    else:
        lines = report_lines(replace(summary, duplicates=()))
        lines.append(f"{plural(len(summary.duplicates), 'duplicate')}: files whose article another file publishes "
                     "too (the newest is published); `feedpub check` lists them")
    lines = [printable(line) for line in lines]
    for line in lines:
        click.echo(line, err=True)
    return lines


def _show_version(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    """`--version`: feedpub's, and whether each C accelerator is in use, and why not (README, Performance).
    Asked for only then: the other commands do not import the item writer before they need it."""
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import version

    from .reading import fast_article
    from .reading import folder as survey
    from .render import fast_items

    def state(built: bool, stale: bool, on: str = "on") -> str:
        if stale:
            return "off (built for another feedpub version: reinstall, `pip install -e .`)"
        if not built:
            return "not built (no C compiler or libyaml headers at install: Python alone, the same output)"
        return on if accelerators.enabled() else f"off ({accelerators.SWITCH}=0)"

    click.echo(f"feedpub {version('feedpub')}; C accelerators: "
               f"YAML reader {state(fast_yaml.BUILT, fast_yaml.STALE_BUILD, f'on (libyaml {accelerator()})')}; "
               f"article builder {state(fast_article.BUILT, fast_article.STALE_BUILD)}; "
               f"item writer {state(fast_items.BUILT, fast_items.STALE_BUILD)}; "
               f"folder survey {state(survey.BUILT, survey.STALE_BUILD)}")
    ctx.exit()


class _Main(click.Group):
    """The commands, with the errors any of them may meet said in one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UnsafeFolder as error:
            raise click.ClickException(str(error)) from None
        except KeyboardInterrupt:
            # Ctrl-C before serving (a long load) or during an export: one line, the shell's code.
            click.echo("\nfeedpub: interrupted", err=True)
            ctx.exit(130)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the version, and which C accelerators are in use, and exit.")
def main() -> None:
    """Publish a folder of news articles as RSS, Atom and JSON feeds: one of everything, one per topic
    and one per provider, served live or exported as static files.

    Run `feedpub COMMAND -h` for a command's options.
    """


@main.command(short_help="Write every feed, the index page, OPML and catalog to a folder as static files.")
@_articles_argument
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Folder to write the site to: a plain folder holding only the site, replaced in one step.")
@_site_options
@click.option("--max-age", type=click.IntRange(min=0),
              help="Cache-Control max-age in seconds (default 300), in `_headers` and the RSS polling hints.")
@click.option("--strict", is_flag=True, help="Any bad file fails the export (exit 1) and nothing is written.")
@click.option("--no-ping", is_flag=True, help="Do not tell the WebSub hubs (websub.hubs) which feeds changed.")
@_cache_options
def export(articles: Path | None, out: Path, config: Path | None, strict: bool, no_ping: bool, **flags: Any) -> None:
    """Write every feed, the index page, OPML and catalog to OUT as static files.

    An unchanged rerun stops after a walk of the folder; only changed files are written.
    ARTICLES is the folder of article files (*.txt, *.md, read recursively); by default ./seeds if
    there is one, else the sample articles installed with feedpub.
    """
    started = time.perf_counter()
    read = reading(flags)
    settings = make_settings(config, **flags)
    require_base_url(flags.get("base_url"), settings, "an export")
    root = resolve_articles(articles)
    if out.exists() and (out.resolve() == root.resolve() or root.resolve().is_relative_to(out.resolve())):
        which = "is the article folder" if out.resolve() == root.resolve() else "holds the article folder"
        raise click.ClickException(f"--out {out} {which} ({root}): the export takes the place of --out, so give "
                                   "another folder for it, e.g. --out site")
    surveyed = [Folder(root).survey()]  # taken before anything is read, as a stamp must be; `load_build` takes it
    empty = no_articles(root, surveyed[0])
    if empty:
        click.echo(f"feedpub: {empty}; the site has no articles", err=True)
    folder = export_folder(out)
    record = ExportRecord.of(read["cache_dir"], folder) if read["cache_dir"] else None
    inputs = fingerprint(surveyed[0], StoreKeys(settings).export()) if record else None
    previous = record.inputs(folder) if record else None
    due = previous.get("next_due") if previous else None
    if previous and previous.get("inputs") == inputs and (not due or str(due) > rfc3339(datetime.now(UTC))):
        # Same files, settings and code as the export in place: it would come out byte-identical.
        reported = previous.get("report")
        for line in reported if isinstance(reported, list) else []:
            click.echo(line, err=True)
        if strict and previous.get("bad"):
            raise click.ClickException(f"{plural(int(str(previous['bad'])), 'bad file')} (--strict): nothing written")
        click.echo(f"{out} is up to date: no article, setting or feedpub file changed; "
                   f"{time.perf_counter() - started:.2f} s", err=True)
        return
    # The fragments go to the cache from behind a spool, while the export is written (stores/write_behind.py).
    # The renderers and the writer are imported while the workers parse, when there are workers.
    build = load_build(root, settings, surveyed=surveyed, write_behind=True, meanwhile=_import_the_export, **read)
    from .export import ExportError, export_site

    summary = build.summary()
    lines = report(summary, each_duplicate=False)
    try:
        if strict and summary.bad:
            raise click.ClickException(f"{plural(len(summary.bad), 'bad file')} (--strict): nothing written")
        result = export_site(build.site, out, cache_dir=read["cache_dir"], jobs=read["jobs"])
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    finally:
        build.flush_fragments()  # the next run finds every fragment this one rendered
    if settings.websub.hubs and not no_ping and result.previous and result.changed:
        _ping_hubs(settings, result, build.site)
    if record:
        due_next = build.next_due()
        record.record_inputs(folder, {"inputs": inputs, "report": [*lines, summary.describe()], "bad": len(summary.bad),
                                      "next_due": rfc3339(due_next) if due_next else None})
    click.echo(summary.describe(), err=True)
    if not result.atomic:
        click.echo(f"note: {out}'s filesystem cannot exchange two folders in one step (renameat2), so its files "
                   "were replaced one by one: a reader during the export may have seen old files beside new ones",
                   err=True)
    click.echo(
        f"{plural(result.files, 'file')} in {out}: {result.written} written, {result.removed} removed, "
        f"{result.files - result.written} unchanged; {time.perf_counter() - started:.2f} s",
        err=True,
    )
    if _ENDING is not None:  # the console script ends the process now: nothing need be freed (see `run`)
        _ENDING.append(build)


def _import_the_export() -> None:
    from . import export  # noqa: F401  # and with it the renderers (render.site)


def require_base_url(flag: str | None, settings: Settings, what: str) -> None:
    """Stop unless a base URL was given (`--base-url` or `base_url` in feedpub.yaml): the feeds' links
    must point where readers will fetch them, and a default would point them at this machine."""
    if flag is None and settings.base_url == Settings().base_url:
        raise click.ClickException(f"{what} needs the public URL the site is served from, since every link in "
                                   "the feeds starts with it: pass --base-url https://news.example.com or set "
                                   "base_url in feedpub.yaml")


def _ping_hubs(settings: Settings, result: ExportResult, site: Site) -> None:
    """WebSub: ping the outside hubs for the feeds whose bytes this export changed, now that the new
    tree is in place; a failure is reported, never fatal. A first export pings nothing (the caller
    checks): nobody can have subscribed through a feed that was not published yet."""
    from .render.websub import changed_topics, topic_url, topics

    unchanged = {topic_url(settings, path): output.etag for path, output in site.items()
                 if path not in result.changed_paths}
    announce(settings, changed_topics(unchanged, topics(settings, site)))


def announce(settings: Settings, changed: list[str]) -> None:
    """Ping every outside hub for the `changed` topics (URLs) and print what came of it."""
    if not changed:
        return
    from .pings import ping_hubs  # httpx loads only when there is something to ping

    errors = ping_hubs(settings.websub.hubs, changed)
    for error in errors:
        click.echo(f"websub: {error}", err=True)
    hubs = len(settings.websub.hubs)
    click.echo(f"websub: {plural(len(changed), 'changed feed')} announced to {plural(hubs, 'hub')}"
               + (f" ({len(errors)} failures)" if errors else ""), err=True)


@main.command(short_help="List every problem and warning in the article folder; write nothing.")
@_articles_argument
@_site_options
@_cache_options
def check(articles: Path | None, config: Path | None, **flags: Any) -> None:
    """List every problem and warning in the article folder without writing anything; exit 1 if any
    file is bad or there is no article file at all. Takes the publishing options of `export`, so it
    counts what that export would publish.

    ARTICLES is the folder of article files (*.txt, *.md, read recursively); by default ./seeds if
    there is one, else the sample articles installed with feedpub.
    """
    read = reading(flags)
    settings = make_settings(config, **flags)
    root = resolve_articles(articles)
    empty = no_articles(root)
    if empty:
        raise click.ClickException(empty)
    build = load_build(root, settings, **read)
    summary = build.summary()
    report(summary)
    for rel, warning in build.warnings():
        click.echo(printable(f"{rel}: warning: {warning}"), err=True)
    # Passed over in silence by a build (an export or server must never block on a FIFO, and a broken
    # link may be a sync under way); a check says so, so that a missing article has its reason.
    for rel, what in build.folder.not_read(build.library.known()):
        click.echo(printable(f"{rel}: warning: not read: {what}"), err=True)
    click.echo(summary.describe(), err=True)
    if summary.bad:
        sys.exit(1)


@main.command(short_help="Serve every feed live, kept current as article files change.")
@_articles_argument
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@_site_options
@click.option("--max-age", type=click.IntRange(min=0), help="Cache-Control max-age in seconds (default 300).")
@click.option("--quiet", is_flag=True, help="No access log; only warnings and errors.")
@click.option("--access-log", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Append the access log to FILE, reopened on SIGHUP (for logrotate), instead of standard output.")
@_cache_options
def serve(articles: Path | None, host: str, port: int, config: Path | None, quiet: bool,
          access_log: Path | None, base_url: str | None, **flags: Any) -> None:
    """Serve every feed live and keep it current as article files change; GET /healthz says how it is.

    ARTICLES is the folder of article files (*.txt, *.md, read recursively); by default ./seeds if
    there is one, else the sample articles installed with feedpub.
    """
    from .server.run import ServeError, run  # uvicorn and Starlette load only when serving

    if quiet and access_log is not None:
        raise click.UsageError("--quiet turns the access log off and --access-log sends it to a file: give one of them")
    read = reading(flags)
    settings = make_settings(config, base_url=base_url, **flags)
    # Without a base URL, links use the address the server really listens on (known once bound).
    given = base_url is not None or settings.base_url != Settings().base_url
    try:
        run(resolve_articles(articles), settings, host=host, port=port, quiet=quiet, access_log=access_log,
            base_url_given=given, **read)
    except ServeError as error:
        raise click.ClickException(str(error)) from None


@main.command(short_help="Publish the site to S3-compatible object storage, uploading only what changed.")
@click.argument("arguments", nargs=-1, required=True, metavar="[ARTICLES] s3://BUCKET/PREFIX")
@click.option("--endpoint-url", help="S3-compatible endpoint, e.g. https://s3.example.net (default: AWS).")
@click.option("--region", help="The bucket's region (default: from the AWS config or environment).")
@click.option("--profile", help="AWS profile for credentials and settings (default: AWS_PROFILE, else default).")
@click.option("--gzip", "compress", is_flag=True,
              help="Store bodies gzip-compressed with Content-Encoding: gzip (for clients that all accept gzip).")
@click.option("--dry-run", is_flag=True, help="Print what would be uploaded and deleted; change nothing.")
@click.option("--max-deletes", type=click.IntRange(min=0), default=256, show_default=True,
              help="Refuse, before uploading anything, when more objects than this would be deleted.")
@_site_options
@click.option("--max-age", type=click.IntRange(min=0), help="Cache-Control max-age in seconds (default 300).")
@click.option("--strict", is_flag=True, help="Any bad file fails the deploy (exit 1) and nothing is changed.")
@click.option("--no-ping", is_flag=True, help="Do not tell the WebSub hubs (websub.hubs) which feeds changed.")
@_cache_options
def deploy(arguments: tuple[str, ...], endpoint_url: str | None, region: str | None, profile: str | None,
           compress: bool, dry_run: bool, max_deletes: int, config: Path | None, strict: bool, no_ping: bool,
           base_url: str | None, **flags: Any) -> None:
    """Publish the site to S3-compatible object storage, uploading only what changed.

    Every object gets its Content-Type and Cache-Control; objects under PREFIX that are no longer
    part of the site are deleted after every upload, and nothing outside PREFIX is touched.
    ARTICLES is the folder of article files (*.txt, *.md, read recursively); by default ./seeds if
    there is one, else the sample articles installed with feedpub.
    """
    from .deploy.command import run_deploy  # boto3 loads only when deploying

    if len(arguments) > 2 or not arguments[-1].startswith("s3://"):
        raise click.UsageError("give the article folder (optional) and then the target, like "
                               "`feedpub deploy articles s3://my-bucket/news`")
    articles = Path(arguments[0]) if len(arguments) == 2 else None
    read = reading(flags)
    settings = make_settings(config, base_url=base_url, **flags)
    require_base_url(base_url, settings, "a deploy")
    run_deploy(resolve_articles(articles), settings, arguments[-1], read=read, endpoint_url=endpoint_url,
               region=region, profile=profile, compress=compress, dry_run=dry_run, max_deletes=max_deletes,
               strict=strict, ping=not no_ping)


@main.command(short_help="Write realistic sample articles to a folder, deterministically.")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.argument("count", type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, help="Same seed, same files.")
@click.option("--topics", default=24, show_default=True, type=click.IntRange(min=1), help="How many topics to draw from.")
@click.option("--providers", default=36, show_default=True, type=click.IntRange(min=1),
              help="How many providers (publications) to draw from.")
@click.option("--body-bytes", default=0, show_default=True, help="Pad each article to about this size.")
@click.option("--force", is_flag=True, help="Write into a folder that holds other files (sample-like ones are replaced).")
def generate(out: Path, count: int, seed: int, topics: int, providers: int, body_bytes: int, force: bool) -> None:
    """Write COUNT realistic sample articles to the folder OUT, deterministically (for trying and
    benchmarking). A rerun into a folder it made replaces its files; a folder that holds anything
    else is refused unless --force, since files in it that look like samples would be deleted."""
    from .corpus import generate as make

    marker = out / GENERATED_MARKER
    if out.exists() and not force and not marker.exists() and any(out.iterdir()):
        raise click.ClickException(f"{out} is not empty and was not made by `feedpub generate`: its files that look "
                                   "like samples would be replaced or deleted. Give an empty or new folder, or "
                                   "pass --force")
    started = time.perf_counter()
    files = make(out, count, seed=seed, topics=topics, providers=providers, body_bytes=body_bytes)
    marker.write_text("made by feedpub generate: a rerun may replace the sample files here\n", encoding="utf-8")
    click.echo(f"{plural(len(files), 'article')} written to {out} in {time.perf_counter() - started:.2f} s",
               err=True)


GENERATED_MARKER = ".feedpub-generated"  # hidden: never read as an article


# What a finished command leaves to the end of the process, when `run` ends it; None when `main` is
# called some other way (a test's CliRunner), which must free what it built.
_ENDING: list[object] | None = None


def run() -> None:
    """The console script: `main`, and once an export is done, an end without the interpreter's teardown.

    Freeing what a cold export built (the catalogue, the documents, ~240 MB at 10k articles) and the
    interpreter's finalisation took ~0.1 s of a 1.4 s export, with nothing left to do by then: the
    files are in place, the fragments in the cache, the hubs told and the record written, the worker
    pools and threads shut down. So the process ends as mypy's does (`util.hard_exit`): logging shut
    down and the standard streams flushed, then `os._exit`. Any other command, or any failure,
    ends the usual way."""
    global _ENDING
    _ENDING = []
    try:
        main(prog_name="feedpub")
    except SystemExit as end:
        if not _ENDING or end.code not in (None, 0):
            raise
    if not _ENDING:
        return
    logging.shutdown()
    code = 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what the interpreter's own exit would report
            code = 120
    os._exit(code)
