"""The naive Python peer: what one would write in an afternoon with PyYAML and feedgen.

    python bench/naive.py CORPUS OUT [--limit 50]

One process: glob the folder, `yaml.load(..., Loader=yaml.CSafeLoader)` each front matter, skip drafts
and unusable records, fold duplicate URLs (last file wins), group by all / topic / provider, sort newest
first, keep 50, and write RSS + Atom (feedgen) and JSON Feed (json.dumps) for every group. No cache, no
incremental anything: every run parses every file and writes every feed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from feedgen.feed import FeedGenerator
from slugify import slugify

BASE = "https://news.example.com"
# lxml refuses characters XML forbids (the corpus has a few control characters, like real data).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(value) -> str:
    return _FORBIDDEN.sub("", str(value)) if value else ""


def when(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def read(path: Path) -> dict | None:
    text = path.read_text("utf-8", errors="replace")
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    try:
        data = yaml.load(text[3:end], Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or data.get("published") is False:
        return None
    url = data.get("webUrl") or data.get("originalUrl")
    published = when(data.get("publishedDateTime"))
    if not data.get("title") or not isinstance(url, str) or not url.startswith("http") or published is None:
        return None
    provider = data.get("provider") or {}
    domain = str(provider.get("domain") or "").lower().removeprefix("www.")
    images = [i for i in data.get("images") or [] if isinstance(i, dict) and i.get("url")]
    return {
        "title": clean(data["title"]),
        "url": url,
        "date": published,
        "summary": clean(data.get("excerpt")),
        "provider": clean(provider.get("name") or domain),
        "domain": domain,
        "topics": [clean(t) for t in data.get("topics") or [] if t],
        "image": images[0]["url"] if images else None,
    }


def write_feed(out: Path, path: str, title: str, items: list[dict]) -> int:
    feed_url = f"{BASE}/feeds/{path}"
    fg = FeedGenerator()
    fg.id(feed_url + ".atom")
    fg.title(title)
    fg.description(f"Latest articles: {title}")
    fg.link(href=BASE + "/", rel="alternate")
    fg.link(href=feed_url + ".atom", rel="self")
    fg.language("en")
    if items:
        fg.updated(items[0]["date"])
        fg.lastBuildDate(items[0]["date"])
    for item in items:
        fe = fg.add_entry(order="append")
        fe.id(item["url"])
        fe.guid(item["url"], permalink=True)
        fe.title(item["title"])
        fe.link(href=item["url"])
        fe.summary(item["summary"] or item["title"])
        fe.published(item["date"])
        fe.updated(item["date"])
        fe.author(name=item["provider"])
        for topic in item["topics"]:
            fe.category(term=topic)
    target = out / "feeds" / path
    target.parent.mkdir(parents=True, exist_ok=True)
    Path(str(target) + ".rss").write_bytes(fg.rss_str(pretty=False))
    Path(str(target) + ".atom").write_bytes(fg.atom_str(pretty=False))
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": BASE + "/",
        "feed_url": feed_url + ".json",
        "items": [
            {
                "id": i["url"], "url": i["url"], "title": i["title"], "summary": i["summary"],
                "date_published": i["date"].isoformat(), "authors": [{"name": i["provider"]}],
                "tags": i["topics"], **({"image": i["image"]} if i["image"] else {}),
            }
            for i in items
        ],
    }
    Path(str(target) + ".json").write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    return 3


def publish(corpus: Path, out: Path, limit: int) -> dict:
    by_url: dict[str, dict] = {}
    files = sorted(corpus.rglob("*.txt")) + sorted(corpus.rglob("*.md"))
    for path in files:
        article = read(path)
        if article is not None:
            by_url[article["url"]] = article
    articles = sorted(by_url.values(), key=lambda a: a["date"], reverse=True)
    topics: dict[str, list[dict]] = defaultdict(list)
    providers: dict[str, list[dict]] = defaultdict(list)
    names: dict[str, str] = {}
    for article in articles:
        for topic in article["topics"]:
            slug = slugify(topic) or "topic"
            names.setdefault(slug, topic)
            if len(topics[slug]) < limit:
                topics[slug].append(article)
        if article["domain"] and len(providers[article["domain"]]) < limit:
            providers[article["domain"]].append(article)
    shutil.rmtree(out, ignore_errors=True)
    written = write_feed(out, "all", "All articles", articles[:limit])
    for slug, items in sorted(topics.items()):
        written += write_feed(out, f"topics/{slug}", names[slug], items)
    for domain, items in sorted(providers.items()):
        written += write_feed(out, f"providers/{domain}", items[0]["provider"], items)
    return {"files": len(files), "articles": len(articles), "topics": len(topics), "providers": len(providers),
            "written": written}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()
    started = time.perf_counter()
    result = publish(args.corpus, args.out, args.limit)
    result["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
