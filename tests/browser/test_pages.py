"""The front page and a feed page in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`, which `.ci/run` installs) through Selenium, against a real `feedpub serve` and a
static copy of the export. They load without console errors, the search box narrows the list, the
form builds a URL that gives a real filtered feed (or says the static copy cannot filter), every
link resolves, nothing is wider than a phone, and axe-core finds nothing serious or critical, light
or dark. These fail, never skip, when the browser is missing.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx
import pytest
from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from feedpub.build import Build
from feedpub.settings import Settings
from tests.helpers import SEEDS
from tests.live_server import Server, servers

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# The current axe-core from npm when .ci/run fetched it; else the one axe-selenium-python bundles.
NPM_AXE = ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
FEED_PAGE = "/feeds/topics/ai.html"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _one_server(tmp_path_factory.mktemp("browser"))


def _one_server(tmp: Path) -> Iterator[Server]:
    for start in servers(tmp):
        yield start(SEEDS)


@pytest.fixture(scope="module")
def static(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The export of the same articles, served as plain files (as any static host does)."""
    out = tmp_path_factory.mktemp("static") / "site"
    build = Build(SEEDS, Settings())
    build.load()
    for path, output in build.site.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(output.body)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(base + "/index.html", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the static file server did not start"
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=5)


def chrome(width: int = 1280, height: int = 900, *, dark: bool = False) -> webdriver.Chrome:
    assert CHROMIUM.exists() and DRIVER.exists(), "apt-get install chromium chromium-driver (.ci/run does)"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(20)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    driver = chrome()
    try:
        yield driver
    finally:
        driver.quit()


def page_errors(driver: webdriver.Chrome, origin: str) -> list[str]:
    """Console errors of the page itself. Pictures on other sites cannot load here (no network), and
    a browser says so in the console: those are the articles' images, not errors of the page."""
    errors = []
    for entry in driver.get_log("browser"):
        if entry["level"] != "SEVERE":
            continue
        message = entry["message"]
        if "Failed to load resource" in message and not message.startswith(origin):
            continue
        errors.append(message)
    return errors


def settled(driver: webdriver.Chrome) -> None:
    """Wait until the front page's script has heard from the server (its note changes)."""
    first = "Filters work where"
    WebDriverWait(driver, 10).until(lambda d: not d.find_element(By.ID, "shape-note").text.startswith(first))


def test_the_pages_load_without_console_errors(browser: webdriver.Chrome, live: Server) -> None:
    for path in ("/", FEED_PAGE):
        browser.get(live.base + path)
        if path == "/":
            settled(browser)
        assert browser.execute_script("return document.readyState") == "complete"
        assert page_errors(browser, live.base) == [], path
    assert browser.title.startswith("AI")


def test_the_search_box_narrows_the_list(browser: webdriver.Chrome, live: Server) -> None:
    browser.get(live.base + "/")
    rows = browser.find_elements(By.CSS_SELECTOR, "ul.feeds > li")
    assert len(rows) == len(live.catalog()["feeds"])  # every feed is listed, script or not
    find = browser.find_element(By.ID, "find")
    find.send_keys("health")
    shown = [row for row in rows if row.is_displayed()]
    assert 0 < len(shown) < len(rows)
    assert all("health" in row.text.lower() for row in shown)
    assert browser.find_element(By.ID, "found").text == f"{len(shown)} of {len(rows)} feeds"
    assert not browser.find_element(By.ID, "providers").is_displayed() or any(
        "/providers/" in (row.get_attribute("innerHTML") or "") for row in shown)
    find.clear()
    find.send_keys(" ")
    assert all(row.is_displayed() for row in rows)


def test_the_form_builds_the_url_of_a_real_filtered_feed(browser: webdriver.Chrome, live: Server) -> None:
    browser.get(live.base + "/")
    settled(browser)
    assert browser.find_element(By.ID, "q-filter").is_enabled()
    browser.find_element(By.ID, "q-filter").send_keys("AI|chip")
    Select(browser.find_element(By.ID, "q-topic")).select_by_value("ai")
    browser.find_element(By.ID, "q-limit").send_keys("5")
    browser.find_element(By.ID, "q-case").click()
    Select(browser.find_element(By.ID, "q-format")).select_by_value("atom")
    url = browser.find_element(By.ID, "q-output").text
    assert url == browser.find_element(By.ID, "q-url").get_attribute("href")
    assert url == f"{live.base}/feeds/all.atom?topic=ai&filter=AI%7Cchip&filter_case_sensitive=false&limit=5"
    answer = httpx.get(url)
    assert answer.status_code == 200
    feed = feedparser.parse(answer.content)
    assert not feed.bozo and 0 < len(feed.entries) <= 5
    for entry in feed.entries:
        assert "ai" in [tag.term.lower() for tag in entry.tags]
        assert any(word in (entry.title + entry.summary).lower() for word in ("ai", "chip"))
    # Its self link is the URL the form showed, with the site's base: the canonical query.
    path = urlsplit(url)
    self_link = next(link.href for link in feed.feed.links if link.rel == "self")
    assert urlsplit(self_link)._replace(scheme="", netloc="") == path._replace(scheme="", netloc="")


def test_a_static_copy_says_it_cannot_filter(static: str) -> None:
    driver = chrome()
    try:
        driver.get(static + "/index.html")
        settled(driver)
        assert "cannot filter" in driver.find_element(By.ID, "shape-note").text
        assert not driver.find_element(By.ID, "q-filter").is_enabled()
        assert not driver.find_element(By.ID, "q-result").is_displayed()
        assert page_errors(driver, static) == []
    finally:
        driver.quit()


def test_every_link_resolves(browser: webdriver.Chrome, live: Server, static: str) -> None:
    for base in (live.base, static):
        for path in ("/index.html", FEED_PAGE):
            browser.get(base + path)
            hrefs = browser.execute_script(
                "return Array.from(document.querySelectorAll('a[href], link[href]'), e => e.href)")
            own = sorted({href.split("#")[0] for href in hrefs if href.startswith(base)})
            assert len(own) >= 5  # the feed page: its three formats, itself, the front page
            with httpx.Client(timeout=5) as client:
                for href in own:
                    assert client.get(href).status_code == 200, (base, path, href)
            anchors = browser.execute_script(
                "return Array.from(document.querySelectorAll('a[href^=\"#\"]'), e => e.getAttribute('href'))")
            for anchor in anchors:  # every jump link has its target on the page
                assert browser.find_elements(By.ID, anchor[1:]), anchor


@pytest.mark.parametrize("width, height", [(390, 844), (1280, 900)])
def test_nothing_is_wider_than_the_screen(live: Server, width: int, height: int) -> None:
    driver = chrome(width, height)
    try:
        for path in ("/", FEED_PAGE):
            driver.get(live.base + path)
            assert driver.execute_script("return document.documentElement.scrollWidth") <= width, path
        driver.get(live.base + "/")
        subscribe = driver.find_elements(By.CSS_SELECTOR, "ul.feeds ul.inline a")
        assert subscribe and all(link.rect["x"] >= 0 and link.rect["x"] + link.rect["width"] <= width for link in subscribe)
        # The topics can be reached at once: the jump link is near the top.
        jump = driver.find_element(By.CSS_SELECTOR, 'nav a[href="#topics"]')
        assert jump.rect["y"] < height
    finally:
        driver.quit()


def axe_script() -> str | None:
    return str(NPM_AXE) if NPM_AXE.exists() else None


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_axe_finds_nothing_serious_or_critical(live: Server, dark: bool) -> None:
    driver = chrome(dark=dark)
    try:
        found: dict[str, Any] = {}
        for path in ("/", FEED_PAGE):
            driver.get(live.base + path)
            axe = Axe(driver, axe_script()) if axe_script() else Axe(driver)
            axe.inject()
            results = axe.run(options={"resultTypes": ["violations"]})
            bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
            found[path] = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in bad]
            version = driver.execute_script("return axe.version")
        assert found == {"/": [], FEED_PAGE: []}, json.dumps(found, indent=1)
        print(f"axe-core {version}: no serious or critical violations ({'dark' if dark else 'light'})")
    finally:
        driver.quit()


def test_a_feed_page_needs_no_script(live: Server) -> None:
    body = httpx.get(live.base + FEED_PAGE).text
    assert "<script" not in body
    for fmt in ("rss", "atom", "json"):
        assert f'href="ai.{fmt}"' in body
    feed = feedparser.parse(httpx.get(urljoin(live.base + FEED_PAGE, "ai.atom")).content)
    pages = [link.href for link in feed.feed.links if link.rel == "alternate" and link.type == "text/html"]
    assert len(pages) == 1 and pages[0].endswith(FEED_PAGE)  # the feed links its page
