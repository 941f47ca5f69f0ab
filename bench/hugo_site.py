"""The Hugo peer: turn an article folder into a Hugo site that builds RSS only, then time `hugo`.

    python bench/hugo_site.py CORPUS SITE            # convert (cached) and build once, print timings
    python bench/hugo_site.py CORPUS SITE --repeats 3

The site (what the issue asks of the peer):
- content/posts/<file>.md, one per article, JSON front matter (Hugo reads it natively, no quoting
  pitfalls): title, date (RFC 3339, no zone = UTC like feedpub), summary (the excerpt), the
  taxonomies `topics` and `providers` (provider = lowercased domain without `www.`, like feedpub),
  params `link`, `provider_name`, `image`; `published: false` becomes `draft: true` (Hugo skips drafts
  like feedpub). `_build: {render: never}`: pages take part in lists but get no HTML page of their own,
  so Hugo renders RSS only.
- config.toml: `[taxonomies] topic = "topics", provider = "providers"`, outputs RSS only for
  home/taxonomy/term, `rssLimit = 50` and `services.rss.limit = 50`, no theme.
- layouts/_default/rss.xml: Hugo's embedded RSS template, with the item link and guid taken from the
  article's URL instead of the (unrendered) page permalink, plus one <category> per topic.
  Summary only, no content:encoded (the embedded template has none either).

Cold build = `hugo --quiet` after removing public/, resources/ and the cache dir.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Stat, check, corpus_files, log, run_timed, settle_disk
from naive import when as read_date

try:
    import yaml
    Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # pragma: no cover
    yaml = None

CONFIG = """\
baseURL = "https://news.example.com/"
title = "Bench News"
languageCode = "en"
disableKinds = ["section", "sitemap", "robotsTXT", "404"]
enableRobotsTXT = false
timeout = "1800s"
rssLimit = 50

[services.rss]
limit = 50

[taxonomies]
topic = "topics"
provider = "providers"

[outputs]
home = ["RSS"]
taxonomy = ["RSS"]
term = ["RSS"]
page = []
"""

RSS_TEMPLATE = """\
{{- $pctx := . -}}
{{- if .IsHome -}}{{ $pctx = .Site }}{{- end -}}
{{- $pages := slice -}}
{{- if or $.IsHome $.IsSection -}}
{{- $pages = $pctx.RegularPages -}}
{{- else -}}
{{- $pages = $pctx.Pages -}}
{{- end -}}
{{- $limit := .Site.Config.Services.RSS.Limit -}}
{{- if ge $limit 1 -}}
{{- $pages = $pages | first $limit -}}
{{- end -}}
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\" standalone=\\"yes\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{{ if eq  .Title  .Site.Title }}{{ .Site.Title }}{{ else }}{{ with .Title }}{{.}} on {{ end }}{{ .Site.Title }}{{ end }}</title>
    <link>{{ .Permalink }}</link>
    <description>Recent content {{ if ne  .Title  .Site.Title }}{{ with .Title }}in {{.}} {{ end }}{{ end }}on {{ .Site.Title }}</description>
    <generator>Hugo -- gohugo.io</generator>{{ with .Site.LanguageCode }}
    <language>{{.}}</language>{{end}}{{ if not .Date.IsZero }}
    <lastBuildDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</lastBuildDate>{{ end }}
    {{- with .OutputFormats.Get "RSS" -}}
    {{ printf "<atom:link href=%q rel=\\"self\\" type=%q />" .Permalink .MediaType | safeHTML }}
    {{- end -}}
    {{ range $pages }}
    <item>
      <title>{{ .Title }}</title>
      <link>{{ .Params.link }}</link>
      <pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
      {{ with .Params.provider_name }}<author>{{ . }}</author>{{ end }}
      <guid isPermaLink="true">{{ .Params.link }}</guid>
      {{- range .Params.topics }}
      <category>{{ . }}</category>
      {{- end }}
      <description>{{ .Summary | html }}</description>
    </item>
    {{ end }}
  </channel>
</rss>
"""


# -- conversion ----------------------------------------------------------------------------------

def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def front_matter(path: Path) -> dict | None:
    text = path.read_text("utf-8", errors="replace")
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    if end < 0:
        return None
    try:
        data = yaml.load(text[3:end], Loader=Loader)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def convert_one(path: Path) -> tuple[str, str] | None:
    """(file name, Hugo content) for one article, or None if it cannot be published."""
    data = front_matter(path)
    if data is None:
        return None
    title, when = _text(data.get("title")), read_date(data.get("publishedDateTime"))
    link = _text(data.get("webUrl")) or _text(data.get("originalUrl"))
    if not title or when is None or not link.startswith(("http://", "https://")):
        return None
    provider = data.get("provider") if isinstance(data.get("provider"), dict) else {}
    domain = _text(provider.get("domain")).lower()
    domain = domain[4:] if domain.startswith("www.") else domain
    topics = [t.strip() for t in data.get("topics") or [] if isinstance(t, str) and t.strip()]
    images = [i for i in data.get("images") or [] if isinstance(i, dict) and _text(i.get("url"))]
    matter = {
        "title": title,
        "date": when.isoformat(),
        "summary": _text(data.get("excerpt")),
        "topics": topics,
        "providers": [domain] if domain else [],
        "link": link,
        "provider_name": _text(provider.get("name")),
        "image": _text(images[0].get("url")) if images else "",
        "draft": data.get("published") is False,
        "_build": {"render": "never", "list": "always"},
    }
    return path.stem + ".md", json.dumps(matter, ensure_ascii=False, indent=1) + "\n"


def _convert_chunk(args: tuple[list[str], str]) -> tuple[int, int]:
    paths, posts = args
    written = skipped = 0
    for name in paths:
        result = convert_one(Path(name))
        if result is None:
            skipped += 1
            continue
        Path(posts, result[0]).write_text(result[1], "utf-8")
        written += 1
    return written, skipped


def convert(corpus: Path, site: Path, *, jobs: int = 2) -> dict:
    """Write the Hugo site for corpus into site (reused when already complete for this corpus)."""
    stamp = site / ".converted.json"
    files = corpus_files(corpus)
    wanted = {"corpus": str(corpus.resolve()), "files": len(files), "version": 2}
    if stamp.exists():
        done = json.loads(stamp.read_text())
        if {k: done.get(k) for k in wanted} == wanted:
            return done
    log(f"converting {len(files)} articles of {corpus} into the Hugo site {site}")
    shutil.rmtree(site, ignore_errors=True)
    posts = site / "content" / "posts"
    posts.mkdir(parents=True)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "config.toml").write_text(CONFIG)
    (site / "layouts" / "_default" / "rss.xml").write_text(RSS_TEMPLATE)
    names = [str(p) for p in files]
    chunks = [(names[i:i + 500], str(posts)) for i in range(0, len(names), 500)]
    with Pool(jobs) as pool:
        results = pool.map(_convert_chunk, chunks)
    info = {**wanted, "written": sum(r[0] for r in results), "skipped": sum(r[1] for r in results)}
    stamp.write_text(json.dumps(info))
    return info


# -- building ------------------------------------------------------------------------------------

def hugo_version() -> str | None:
    exe = shutil.which("hugo")
    if not exe:
        return None
    return subprocess.run([exe, "version"], capture_output=True, text=True, timeout=60).stdout.strip()


def clean(site: Path, public: Path | None = None) -> None:
    for name in ("public", "resources", ".hugo_cache"):
        shutil.rmtree(site / name, ignore_errors=True)
    if public is not None:
        shutil.rmtree(public, ignore_errors=True)
    (site / ".hugo_build.lock").unlink(missing_ok=True)


def build(site: Path, *, timeout: float, public: Path | None = None):
    """One cold `hugo --quiet` build (into `public`, else the site's public/); returns the Timed run."""
    site = site.resolve()
    clean(site, public)
    settle_disk()
    cmd = [shutil.which("hugo") or "hugo", "--quiet", "--source", str(site), "--cacheDir", str(site / ".hugo_cache")]
    if public is not None:
        cmd += ["--destination", str(public)]
    return check(run_timed(cmd, timeout=timeout, cwd=site), "hugo build")


def feeds_built(site: Path, public: Path | None = None) -> dict[str, int]:
    public = public or site / "public"
    return {
        "home": int((public / "index.xml").exists()),
        "topics": sum(1 for _ in (public / "topics").glob("*/index.xml")) if (public / "topics").exists() else 0,
        "providers": sum(1 for _ in (public / "providers").glob("*/index.xml"))
        if (public / "providers").exists() else 0,
        "files": sum(1 for p in public.rglob("*") if p.is_file()) if public.exists() else 0,
    }


def verify(site: Path, info: dict, public: Path | None = None) -> dict[str, int]:
    """Hugo wrote a home feed and one per topic and per provider, each with at most 50 items."""
    counts = feeds_built(site, public)
    if not counts["home"] or not counts["topics"] or not counts["providers"]:
        raise RuntimeError(f"Hugo did not write the expected feeds: {counts}")
    home = ((public or site / "public") / "index.xml").read_text("utf-8")
    items = home.count("<item>")
    if items != min(50, info["written"]):
        raise RuntimeError(f"Hugo's home feed has {items} items, expected 50")
    counts["home_items"] = items
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("site", type=Path)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    print(hugo_version())
    info = convert(args.corpus, args.site)
    print(json.dumps(info))
    wall, rss = Stat(), Stat()
    for _ in range(args.repeats):
        timed = build(args.site, timeout=args.timeout)
        wall.values.append(timed.wall)
        if timed.peak_rss_kib:
            rss.values.append(timed.peak_rss_kib / 1024)
        print(f"hugo: {timed.wall:.2f} s, peak RSS {timed.peak_rss_kib} KiB", flush=True)
    print(json.dumps(verify(args.site, info)))
    print(f"median {wall.median:.2f} s ({wall.spread()}), peak RSS median {rss.median} MiB")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
