"""`run_deploy`, the `feedpub deploy` command: build the site, plan against the bucket, show or carry out the plan.

The order is the safe one: the bucket is listed first (a wrong endpoint, bucket or credential
fails before a long build), the delete bound is checked before anything is uploaded, and deletes
come only after every upload succeeded. Kept apart from `cli.py` so boto3 loads only here.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..cli import announce, load_build, report
from ..render.headers import UnknownPathError
from ..settings import Settings
from .plan import Plan, TargetError, announced_topics, parse_target, plan, site_objects
from .s3 import DeployError, execute, list_remote, make_client, read_metadata


def run_deploy(root: Path, settings: Settings, url: str, *, read: dict[str, Any], endpoint_url: str | None,
               region: str | None, profile: str | None, compress: bool, dry_run: bool, max_deletes: int,
               strict: bool, ping: bool = True) -> None:
    """Deploy the articles under `root` to `url` (s3://BUCKET/PREFIX); a refusal or failure raises a
    `click.ClickException` (exit 1) that says what was and was not changed, a bad target a UsageError.
    With `ping` and outside WebSub hubs configured, the hubs are told of the feeds whose bytes changed
    once every upload and delete is done."""
    started = time.perf_counter()
    try:
        target = parse_target(url)
    except TargetError as error:
        raise click.UsageError(str(error)) from None
    try:
        client = make_client(endpoint_url=endpoint_url, region=region, profile=profile)
        listing = list_remote(client, target)
    except DeployError as error:
        raise click.ClickException(f"{error}; nothing was uploaded or deleted") from None

    build = load_build(root, settings, **read)
    summary = build.summary()
    report(summary)
    if strict and summary.bad:
        raise click.ClickException(f"{len(summary.bad)} bad files (--strict): nothing uploaded or deleted")
    click.echo(summary.describe(), err=True)
    built = time.perf_counter()

    try:
        objects = site_objects(build.site, settings, compress=compress)
    except UnknownPathError as error:
        raise click.ClickException(f"{error}; nothing was uploaded or deleted") from None
    try:
        listing = read_metadata(client, target, objects, listing)
    except DeployError as error:
        raise click.ClickException(f"{error}; nothing was uploaded or deleted") from None
    planned = plan(objects, listing, target)

    if dry_run:
        for line in describe_plan(planned):
            click.echo(line)
    if len(planned.deletes) > max_deletes:
        raise click.ClickException(
            f"{len(planned.deletes)} objects under {target.url} are no longer part of the site, more than "
            f"--max-deletes {max_deletes}: nothing was uploaded or deleted. Check the target and the article "
            f"folder (an emptied folder looks like a deleted site); --dry-run lists them, and "
            f"--max-deletes {len(planned.deletes)} allows them")
    if dry_run:
        click.echo(f"dry run, nothing changed: {target.url}: {len(objects)} objects: would upload "
                   f"{len(planned.uploads)} ({planned.upload_bytes:,} bytes), {len(planned.unchanged)} unchanged, "
                   f"would delete {len(planned.deletes)}; {time.perf_counter() - started:.2f} s", err=True)
        return

    try:
        with _progress(len(planned.uploads) + len(planned.deletes)) as tick:
            result = execute(client, target, planned, progress=tick)
    except DeployError as error:
        raise click.ClickException(f"{error}; the objects uploaded before it stay, nothing was deleted") from None
    for key in planned.deletes:
        click.echo(f"deleted {key}", err=True)
    click.echo(
        f"{target.url}: {len(objects)} objects: {result.uploaded} uploaded ({result.bytes:,} bytes), "
        f"{result.unchanged} unchanged, {result.deleted} deleted; {time.perf_counter() - started:.2f} s "
        f"(build {built - started:.2f} s, storage {time.perf_counter() - built:.2f} s)",
        err=True,
    )
    if ping and settings.websub.hubs:
        # After the deletes too: a hub that fetches a feed now gets what readers will.
        announce(settings, announced_topics(planned, settings))


def describe_plan(planned: Plan) -> list[str]:
    """One line per change, in the order a deploy makes them."""
    lines = [f"upload {u.key} ({u.reason}, {u.obj.size:,} bytes)" for u in planned.uploads]
    lines += [f"delete {key}" for key in planned.deletes]
    return lines


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], object]]:
    """A progress bar over uploads and deletes, on a terminal only (tqdm's disable=None)."""
    from tqdm import tqdm

    with tqdm(total=total, unit="object", file=sys.stderr, delay=0.5, disable=None, leave=False) as bar:
        yield bar.update
