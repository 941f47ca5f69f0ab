"""The front page (`index.html`): what the site is, the latest articles, every feed grouped and
findable, and a form that builds a filtered feed's URL.

Every link to the site is relative, so a copy served from another host or folder still browses.
Everything is listed without JavaScript; a small script narrows the list as one types in the
search box, builds the filtered feed's URL as the form changes, and asks the server whether it
filters (a static host serves `feeds/all.json?limit=1` as the whole feed: then the form says that
filters need `feedpub serve` instead of offering URLs that would not filter). The page is the
same bytes live and exported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import partial
from html import escape

from ..catalog.catalog import ALL, PROVIDER, TOPIC, FeedSpec
from ..catalog.query import MAX_PATTERN, PARAMETERS
from ..settings import Settings
from . import formats
from .formats import FORMATS
from .pages import LATEST, Parts, _part
from .paths import CATALOG, INDEX, OPML, feed_path, page_path, relative
from .style import STYLE, page_head

_EXTRA_STYLE = (
    ".vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
    ".name{font-weight:600;margin:0}.note{grid-column:1/-1;margin:0}"
    "button{font:inherit;padding:.35rem .9rem;border-radius:.3rem;border:1px solid var(--link);"
    "background:var(--link);color:var(--bg);cursor:pointer}"
    ".result{grid-column:1/-1}[hidden]{display:none!important}"
)

_TIMES = (("", "Any time"), ("3600", "the last hour"), ("86400", "the last day"), ("604800", "the last week"),
          ("2592000", "the last 30 days"))


def _feed_row(spec: FeedSpec, settings: Settings) -> str:
    """One feed in the lists: its page, its counts and its three subscribe links."""
    e = escape
    name = spec.name or settings.title
    shown = len(spec.items)
    if spec.total > shown:
        counts = f"{spec.total} articles; the feed shows the newest {shown}"
    else:
        counts = f"{spec.total} article{'s' if spec.total != 1 else ''}"
    newest = f", newest {spec.newest:%Y-%m-%d}" if spec.newest else ""
    key = f" <code>{e(spec.key)}</code>" if spec.kind == PROVIDER else ""
    links = "".join(f'<li><a href="{e(relative(INDEX, feed_path(spec.kind, spec.key, fmt)))}">{fmt.label}'
                    f'<span class="vh"> feed of {e(name)}</span></a></li>' for fmt in FORMATS)
    words = " ".join(word for word in (name, spec.key if spec.key != name else "") if word).casefold()
    return (f'<li data-find="{e(words)}"><p class="name"><a href="{e(relative(INDEX, page_path(spec.kind, spec.key)))}">'
            f'{e(name)}</a>{key}</p>\n<p class="muted">{counts}{newest}</p>\n<ul class="inline">{links}</ul></li>')


def _option(spec: FeedSpec, settings: Settings) -> str:
    value = escape(spec.key)
    label = escape(spec.name or spec.key) + (f" ({escape(spec.key)})" if spec.kind == PROVIDER else "")
    return f'<option value="{value}">{label}</option>'


def render_index(feeds: Sequence[FeedSpec], latest: Sequence[str], settings: Settings,
                 parts: Parts | None = None) -> bytes:
    """The front page; `feeds[0]` is the feed of everything and `latest` the `latest_line`s of its
    newest articles."""
    e = escape
    title = e(settings.title)
    everything = feeds[0]
    discovery = "\n".join(
        f'<link rel="alternate" type="{fmt.media_type}" title="{title} ({fmt.label})" '
        f'href="{e(relative(INDEX, feed_path(ALL, everything.key, fmt)))}">' for fmt in FORMATS)
    groups = {kind: [spec for spec in feeds if spec.kind == kind] for kind in (ALL, TOPIC, PROVIDER)}
    lists = []
    for kind, anchor, heading in ((ALL, "everything", "Everything"), (TOPIC, "topics", "Topics"),
                                  (PROVIDER, "providers", "Providers")):
        specs = groups[kind]
        if not specs:
            continue
        rows = "\n".join(_part(parts, "front-row", spec, partial(_feed_row, spec, settings)) for spec in specs)
        count = f" ({len(specs)})" if kind != ALL else ""
        lists.append(f'<div class="group"><h3 id="{anchor}">{heading}{count}</h3>\n<ul class="feeds">\n{rows}\n</ul></div>')
    options = {kind: "".join(_part(parts, "front-option", spec, partial(_option, spec, settings))
                             for spec in groups[kind]) for kind in (TOPIC, PROVIDER)}
    times = "".join(f'<option value="{value}">{label}</option>' for value, label in _TIMES)
    jump = "".join(f'<li><a href="#{anchor}">{label}</a></li>' for anchor, label in (
        ("latest", "Latest articles"), ("feeds", f"Every feed ({len(feeds)})"), ("topics", f"Topics ({len(groups[TOPIC])})"),
        ("providers", f"Providers ({len(groups[PROVIDER])})"), ("shape", "Build a filtered feed")))
    lines = "\n".join(latest[:LATEST]) or '<li class="muted">No articles yet.</li>'
    shown = len(everything.items)
    opml = f'<link rel="alternate" type="{formats.OPML}" title="{title}: every feed (OPML)" href="{e(relative(INDEX, OPML))}">'
    body = page_head(settings.language, title=settings.title, description=settings.description,
                     links=f"{discovery}\n{opml}", style=STYLE + _EXTRA_STYLE) + f"""<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="site"><div class="wrap">
<h1>{title}</h1>
<p>{e(settings.description)}.</p>
<p class="muted">{title} publishes its news as feeds for any feed reader: one of everything, one per topic and one
per provider, each in RSS, Atom and JSON Feed, and each with a page to read here.</p>
<nav aria-label="On this page"><ul class="inline">{jump}</ul></nav>
</div></header>
<main id="main" class="wrap">
<section aria-labelledby="latest">
<h2 id="latest">Latest articles</h2>
<ul class="latest">
{lines}
</ul>
</section>
<section aria-labelledby="feeds">
<h2 id="feeds">Every feed</h2>
<p>A feed shows its newest {shown} articles; a feed reader can fetch every older one from the feed's archive.
Import <a href="{e(relative(INDEX, OPML))}">every feed as OPML</a>, or read the <a href="{e(relative(INDEX, CATALOG))}">catalog</a>.</p>
<div role="search"><label for="find">Find a feed</label>
<input id="find" type="search" aria-describedby="found" placeholder="A topic or a provider">
<p id="found" class="muted" aria-live="polite"></p></div>
{chr(10).join(lists)}
</section>
<section aria-labelledby="shape">
<h2 id="shape">Build a filtered feed</h2>
<form class="shape" id="shape-form" action="{e(relative(INDEX, feed_path(ALL, ALL, FORMATS[0])))}" method="get">
<p class="note" id="shape-note">Filters work where <code>feedpub serve</code> serves this site: a copy on a static host
cannot filter, and shows every article.</p>
<div><label for="q-topic">Topic</label><select id="q-topic" name="topic"><option value="">Any topic</option>{options[TOPIC]}</select></div>
<div><label for="q-provider">Provider</label><select id="q-provider" name="provider"><option value="">Any provider</option>{options[PROVIDER]}</select></div>
<div><label for="q-filter">Title or description matches</label><input id="q-filter" name="filter" maxlength="{MAX_PATTERN}" aria-describedby="q-patterns"></div>
<div><label for="q-filter-title">Title matches</label><input id="q-filter-title" name="filter_title" maxlength="{MAX_PATTERN}" aria-describedby="q-patterns"></div>
<div><label for="q-filterout">Leave out when title or description matches</label><input id="q-filterout" name="filterout" maxlength="{MAX_PATTERN}" aria-describedby="q-patterns"></div>
<div><label for="q-time">Published within</label><select id="q-time" name="filter_time">{times}</select></div>
<div><label for="q-heat">Heat at least</label><input id="q-heat" name="min_heat" type="number" step="any" min="0"></div>
<div><label for="q-quality">Quality at least</label><input id="q-quality" name="min_quality" type="number" step="any" min="0" max="100"></div>
<div><label for="q-limit">Articles (at most {settings.max_limit})</label><input id="q-limit" name="limit" type="number" min="1" max="{settings.max_limit}" placeholder="{settings.limit}"></div>
<div><label for="q-format">Format</label><select id="q-format">{"".join(f'<option value="{fmt.suffix[1:]}">{fmt.label}</option>' for fmt in FORMATS)}</select></div>
<div><label><input id="q-case" name="filter_case_sensitive" type="checkbox" value="false"> Ignore case</label></div>
<p class="note muted" id="q-patterns">Patterns are regular expressions (RE2), such as <code>climate|election</code> or <code>^AI\\b</code>.</p>
<div class="result"><button type="submit">Open the feed</button>
<p id="q-result" hidden>Its URL, for your feed reader: <a id="q-url" href="{e(relative(INDEX, feed_path(ALL, ALL, FORMATS[0])))}"><output id="q-output" for="shape-form"></output></a></p></div>
</form>
</section>
</main>
<footer><div class="wrap"><p class="muted">{title}: <a href="{e(relative(INDEX, OPML))}">every feed as OPML</a> · <a href="{e(relative(INDEX, CATALOG))}">the catalog</a></p></div></footer>
<script>{_script(settings)}</script>
</body>
</html>
"""
    return body.encode("utf-8")


def _script(settings: Settings) -> str:
    order = json.dumps(list(PARAMETERS))
    return """
(function () {
  var find = document.getElementById("find"), found = document.getElementById("found");
  var rows = document.querySelectorAll("ul.feeds > li");
  function narrow() {
    var words = find.value.trim().toLowerCase().split(/\\s+/).filter(Boolean), shown = 0;
    rows.forEach(function (row) {
      var text = row.getAttribute("data-find"), hit = words.every(function (w) { return text.indexOf(w) >= 0; });
      row.hidden = !hit; if (hit) shown += 1;
    });
    document.querySelectorAll("div.group").forEach(function (group) {
      group.hidden = !group.querySelector("ul.feeds > li:not([hidden])");
    });
    found.textContent = words.length ? shown + " of " + rows.length + " feeds" : "";
  }
  find.addEventListener("input", narrow);
  var form = document.getElementById("shape-form"), order = ORDER;
  var result = document.getElementById("q-result"), link = document.getElementById("q-url");
  var output = document.getElementById("q-output"), note = document.getElementById("shape-note");
  function encode(value) {
    return encodeURIComponent(value).replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }
  function build() {
    var params = [];
    order.forEach(function (name) {
      var field = form.elements[name];
      if (!field) return;
      var value = field.type === "checkbox" ? (field.checked ? field.value : "") : field.value.trim();
      if (value) params.push(name + "=" + encode(value));
    });
    var format = document.getElementById("q-format").value;
    var url = new URL("feeds/all." + format, document.baseURI).href + (params.length ? "?" + params.join("&") : "");
    output.value = url; link.href = url; result.hidden = false;
    return url;
  }
  form.addEventListener("input", build);
  form.addEventListener("change", build);
  form.addEventListener("submit", function (event) { event.preventDefault(); window.location.href = build(); });
  function cannot() {
    note.textContent = "This copy of the site is served as plain files, which cannot filter: filtered feeds need feedpub serve.";
    form.querySelectorAll("input, select, button").forEach(function (field) { field.disabled = true; });
    result.hidden = true;
  }
  fetch("feeds/all.json?limit=1", {cache: "no-store"}).then(function (answer) {
    return answer.ok ? answer.json() : null;
  }).then(function (feed) {
    if (!feed || String(feed.feed_url).indexOf("?limit=1") < 0) { cannot(); return; }
    note.textContent = "Filters apply to every article of the feed, newest first.";
    build();
  }).catch(cannot);
})();
""".replace("ORDER", order)
