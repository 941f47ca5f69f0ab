"""Carrying out a deploy plan on S3-compatible object storage, through boto3.

The thin side of `feedpub deploy`: list the prefix, read the metadata the plan needs, upload wave
by wave, delete last. Every request has connect and read timeouts and a bounded number of
attempts; every failure becomes a `DeployError` whose message says what to check, raised before
any delete. What to do is decided in `deploy/plan.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from .plan import Plan, RemoteObject, SiteObject, Target, Upload, needs_metadata

CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 60
MAX_ATTEMPTS = 5  # the first try and four retries, with botocore's backoff ("standard" mode)
THREADS = 8  # requests in flight: objects are small, so latency, not bandwidth, bounds a deploy
DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes

# put_object's parameter for each stored header (plan.STORED_HEADERS, and Content-Encoding).
_PUT_PARAMETERS = {"Content-Type": "ContentType", "Cache-Control": "CacheControl",
                   "Content-Encoding": "ContentEncoding"}

_CREDENTIALS_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
                      "TokenRefreshRequired", "InvalidClientTokenId", "UnrecognizedClientException"}
_REGION_CODES = {"AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException"}

Progress = Callable[[int], object]


class DeployError(RuntimeError):
    """The deploy could not go on; nothing was deleted. The message says what to check."""


@dataclass(frozen=True, slots=True)
class Result:
    uploaded: int
    unchanged: int
    deleted: int
    bytes: int
    seconds: float


def make_client(*, endpoint_url: str | None = None, region: str | None = None, profile: str | None = None) -> Any:
    """An S3 client from the standard AWS chain (environment, config files, `profile`)."""
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        max_pool_connections=THREADS,
    )
    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
        return session.client("s3", endpoint_url=endpoint_url, config=config)
    except ProfileNotFound:
        raise DeployError(f"AWS profile {profile!r} is not in ~/.aws/config or ~/.aws/credentials; "
                          "name one that is (--profile or AWS_PROFILE)") from None
    except ValueError as error:  # a malformed --endpoint-url
        raise DeployError(f"cannot use --endpoint-url {endpoint_url!r}: {error}") from None
    except BotoCoreError as error:
        raise DeployError(f"cannot set up the S3 client: {error}") from None


def describe(error: Exception, target: Target, endpoint: str, doing: str) -> str:
    """A message for a failed request that says what went wrong and what to check."""
    where = f"{target.url} at {endpoint}"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return ("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, name a profile "
                "with --profile or AWS_PROFILE, or add them to ~/.aws/credentials")
    if isinstance(error, CredentialRetrievalError):
        return f"cannot get AWS credentials: {error}"
    if isinstance(error, BotoConnectionError):
        return (f"cannot reach the S3 endpoint {endpoint} while {doing} ({error}); "
                "check --endpoint-url and that the storage is up and reachable")
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = str(info.get("Code", ""))
        message = info.get("Message") or code
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket":
            return (f"bucket {target.bucket!r} does not exist at {endpoint}; "
                    "create it first, or check the bucket name, --endpoint-url and --region")
        if code in _CREDENTIALS_CODES:
            return (f"{endpoint} refused the credentials ({code}: {message}); check AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY, or the profile (--profile, AWS_PROFILE)")
        if code in _REGION_CODES or status == 301:
            return (f"bucket {target.bucket!r} is in another region than the one used ({code}: {message}); "
                    "pass its region with --region")
        if code == "AccessDenied" or status == 403:
            return (f"access denied while {doing} in {where} ({message}); the credentials need s3:ListBucket, "
                    "s3:GetObject, s3:PutObject and s3:DeleteObject on the bucket and prefix")
        return f"S3 error while {doing} in {where}: {code or status}: {message}"
    return f"S3 request failed while {doing} in {where}: {error}"


@contextmanager
def _requests(client: Any, target: Target, doing: str) -> Iterator[None]:
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise DeployError(describe(error, target, client.meta.endpoint_url, doing)) from None


def list_remote(client: Any, target: Target) -> list[RemoteObject]:
    """Every object under the prefix (the listing asks for the prefix; each key is checked too)."""
    found: list[RemoteObject] = []
    with _requests(client, target, "listing the objects"):
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=target.list_prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                if target.path_of(item["Key"]) is not None:
                    found.append(RemoteObject(item["Key"], item.get("ETag", ""), int(item.get("Size", 0))))
    return found


def read_metadata(client: Any, target: Target, objects: Sequence[SiteObject],
                  listing: Sequence[RemoteObject]) -> list[RemoteObject]:
    """The listing with the metadata of each object the plan has to look inside (HEAD requests).

    An object whose ETag already shows changed bytes is uploaded anyway, so it is not read; one
    that vanished since the listing is left out, as if it had never been listed.
    """
    by_key = {target.key(obj.path): obj for obj in objects}
    todo = [item for item in listing if item.key in by_key and needs_metadata(by_key[item.key], item)]
    if not todo:
        return list(listing)

    def head(item: RemoteObject) -> RemoteObject | None:
        try:
            answer = client.head_object(Bucket=target.bucket, Key=item.key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return RemoteObject(item.key, answer.get("ETag", item.etag), int(answer.get("ContentLength", item.size)),
                            {name.lower(): value for name, value in answer.get("Metadata", {}).items()})

    with _requests(client, target, "reading object metadata"):
        read = dict(zip((item.key for item in todo), _parallel(head, todo), strict=True))
    result: list[RemoteObject] = []
    for item in listing:
        fresh = read.get(item.key, item)
        if fresh is not None:
            result.append(fresh)
    return result


def execute(client: Any, target: Target, plan: Plan, *, progress: Progress | None = None) -> Result:
    """Upload wave by wave, then delete; a failure stops before the next wave and before any delete."""
    started = time.perf_counter()
    tick = progress or (lambda n: None)

    def put(upload: Upload) -> None:
        obj = upload.obj
        parameters = {_PUT_PARAMETERS[name]: value for name, value in obj.headers.items()}
        client.put_object(Bucket=target.bucket, Key=upload.key, Body=obj.body, ContentMD5=obj.content_md5,
                          Metadata=obj.metadata, **parameters)
        tick(1)

    for wave in plan.waves():
        with _requests(client, target, f"uploading {len(wave)} objects"):
            _parallel(put, wave)
    deleted = 0
    for start in range(0, len(plan.deletes), DELETE_BATCH):
        batch = plan.deletes[start:start + DELETE_BATCH]
        outside = [key for key in batch if target.path_of(key) is None]
        if outside:  # the planner never does this; a bug there must not reach another prefix
            raise DeployError(f"refusing to delete {outside[0]!r}: it is outside {target.url}")
        with _requests(client, target, f"deleting {len(batch)} objects"):
            answer = client.delete_objects(Bucket=target.bucket,
                                           Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})
        errors = answer.get("Errors", [])
        if errors:
            first = errors[0]
            raise DeployError(f"{len(errors)} of {len(batch)} deletes in {target.url} failed, the first "
                              f"{first.get('Key')!r}: {first.get('Code')}: {first.get('Message')}")
        deleted += len(batch)
        tick(len(batch))
    return Result(uploaded=len(plan.uploads), unchanged=len(plan.unchanged), deleted=deleted,
                  bytes=plan.upload_bytes, seconds=time.perf_counter() - started)


def _parallel(function: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """`function` over `items` on THREADS threads, results in order; the first error cancels the rest."""
    if len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(THREADS, len(items))) as pool:
        futures: list[Future[Any]] = [pool.submit(function, item) for item in items]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            error = future.exception() if future.done() else None
            if error is not None:
                for other in futures:
                    other.cancel()  # requests already in flight finish; none new start
                raise error
        return [future.result() for future in futures]
