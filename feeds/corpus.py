"""Realistic sample articles for feedpub: the bundled `seeds/`, test folders and benchmark corpora.

Files follow the reference record (`seeds/000_3f08816b81f43964.txt`): YAML front matter between
`---` lines. The news is fictional but as messy as a real crawl (drafts; missing, empty or null
fields; dates with offsets, quoted, zone-less or date-only; markup, entities and emoji in text;
topics in several languages, some sharing a slug; a re-crawled duplicate), yet every file is valid:
broken files belong to tests.

Output is deterministic: the same arguments give byte-identical files (one `random.Random(seed)`;
no clock, no `hash()`, no set iteration). Regenerate the bundled set with

    python -m feedpub.corpus seeds 239 --seed 2026
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import itertools
import os
import random
import re
import sys
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from json.encoder import encode_basestring  # C-accelerated JSON string quoting; keeps non-ASCII as is
from pathlib import Path
from typing import Any

# Topics by desk; the desk of an article's first topic picks its headline and excerpt templates.
_DESK_TOPICS = {
    "tech": "AI|A.I.|Computer Vision|Machine Learning|Machine learning|Künstliche Intelligenz|Inteligencia artificial|"
    "人工知能|C++|C#|Cybersecurity|Privacy|Semiconductors|Robotics|Open Source|Cloud Computing|Smartphones|"
    "Social Media|Electric Vehicles|Quantum Computing|Tecnología|Privacidad|Ciberseguridad",
    "city": "Transit|Housing|Education|Éducation|Policing|Local Government|Water|Broadband|Urbanismo|Cycling",
    "biz": "Économie|Markets|Startups|Trade|Labor|Banking|Crypto|Aviation|Real Estate|Retail|Agriculture|"
    "Wirtschaft|経済|Energy Markets",
    "health": "Public Health|Здоровье|Mental Health|Vaccines|Nutrition|Cancer Research|Santé|Gesundheit|Saúde",
    "sci": "Climate|Space|Energy|Oceans|Wildlife|Astronomy|Physics|Wildfires|Drought|Weather|Klimawandel|Наука|"
    "気候変動",
    "pol": "Elections|Política|Immigration|Supreme Court|Congress|Diplomacy|Defense|Europawahl",
    "sport": "Football|Basketball|Tennis|Cricket|Olympics|Formula 1|Deportes|Rugby",
    "culture": "Film|Music|Books|Television|Gaming|Architecture|Food|Travel|Fashion|Cultura",
}
DESK = {name: desk for desk, names in _DESK_TOPICS.items() for name in names.split("|")}
# The default pool (topics=24): non-English names, and pairs that share a slug under naive
# slugifiers ("C++"/"C#", "AI"/"A.I.") or under any ("Machine Learning"/"Machine learning").
_FIRST = ("AI|Computer Vision|Climate|Künstliche Intelligenz|Économie|Public Health|Inteligencia artificial|Transit|"
          "人工知能|Elections|Здоровье|Política|C++|Housing|Markets|A.I.|Football|Space|Machine Learning|C#|Film|"
          "Energy|Machine learning|Cybersecurity").split("|")
TOPICS: list[str] = _FIRST + [name for name in DESK if name not in _FIRST]

# Two publications spell their domain with capitals, to exercise domain normalisation.
_PROVIDERS = [(name, domain) for name, domain in (p.split("=") for p in (
    "The Riverton Ledger=riverton-ledger.com|Harbor City Herald=www.harborcityherald.com|Daily Quanta=dailyquanta.com|"
    "Northern Dispatch=northerndispatch.co.uk|The Civic Wire=civicwire.org|Tech Meridian=techmeridian.io|"
    "Pacific Signal=www.pacificsignal.net|Le Courrier du Lac=courrierdulac.fr|El Faro Digital=elfarodigital.es|"
    "Rheinische Rundschau=rheinrundschau.de|Tokyo Tech Shimbun=tokyotechshimbun.jp|Kiwi Wire=kiwiwire.co.nz|"
    "The Prairie Post=www.prairiepost.com|Circuit Breaker=circuitbreaker.tech|Lab Notes=labnotes.science|"
    "Open Health Journal=openhealthjournal.org|The Lowland Observer=lowlandobserver.nl|The Byte=thebyte.dev|"
    "Bay Street Bulletin=baystreetbulletin.ca|Coastal Weather Desk=coastalweatherdesk.com|Capital Beat=capitalbeat.us|"
    "The Green Ledger=TheGreenLedger.com|Southern Cross Times=www.SouthernCrossTimes.com.au|Signal & Noise=signal.fm|"
    "Gazeta do Porto=gazetadoporto.pt|Nordic Business Review=nordicbusinessreview.se|Screen & Page=screenandpage.com|"
    "Stadium Report=www.stadiumreport.com|Policy Review Weekly=policyreviewweekly.org|Alpine Courier=alpinecourier.ch|"
    "The Morning Circuit=morningcircuit.news|Mumbai Markets Today=www.mumbaimarketstoday.in|Urban Futures=urban.city|"
    "The Ferry Gazette=ferrygazette.com|Metro Transit Watch=metrotransitwatch.org|Mercado Abierto=mercadoabierto.mx"
).split("|"))]
_PLACES = ("Riverton|Harbor City|Leeds|Lyon|Porto|Tacoma|Halifax|Dunedin|Graz|Bilbao|Malmö|Kraków|Brisbane|Ottawa|"
           "Austin|Lakeside|Cedar Falls|Marlow|Eastbrook|Kingsport|Silverton|Ashford|Pinecrest|Bayview|Redwood")
_NOUNS = ("Ledger|Tribune|Chronicle|Courier|Gazette|Sentinel|Dispatch|Observer|Herald|Review|Times|Post|Star|Monitor|"
          "Journal|Record|Bulletin|Press|Examiner|Beacon")
_TLDS = (".com", ".net", ".org", ".news", ".co.uk", ".com.au")

_WORDS = {k: v.split("|") for k, v in {
    "City": _PLACES, "Region": "Bavaria|Ontario|Catalonia|Queensland|the EU|California|Scotland|Kerala|Hokkaido",
    "Company": "Northwind|Veridian Labs|Helix Robotics|Quantix|Bluefin Bank|Aurora Motors|Cobalt Systems|Tessellate|"
    "Lumen Health|Orbital Dynamics|Kestrel Air|Greenleaf Foods",
    "Team": "Riverton Rovers|Harbor City FC|Lyon Lynx|Tacoma Tides|Graz United|Austin Comets|Porto Mariners",
    "First": "Maria|James|Aisha|Kenji|Olga|Luis|Chloé|Sven|Priya|Tomás|Zoë|Kwame|Ingrid|Mateo",
    "Last": "Okafor|Nguyen|Schmidt|García|Kowalski|Tanaka|Haddad|O’Brien|Lindqvist|Moreau|Patel|Silva|Novák",
    "gadget": "facial recognition cameras|a smart-glasses prototype|an AI chatbot|a foldable phone|a home robot|"
    "license plate readers|a quantum chip|delivery drones",
    "capability": "translate speech in real time|spot faces through masks|cut energy use by half|write working code",
    "tech_issue": "data retention practices|biased hiring algorithms|handling of a data breach|app store fees",
    "trick": "printed stickers|a pair of glasses|a few simple prompts|a laser pointer",
    "project": "transit|light-rail|affordable housing|flood defense|bike-lane|downtown stadium|ferry terminal",
    "biz_event": "a strong quarterly report|a surprise buyback|an upbeat forecast|a leadership shake-up",
    "habit": "ultra-processed food|night-shift work|poor sleep|long commutes",
    "condition": "heart disease|type 2 diabetes|measles|long COVID|dementia",
    "sci_thing": "a coral reef|glaciers|a methane plume|an underwater volcano|sea ice",
    "bill": "a data-privacy bill|a minimum-wage increase|a ban on short-term rentals|a police-reform package",
    "office": "governor|mayor|the Senate", "adj": "boldest|strangest|most ambitious|funniest",
    "work": "“The Long Quiet”|“Harbor Lights”|“Paper Moons”|“Salt & Iron”", "ordinal": "second|third|fourth|fifth",
    "month": "January|February|March|April|May|June|July|August|September|October|November|December",
    "weekday": "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday",
}.items()}
_NUMS = {"n": (2, 40), "m": (5, 900), "b": (1, 60), "pct": (2, 45), "whole": (1, 9), "tenth": (0, 9), "k": (2, 90),
         "year": (2027, 2033), "yes": (51, 80), "no": (12, 49), "win": (2, 5), "lose": (0, 1), "years": (2, 6),
         "hot": (38, 46)}
_TITLES = {k: v.split("|") for k, v in {
    "tech": "{Company} unveils {gadget} it says can {capability}|{Company} faces lawsuit over {tech_issue}|"
    "Researchers show {gadget} can be fooled by {trick}|{City} police quietly expand use of {gadget}|"
    "{Company} to cut {n} jobs as demand for {gadget} slows|"
    "Regulators in {Region} open probe into {Company} over {tech_issue}",
    "city": "{City} council approves ${m}M {project} plan after heated debate|{City} delays {project} project again "
    "as costs climb {pct}%|{City} residents push back on proposed {project} plan|Mayor of {City} vows to finish "
    "{project} project by {year}",
    "biz": "{Company} shares jump {pct}% after {biz_event}|{Company} agrees to buy {Company2} for ${b}B|"
    "Inflation in {Region} eases to {whole}.{tenth}% in {month}|Why {biz_event} at {Company} worries investors",
    "health": "Study links {habit} to higher risk of {condition}|{City} hospitals strained as {condition} cases rise "
    "{pct}%|New {condition} treatment shows promise in early trial|Doctors in {Region} warn of {condition} surge",
    "sci": "Scientists map {sci_thing} off the coast of {Region}|{City} braces for record heat as temperatures near "
    "{hot}°C|Satellite data shows {sci_thing} changing faster than expected|{Company} bets ${b}B on solar in {Region}",
    "pol": "Lawmakers in {Region} pass {bill} in {yes}-{no} vote|{First} {Last} launches bid for {office} in {Region}|"
    "Court blocks {bill} days before it takes effect|{City} votes as {First} {Last} seeks a third term",
    "sport": "{Team} edge {Team2} {win}-{lose} in overtime thriller|{First} {Last} signs {years}-year deal with {Team}|"
    "{Team} part ways with coach after {n}-game losing streak",
    "culture": "{First} {Last}'s debut novel tops bestseller lists in {Region}|Review: {work} is the {adj} series of "
    "the year|{City} film festival unveils lineup with {n} world premieres",
}.items()}
_SENTENCES = {k: v.split("|") for k, v in {
    "any": "The announcement came on {weekday} after weeks of speculation.|Critics said the move does not go far "
    "enough.|{First} {Last}, a spokesperson for {Company}, said the company would “review the findings carefully.”|"
    "Officials did not immediately respond to a request for comment.|The figures were higher than analysts expected.|"
    "It is the {ordinal} such decision in {Region} this year.|Supporters say the change is long overdue, while "
    "opponents warn of unintended consequences.|{First} {Last} told reporters that more details would follow in "
    "{month}.|A final decision is expected by the end of {month}.|The story has been updated with more reporting.",
    "tech": "The system relies on {gadget} supplied by {Company2}.|Privacy advocates have raised concerns about how "
    "long the data is kept.|An internal memo seen by reporters described the rollout as “rushed.”",
    "city": "The plan would serve an estimated {k},000 residents a day.|More than {n} residents spoke during a "
    "three-hour public hearing.|Construction could begin in {month} {year}.",
    "biz": "Trading volume was {whole} times the daily average.|The deal still needs approval from regulators in "
    "{Region}.|The company expects revenue to grow {pct}% next year.",
    "health": "The study followed {k},000 adults over {n} years.|Researchers cautioned that the findings show "
    "correlation, not causation.|Local clinics have extended their hours.",
    "sci": "The team combined satellite images with measurements taken over {n} years.|Forecasters expect "
    "temperatures to stay above average through {month}.|The findings were published in a journal on {weekday}.",
    "pol": "The measure now heads to the governor, who is expected to sign it.|Turnout was {pct}% higher than in the "
    "previous election.|{First} {Last} called the ruling “a setback, not a defeat.”",
    "sport": "{First} {Last} scored twice in the final {n} minutes.|The win lifts {Team} to {ordinal} place in the "
    "table.|Tickets for the next home game sold out within hours.",
    "culture": "Tickets go on sale on {weekday}.|{First} {Last} described the project as “deeply personal.”|The "
    "lineup includes {n} debut features from first-time directors.",
}.items()}
# Scraped headlines and summaries carry markup, entities, curly quotes, emoji and control characters.
_TITLE_DECOR = ("Q&A: {}", "{} <em>(video)</em>", "Analysis: {} — and why it’s “complicated”", "{} 🚀",
                'Watch: "{}"', "Morning brief: {} & more", "Live: {} 🔴", "Poll: {} (margin < 3 points)")
_EXCERPT_DECOR = ("<p>{}</p>", "{} Read more &raquo;", "{}\u000b", "{} (Photo: Jane Doe / AP)")
# URL schemes; each publication keeps one, as real sites do.
_PATHS = ("/{when:%Y/%m/%d}/{slug}/", "/news/{slug}-{n}", "/article/{n}/{slug}.html", "/{desk}/{when:%Y%m%d}-{slug}")
_OFFSETS = (120, -300, 330, 540, 60, -180)  # minutes east of UTC
_SIZES = ((2560, 1709), (1200, 630), (1600, 900), (800, 600), (640, 427), (1080, 1080))
_MAIN_KEYS = ("category", "title", "excerpt", "publishedDateTime", "originalUrl", "webUrl", "ampWebUrl", "cdnAmpWebUrl",
              "type", "quality", "heat", "published", "provider", "topics", "images", "related", "secured")
_RELATED_KEYS = ("title", "excerpt", "publishedDateTime", "webUrl", "ampWebUrl", "cdnAmpWebUrl", "type", "provider",
                 "quality", "images")
_GENERATED = re.compile(r"(\d{3,})_[0-9a-f]{16}\.txt")
# Characters YAML forbids raw, or reads as line breaks (NEL, LS, PS), which JSON quoting leaves alone.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_PLAIN = re.compile(r"[^\W\d_](?:[\w.+#-]| (?=\w))*")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}  # plain words YAML 1.1 reads as non-strings


class _Fill(dict):
    """Fills `{placeholders}` on demand, so a headline and its excerpt name the same city or company."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        if key in _NUMS:
            value = str(self.rng.randint(*_NUMS[key]))
        else:
            words = _WORDS[key.rstrip("0123456789")]
            while (value := self.rng.choice(words)) in self.values():  # "Company2" is a different company
                pass
        self[key] = value
        return value


def _q(text: str | None) -> str:
    """A YAML double-quoted scalar (JSON's escapes are a subset of YAML's), or null."""
    if text is None:
        return "null"
    quoted = encode_basestring(text)
    if not quoted.isascii() or "\x7f" in quoted:  # the regex only when it can matter: this is the hot path
        quoted = _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", quoted)
    return quoted


@functools.cache  # the same few hundred names, topics and domains, over and over
def _p(text: str) -> str:
    """A plain scalar, like the reference's names and topics, when YAML cannot misread it; else quoted."""
    return text if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED else _q(text)


def _slug(text: str, limit: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text)[:limit].strip("-") or "story"


def _providers(count: int) -> list[tuple[str, str]]:
    """The hand-written publications, then "<place> <noun>" ones in a seed-independent order."""
    pool, taken = list(_PROVIDERS), {d.lower().removeprefix("www.") for _, d in _PROVIDERS}
    combos = [(p, n) for p in _PLACES.split("|") for n in _NOUNS.split("|")]
    random.Random(7).shuffle(combos)  # fixed, so publication N is the same one for every seed
    for i, (place, noun) in enumerate(combos):
        domain = _slug(place + noun).replace("-", "") + _TLDS[i % len(_TLDS)]
        if domain not in taken:
            taken.add(domain)
            pool.append((f"The {place} {noun}" if i % 3 == 0 else f"{place} {noun}", "www." * (i % 5 == 0) + domain))
    if not 1 <= count <= len(pool):
        raise ValueError(f"providers={count}: choose 1..{len(pool)}")
    return pool[:count]


class _Newsroom:
    """Writes articles from one seeded random stream, over fixed topic and publication pools."""

    def __init__(self, seed: int, topics: int, providers: int) -> None:
        if not 1 <= topics <= len(TOPICS):
            raise ValueError(f"topics={topics}: choose 1..{len(TOPICS)}")
        self.rng, self.topics, self.providers = random.Random(seed), TOPICS[:topics], _providers(providers)
        # Skewed popularity, as in real feeds: a few big topics and publications, then a long tail.
        # Cumulative, so random.choices does not re-add the weights on every call.
        self.topic_weights = list(itertools.accumulate(1 / (i + 1) ** 0.6 for i in range(topics)))
        self.weights = list(itertools.accumulate(1 / (i + 1) ** 0.5 for i in range(providers)))
        self.urls_used: set[str] = set()

    def date(self, moment: datetime) -> str:
        """The YAML text of a date: mostly `…Z`; else an offset, quoted, zone-less or date-only form."""
        utc, r = moment.astimezone(UTC), self.rng.random()
        if r < 0.70:
            return f"{utc:%Y-%m-%dT%H:%M:%SZ}"
        if r < 0.79:  # the same instant in another zone, so the order of articles is unchanged
            return utc.astimezone(timezone(timedelta(minutes=self.rng.choice(_OFFSETS)))).isoformat()
        if r < 0.86:
            east = utc.astimezone(timezone(timedelta(hours=2))).isoformat()
            return _q(self.rng.choice((f"{utc:%Y-%m-%dT%H:%M:%SZ}", east)))
        if r < 0.94:
            return f"{utc:%Y-%m-%d %H:%M:%S}" if r < 0.91 else f"{utc:%Y-%m-%dT%H:%M:%S}"
        return f"{utc:%Y-%m-%dT%H:%M:%S}.000Z" if r < 0.99 else f"{utc:%Y-%m-%d}"

    def secured(self) -> str:
        blob, key = (base64.b64encode(self.rng.randbytes(n)).decode() for n in (192, 16))
        return f"{blob};{key}"

    def story(self, desk: str, sentences: int) -> tuple[str, list[str], _Fill]:
        fill = _Fill(self.rng)
        title, parts = self.rng.choice(_TITLES[desk]).format_map(fill), list[str]()
        while len(parts) < sentences:
            self.sentence(parts, fill, desk)
        return title, parts, fill

    def sentence(self, parts: list[str], fill: _Fill, desk: str) -> None:
        for _ in range(8):  # a repeated sentence reads like a bug; after a few tries accept one
            pool = _SENTENCES[desk] + _SENTENCES["any"] if parts else _SENTENCES[desk]  # open on the desk's own
            if (sentence := self.rng.choice(pool).format_map(fill)) not in parts:
                break
        parts.append(sentence)

    def publication(self) -> tuple[int, str, str]:
        index = self.rng.choices(range(len(self.providers)), cum_weights=self.weights)[0]
        return index, *self.providers[index]

    def urls(self, domain: str, style: int, slug: str, desk: str, when: datetime) -> dict[str, str]:
        host, number = domain.lower(), self.rng.randint(100000, 999999)
        path = _PATHS[style % len(_PATHS)].format(when=when, slug=slug, n=number, desk=desk)
        urls = {"webUrl": f"https://{host}{path}"}
        if self.rng.random() < 0.8:  # AMP copies are often absent
            urls["ampWebUrl"] = f"https://{host}{path}amp/" if path.endswith("/") else f"https://{host}/amp{path}"
            if self.rng.random() < 0.85:
                cdn = host.replace("-", "--").replace(".", "-")
                urls["cdnAmpWebUrl"] = f"https://{cdn}.cdn.ampproject.org/c/s/{host}{path}"
        return urls

    def images(self, domain: str, slug: str, when: datetime, count: int) -> list[tuple]:
        images, host, slug = [], domain.lower(), slug[:40].strip("-")
        for _ in range(count):
            w, h = self.rng.choice(_SIZES)
            if self.rng.random() < 0.3:  # the WordPress CDN form of the reference, with '&' and '%2C'
                url = f"https://i0.wp.com/{host}/wp-content/uploads/{when:%Y/%m}/{slug}-scaled.jpg?fit={w}%2C{h}&ssl=1"
            else:
                url = f"https://cdn.{host.removeprefix('www.')}/images/{when:%Y%m%d}/{slug}-{w}x{h}.jpg"
            images.append((url, *((w, h) if self.rng.random() < 0.95 else (None, None)), self.rng.random() < 0.8))
        return images

    def related(self, desk: str, when: datetime) -> dict:
        title, parts, _ = self.story(desk, self.rng.choice((1, 2, 2)))
        index, name, domain = self.publication()
        moment, slug = when - timedelta(minutes=self.rng.randint(30, 14 * 24 * 60)), _slug(title)
        item: dict[str, Any] = {"title": title, "excerpt": " ".join(parts), "publishedDateTime": self.date(moment)}
        item |= self.urls(domain, index, slug, desk, moment)
        item |= {"type": "article", "provider": (name, domain), "quality": self.rng.randint(20, 95)}
        if self.rng.random() < 0.6:
            item["images"] = self.images(domain, slug, moment, 1)
        item["_text"] = _lines(item, _RELATED_KEYS, "    ", False)  # rendered once: padding measures it too
        return item

    def article(self, when: datetime) -> dict:
        rng, chosen = self.rng, []
        for name in rng.choices(self.topics, cum_weights=self.topic_weights, k=rng.choice((1, 1, 2, 2, 2, 3, 4))):
            chosen += [name] if name not in chosen else []
        desk = DESK[chosen[0]]
        title, parts, fill = self.story(desk, rng.choice((1, 2, 2, 3)))
        title = rng.choice(_TITLE_DECOR).format(title) if rng.random() < 0.05 else title
        index, name, domain = self.publication()
        if domain != domain.lower() and rng.random() < 0.25:
            domain = domain.lower()  # one publication spelled two ways must still be one provider feed
        slug = _slug(title)
        urls = self.urls(domain, index, slug, desk, when)
        while urls["webUrl"] in self.urls_used:  # templates repeat headlines; only a re-crawl may share a URL
            urls["webUrl"] = urls["webUrl"].rstrip("/") + f"-{len(self.urls_used)}"
        self.urls_used.add(urls["webUrl"])
        a: dict = {"category": rng.choices(("news", "blog", "opinion"), (85, 10, 5))[0], "title": title}
        if (r := rng.random()) >= 0.09:
            a["excerpt"] = " ".join(parts)
            a["excerpt"] = rng.choice(_EXCERPT_DECOR).format(a["excerpt"]) if rng.random() < 0.04 else a["excerpt"]
        elif r >= 0.02:  # else no excerpt key at all
            a["excerpt"] = "" if r < 0.055 else None
        a["publishedDateTime"] = self.date(when)
        tracking = "?utm_source=rss&utm_medium=feed" if rng.random() < 0.05 else ""
        a["originalUrl"] = urls.pop("webUrl") + tracking
        if rng.random() >= 0.06:  # some records carry only originalUrl
            a["webUrl"] = a["originalUrl"].removesuffix(tracking)
        a |= urls | {"type": rng.choices(("article", "video", "blog"), (90, 6, 4))[0], "quality": rng.randint(15, 98),
                     "heat": -1 if rng.random() < 0.35 else rng.randint(0, 900)}
        if (r := rng.random()) < 0.23:
            a["published"] = r >= 0.08  # ~8% drafts, some explicit `true`, most without the key
        a |= {"provider": (name, domain), "topics": chosen}
        if (r := rng.random()) >= 0.10:
            a["images"] = [] if r < 0.16 else self.images(domain, slug, when, rng.choice((1, 1, 1, 2)))
        if rng.random() < 0.40:
            a["related"] = [self.related(desk, when) for _ in range(rng.randint(1, 4))]
        a["secured"] = self.secured()
        a["_pad"] = (desk, parts, fill)  # lets padding grow the excerpt coherently; never rendered
        return a

    def pad(self, a: dict, target: int, when: datetime) -> None:
        """Bring an article to about `target` bytes: drop related items if over; add some, then sentences."""
        desk, parts, fill = a["_pad"]
        size = len(_render(a))  # then tracked incrementally: re-rendering at every step is slow
        while size > target and a.get("related"):
            size -= _cost(a["related"].pop())
            if not a["related"]:  # an empty list would render as a bare `related:`, which is null
                del a["related"]
                size -= 10  # the "related:" line and the blank line before it
        item = None
        while size < target:
            if item is None:  # kept while sentences are added: costing an item renders it
                item = self.related(desk, when)
                item_cost = _cost(item)
            cost = item_cost + 10 * ("related" not in a)
            paddable = a.get("excerpt") == " ".join(parts) and len(parts) < 12
            # Sentences close a small gap closely, so while they can, an item must not overshoot much;
            # otherwise add it if that lands nearer the target than stopping short.
            if size + cost - target < (100 if paddable else target - size):
                a.setdefault("related", []).append(item)
                size, item = size + cost, None
            elif paddable:
                self.sentence(parts, fill, desk)
                a["excerpt"] = " ".join(parts)
                size += len(_q(parts[-1]).encode()) - 1  # one space more, no new quotes
            else:
                break


def _lines(a: dict, keys: tuple[str, ...], ind: str, gap: bool) -> list[str]:
    out: list[str] = []
    blank = [""] if gap else []  # the reference separates its top-level blocks with a blank line
    for key in (k for k in keys if k in a):
        value = a[key]
        if key == "provider":
            out += blank + [f"{ind}provider:", f"{ind}  name: {_p(value[0])}", f"{ind}  domain: {_p(value[1])}"]
        elif key == "topics":
            out += blank + [f"{ind}topics:"] + [f"{ind}  - {_p(t)}" for t in value]
        elif key == "images":
            out += blank + [f"{ind}images:" + ("" if value else " []")]
            for url, w, h, cached in value:
                out += [f"{ind}  - url: {_q(url)}"] + ([f"{ind}    width: {w}", f"{ind}    height: {h}"] if w else [])
                out.append(f"{ind}    isCached: {'true' if cached else 'false'}")
        elif key == "related":
            out += blank + [f"{ind}related:"]
            for item in value:  # pre-rendered at the top-level indent, the only place related lists occur
                out += [f"  - {item['_text'][0].lstrip()}"] + item["_text"][1:]
        elif key == "publishedDateTime":  # already YAML text: its form is part of what is tested
            out.append(f"{ind}{key}: {value}")
        elif isinstance(value, int):  # and bool: `true`/`false`
            out.append(f"{ind}{key}: {str(value).lower()}")
        else:
            text = _p(value) if key in ("category", "type") else _q(value)
            out += (blank if key == "secured" else []) + [f"{ind}{key}: {text}"]
    return out


def _render(a: dict) -> bytes:
    return ("\n".join(["---", *_lines(a, _MAIN_KEYS, "", True), "---", ""]) + "\n").encode()


def _cost(item: dict) -> int:
    """Bytes one related item adds to a file."""
    return len("\n".join(item["_text"]).encode()) + 1


def generate(out_dir: Path, count: int, *, seed: int = 0, topics: int = 24, providers: int = 36,
             body_bytes: int = 0, start: datetime = datetime(2026, 6, 1, tzinfo=UTC)) -> list[Path]:
    """Write `count` articles as `<index>_<16 hex of the URL>.txt`, index 1 newest, and return their paths.

    Dates go back ~60 days from `start`. `body_bytes` > 0 brings each file to about that size (for
    benchmarks). Index 0 is left to a hand-picked reference file; generated files (index >= 1) that
    this run does not write are removed, and unchanged ones are not rewritten, so a watcher sees
    only real changes.
    """
    room = _Newsroom(seed, topics, providers)
    step = max(1, 60 * 24 * 60 // max(count, 1))  # average minutes between articles: ~60 days in all
    when, articles = start, []
    for _ in range(count):
        when -= timedelta(minutes=0 if room.rng.random() < 0.015 else room.rng.randint(1, 2 * step - 1))  # few ties
        articles.append((when, room.article(when)))
    if body_bytes > 0:
        for when, a in articles:
            room.pad(a, body_bytes, when)
    # Re-crawls: an article found again hours later (same webUrl), with a new date, heat and blob.
    recrawls = max(1, count // 1000) if count >= 10 else 0
    for i in range(recrawls):
        src = (i + 1) * count // (recrawls + 1)
        when, original = articles[src]
        if original.get("published") is False:  # a duplicate only matters when both copies are live
            del original["published"]
        later = f"{when + timedelta(minutes=room.rng.randint(60, 600)):%Y-%m-%dT%H:%M:%SZ}"
        copy = dict(original, publishedDateTime=later, heat=room.rng.randint(0, 900), secured=room.secured())
        articles[min(count - 1, src + room.rng.randint(1, 5))] = (when, copy)
    width = max(3, len(str(count)))  # at least 3 digits, so "001_…" sorts after the reference "000_…"
    files = {}
    for i, (_, a) in enumerate(articles, start=1):
        digest = hashlib.sha256((a.get("webUrl") or a["originalUrl"]).encode()).hexdigest()[:16]
        files[out_dir / f"{i:0{width}d}_{digest}.txt"] = _render(a)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(out_dir.iterdir()):
        if (match := _GENERATED.fullmatch(old.name)) and int(match[1]) > 0 and old not in files:
            old.unlink()
    for path, data in files.items():
        if not path.exists():
            path.write_bytes(data)
        elif path.read_bytes() != data:  # replace whole, for a server watching the folder
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
    return list(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m feedpub.corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, metavar="OUT", help="folder to write into (created if missing)")
    parser.add_argument("count", type=int, metavar="COUNT", help="number of articles")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same bytes (default 0)")
    parser.add_argument("--topics", type=int, default=24, help=f"topic pool size, 1..{len(TOPICS)} (default 24)")
    parser.add_argument("--providers", type=int, default=36, help="publication pool size (default 36)")
    parser.add_argument("--body-bytes", type=int, default=0, help="pad each file to about this many bytes")
    args = parser.parse_args(argv)
    try:
        paths = generate(args.out, args.count, seed=args.seed, topics=args.topics, providers=args.providers,
                         body_bytes=args.body_bytes)
    except ValueError as error:
        parser.error(str(error))
    print(f"wrote {len(paths)} articles to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
