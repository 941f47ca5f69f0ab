"""Screenshots of the front page and a feed page, as a person sees them, for the README.

    .venv/bin/python examples/screenshots.py [ARTICLES] [--out docs/screenshots]

Starts `feedpub serve` on the articles (the bundled seeds by default) on a free loopback port,
opens its pages in headless Chromium (Debian's `chromium` and `chromium-driver`) at 1280×900 and
390×844 (each once light and once dark, `SHOTS`), and writes a PNG of the window for each. Stops
the server it started.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
PAGES = {"front": "/", "feeds": "/#feeds", "form": "/#shape", "feed": "/feeds/topics/ai.html"}
# The front page (its top, its feeds, its form) and a feed page, at both sizes, light and dark.
SHOTS = [("front", "desktop", False), ("feeds", "phone", True), ("form", "desktop", True), ("feed", "desktop", True),
         ("feed", "phone", False)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def browser(width: int, height: int, dark: bool) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     f"--window-size={width},{height}", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    if dark:
        options.add_argument("--force-dark-mode")
        options.add_argument("--blink-settings=preferredColorScheme=0")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
    return driver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", nargs="?", type=Path, default=ROOT / "seeds")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as cache:
        server = subprocess.Popen([sys.executable, "-m", "feedpub", "serve", str(args.articles), "--port", str(port),
                                   "--cache-dir", cache, "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("feedpub serve did not start") from None
                    time.sleep(0.1)
            for page, size, dark in SHOTS:
                width, height = SIZES[size]
                driver = browser(width, height, dark)
                try:
                    driver.get(base + PAGES[page])
                    time.sleep(0.3)  # the script's answer from the server (the form's note)
                    name = args.out / f"{page}-{size}-{'dark' if dark else 'light'}.png"
                    driver.save_screenshot(str(name))
                    print(name.relative_to(ROOT) if name.is_relative_to(ROOT) else name)
                finally:
                    driver.quit()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
