"""Real web servers for the hosting tests: nginx and Caddy, run from the examples in `examples/`
(the files the README shows) with only their ports and paths replaced.

Each runs as this user, in a folder of its own under the test's tmp_path, and is stopped by the
fixture that started it. A missing server fails the test with what to install: `.ci/run` installs
both with apt.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT

EXAMPLES = ROOT / "examples"
STARTUP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def binary(name: str, *also: str) -> str:
    found = shutil.which(name) or next((path for path in also if os.access(path, os.X_OK)), None)
    if found is None:
        raise AssertionError(f"{name} is not installed: `sudo apt-get install -y {name}` (.ci/run does)")
    return found


def example(name: str, replacements: dict[str, str]) -> str:
    """An example file with `replacements` made, each of which must be found in it."""
    text = (EXAMPLES / name).read_text("utf-8")
    for old, new in replacements.items():
        assert old in text, f"examples/{name} no longer holds {old!r}: update the test with the example"
        text = text.replace(old, new)
    return text


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise AssertionError(f"nothing listens on {port} after {STARTUP_TIMEOUT_S} s:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes], how: int) -> None:
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


NGINX_MAIN = """\
{user}worker_processes 1;
pid {home}/nginx.pid;
error_log {home}/error.log info;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format cache '$request_method $request_uri $status cache=$upstream_cache_status '
                     'upstream=$upstream_status via=$upstream_addr';
    access_log {home}/access.log cache;
    client_body_temp_path {home}/tmp/body;
    proxy_temp_path {home}/tmp/proxy;
    fastcgi_temp_path {home}/tmp/fastcgi;
    uwsgi_temp_path {home}/tmp/uwsgi;
    scgi_temp_path {home}/tmp/scgi;
    include {home}/site.conf;
}}
"""


class Nginx:
    """nginx with one site configuration (a server block and what goes beside it in `http`)."""

    def __init__(self, home: Path, site: str, port: int) -> None:
        self.home, self.port = home, port
        (home / "tmp").mkdir(parents=True)
        (home / "site.conf").write_text(site, "utf-8")
        # As root, nginx's workers would drop to `nobody`, who cannot read the tests' private folders.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (home / "nginx.conf").write_text(NGINX_MAIN.format(user=user, home=home), "utf-8")
        command = [binary("nginx", "/usr/sbin/nginx"), "-p", str(home), "-c", str(home / "nginx.conf"),
                   "-e", str(home / "error.log"), "-g", "daemon off;"]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"nginx rejects the configuration:\n{checked.stderr}\n{site}"
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(port, self.process, home / "error.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def access_log(self) -> list[str]:
        return (self.home / "access.log").read_text("utf-8").splitlines()

    def stop(self) -> None:
        _stop(self.process, signal.SIGQUIT)  # a graceful stop: the workers finish what they serve


@contextmanager
def nginx(home: Path, site: str, port: int) -> Iterator[Nginx]:
    server = Nginx(home, site, port)
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Caddy:
    url: str


@contextmanager
def caddy(home: Path, caddyfile: str, port: int) -> Iterator[Caddy]:
    """Caddy with one Caddyfile, its admin API off and its state kept under `home`."""
    home.mkdir(parents=True)
    (home / "Caddyfile").write_text("{\n\tadmin off\n}\n\n" + caddyfile, "utf-8")
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    command = [binary("caddy"), "run", "--config", str(home / "Caddyfile"), "--adapter", "caddyfile"]
    with open(home / "caddy.log", "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, home / "caddy.log")
        yield Caddy(f"http://127.0.0.1:{port}")
    finally:
        _stop(process, signal.SIGTERM)
