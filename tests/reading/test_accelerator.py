"""The C YAML accelerator (feeds/reading/_frontmatter.c) gives exactly what PyYAML gives.

For every document it builds itself, the value and every type in it equal PyYAML's; every document
it leaves (`_FALLBACK`) goes to PyYAML, so errors stay PyYAML's own. Beyond these tests, every front
matter any test of the suite reads is checked the same way (`yaml_accelerator_audit` in conftest.py),
and `bench/yaml_equal.py` checks whole corpora.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedpub import accelerators
from feedpub.corpus import generate
from feedpub.reading import article_file, fast_yaml
from tests.helpers import SEEDS, article_text, sample_fields
from tests.reading.test_fast_yaml import TRICKY
from tests.reading.yaml_checks import front_matter, outcome, pyyaml, same

LOADER = article_file._Loader

if os.environ.get("FEEDPUB_REQUIRE_ACCELERATOR") != "1":  # .ci/run requires it, having installed libyaml-dev
    pytestmark = pytest.mark.skipif(fast_yaml.accelerator() is None, reason="the C YAML accelerator is not built")


def built(source: str) -> object:
    """The accelerator's own result, `fast_yaml._FALLBACK` when it leaves the document to PyYAML."""
    return fast_yaml.load_accelerated(source, LOADER)


def assert_read_as_pyyaml_reads(source: str) -> tuple[str, object]:
    """The whole load (`fast_yaml.load`: an accelerator, or PyYAML where it leaves the document) gives
    PyYAML's value with its types, or its error; returns PyYAML's outcome."""
    ours = outcome(lambda text: fast_yaml.load(text, LOADER), source)
    theirs = pyyaml(source)
    assert ours[0] == theirs[0], source
    assert same(ours[1], theirs[1]) if ours[0] == "value" else ours[1] == theirs[1]
    return theirs


def test_the_accelerator_is_built_and_on() -> None:
    version = fast_yaml.accelerator()
    assert version is not None and version.count(".") == 2  # libyaml's, e.g. "0.2.5"


def test_every_seed_and_generated_article_is_built_by_the_accelerator_exactly_as_pyyaml_reads_it(
        tmp_path: Path) -> None:
    paths = sorted(SEEDS.glob("*.txt"))
    for seed in (1, 2, 3, 4):
        generate(tmp_path / f"corpus{seed}", 250, seed=seed)
        paths += sorted((tmp_path / f"corpus{seed}").rglob("*.txt"))
    assert len(paths) > 1000
    quickly = 0
    for path in paths:
        source = front_matter(path)
        ours = built(source)
        assert ours is not fast_yaml._FALLBACK, path.name  # plain front matter never needs PyYAML
        theirs = pyyaml(source)
        assert theirs[0] == "value" and same(ours, theirs[1]), path.name
        read = quick(source)
        assert read is fast_yaml._FALLBACK or same(read, ours), path.name
        quickly += read is not fast_yaml._FALLBACK
    # The corpora's awkward texts (a `\u000b` escape) go to libyaml's path; the rest is read quickly.
    assert quickly > 0.95 * len(paths), (quickly, len(paths))


def test_the_test_suite_s_sample_articles_too() -> None:
    for n in range(50):
        source = article_text(**sample_fields(n))
        source = source[4 : source.index("\n---\n", 4) + 1]
        assert same(built(source), yaml.load(source, Loader=LOADER))


# What the accelerator leaves to PyYAML, and what it builds itself: each kind once.
LEFT_TO_PYYAML = [
    "base: &b {x: 1}\nmerged:\n  <<: *b",  # anchor, alias, merge key
    "s: &s shared\nt: *s",  # an alias of a scalar
    "a: !!str 123",  # any explicit tag
    "custom: !thing value",
    "? [complex, key]\n: value",  # a collection as a key
    "{a: 1}: mapping key",
    "=: value-key",  # the `value` tag PyYAML cannot construct
    "deep: " + "[" * 70 + "]" * 70,  # deeper than _frontmatter.c's MAX_DEPTH: PyYAML decides
    "a: 1\n---\nb: 2",  # two documents
    "",  # no document at all
    "# only a comment",
    "\ufeff\ufeff\n",  # byte order marks only: no document either
    "unterminated: \"abc",  # every parse error: PyYAML reports it, with its line
    "key: value\n  bad indent: x",
    "big: " + "9" * 5000,  # PyYAML's int constructor raises; so must the result
]
BUILT = [
    "a: 1\nb: 1.5\nc: 0x1F\nd: 0o17\ne: 017\nf: 1_000\ng: 190:20:30\nh: -.inf\ni: .NaN\nj: +12",
    "yes: yes\nno: No\non: ON\noff: off\ny: y\nn: n\ntrue: True\nnull: ~\nempty:\nNULL: Null",
    "when: 2020-11-12T20:49:00Z\nday: 2020-11-12\nbad: 0000-00-00\nspaced: 2001-12-14 21:59:43.10 -5",
    'q: "quoted \\u00e9 \\x41 \\N \\_"\ns: \'single \'\' quote\'\nfolded: >\n  a\n  b\nliteral: |\n  x\n  y\n',
    "dup: 1\ndup: 2\nother: 3\ndup: 4",  # the last value wins, in the first key's place
    "- a\n- b",
    "just a string",
    "1: int key\n1.5: float key\ntrue: bool key\n~: null key\n'1': str key",
    "a: [1, [2, [3, {b: [4]}]]]\nc: {d: {e: {f: g}}}",
    "deep: " + "[" * 60 + "]" * 60,
    "topics: [AI, 'ML', \"NLP\", 3, 3.0, true, null, 2020-01-01]",
    "x: 1e3\ny: 1.0e+3\nz: .5\nw: 5.\nv: 0.\nu: -0\nt: 0b101\ns: -0x1a\nr: 1__0",
    "title: Ünïcødé — “quotes” 🎉\nemoji: 😀\ncjk: 日本語",
    "multi: first line\n  second line\n\n  after a blank",
    "empty_list: []\nempty_map: {}\nnull_item:\n  -\n  - ~",
    "\ufeffa: 1", "\ufeff\ufeff\ufeff\n", "a: \ufeffb",  # byte order marks, as libyaml reads them
]


@pytest.mark.parametrize("source", LEFT_TO_PYYAML)
def test_what_the_accelerator_leaves_to_pyyaml_gives_pyyaml_s_result_or_error(source: str) -> None:
    assert built(source) is fast_yaml._FALLBACK
    assert_read_as_pyyaml_reads(source)


@pytest.mark.parametrize("source", BUILT)
def test_what_the_accelerator_builds_equals_pyyaml_s_value_and_types(source: str) -> None:
    ours = built(source)
    assert ours is not fast_yaml._FALLBACK
    theirs = pyyaml(source)
    assert theirs[0] == "value" and same(ours, theirs[1]), (ours, theirs)


@pytest.mark.parametrize("source", TRICKY)
def test_the_node_tree_builder_s_tricky_documents_too(source: str) -> None:
    assert_read_as_pyyaml_reads(source)


def test_a_lone_surrogate_is_left_to_pyyaml() -> None:
    assert built("title: a\udc80b") is fast_yaml._FALLBACK


def test_the_cache_of_resolved_texts_is_bounded_and_keeps_only_short_texts() -> None:
    plain = fast_yaml._plain.setdefault(LOADER, fast_yaml.PlainScalars(LOADER))
    plain.cache.clear()
    source = "\n".join(f"k{n}: {n}" for n in range(10_000)) + "\nwhen: 2020-11-12T20:49:00Z"
    value = built(source)
    assert isinstance(value, dict) and value["k9999"] == 9999
    assert 0 < len(plain.cache) <= 8192
    assert "2020-11-12T20:49:00Z" not in plain.cache


def test_switched_off_the_accelerator_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(accelerators.SWITCH, "0")
    assert fast_yaml.accelerator() is None
    monkeypatch.setattr(fast_yaml, "load_accelerated", lambda *_: pytest.fail("accelerator used"))
    monkeypatch.setattr(fast_yaml, "construct", lambda *_: pytest.fail("node-tree builder used"))
    assert fast_yaml.load("a: 1", LOADER) == {"a": 1}


# Documents made of YAML's awkward pieces: plain scalars every resolver type reads, quoting styles,
# flow and block collections, anchors, tags, comments, indentation that may or may not be valid.
_SCALARS = st.sampled_from([
    "yes", "No", "ON", "off", "y", "n", "~", "null", "Null", "NULL", "", "true", "True", "FALSE",
    "0", "-0", "+1", "012", "0o17", "0x1F", "0b11", "1_000", "190:20:30", "1e3", "1.0e+3", ".5", "5.",
    "-.inf", ".NaN", "3.14", "2020-01-01", "2020-01-01T00:00:00Z", "2001-12-14 21:59:43.10 -5",
    "plain text", "\ufeff", "a: b", "a #not", "#c", "'single'", "'it''s'", '"dq \\u00e9"', '"\\x41\\t"', "\"\"",
    "<<", "=", "&a x", "*a", "!!str 5", "!!int 7", "!x y", "[a, 1]", "{a: 1}", "[]", "{}", "é", "😀",
    "- item", "|", ">", "-", "?", ":", "%", "@", "`", "a\tb",
])
_KEYS = st.sampled_from(["title", "yes", "1", "~", "'q'", '"d"', "<<", "=", "a b", "true", "1.5", "? k"])


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        indent = " " * draw(st.sampled_from([0, 0, 0, 2, 4, 1]))
        shape = draw(st.integers(0, 4))
        if shape == 0:
            lines.append(f"{indent}{draw(_KEYS)}: {draw(_SCALARS)}")
        elif shape == 1:
            lines.append(f"{indent}- {draw(_SCALARS)}")
        elif shape == 2:
            lines.append(f"{indent}{draw(_KEYS)}:")
        elif shape == 3:
            lines.append(f"{indent}{draw(_SCALARS)}")
        else:
            lines.append(f"{indent}[{draw(_SCALARS)}, {draw(_SCALARS)}]")
    return "\n".join(lines)


@st.composite
def mappings(draw: st.DrawFn, indent: str = "") -> str:
    """Block mappings nested as front matter nests them, most of them valid YAML."""
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        key = draw(_KEYS)
        kind = draw(st.integers(0, 5))
        if kind <= 2:
            lines.append(f"{indent}{key}: {draw(_SCALARS)}")
        elif kind == 3 and len(indent) < 6:
            lines.append(f"{indent}{key}:\n" + draw(mappings(indent + "  ")))
        else:
            items = draw(st.lists(_SCALARS, min_size=0, max_size=3))
            lines.append(f"{indent}{key}:" + "".join(f"\n{indent}  - {item}" for item in items))
    return "\n".join(lines)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(documents(), mappings()))
def test_awkward_generated_documents_give_pyyaml_s_result_or_error(source: str) -> None:
    ours = built(source)
    theirs = assert_read_as_pyyaml_reads(source)
    if ours is not fast_yaml._FALLBACK:
        assert theirs[0] == "value" and same(ours, theirs[1]), (source, ours, theirs)


_DIGIT = st.sampled_from("0123456789")


@given(st.lists(_DIGIT, min_size=14, max_size=14), st.sampled_from(["", "\n", "  # a comment\n"]))
def test_dates_in_the_usual_form_are_given_as_their_text_without_asking_the_resolver(digits: list[str],
                                                                                      after: str) -> None:
    """`2026-05-31T23:59:00Z`-form dates skip `resolve` in C (`stamps_are_str`): any digits, month 99
    included, give PyYAML's value, and none takes room in the cache of resolved texts."""
    d = iter(digits)
    stamp = "{}{}{}{}-{}{}-{}{}T{}{}:{}{}:{}{}Z".format(*d)
    plain = fast_yaml._plain.setdefault(LOADER, fast_yaml.PlainScalars(LOADER))
    assert plain.stamps_are_str
    source = f"when: {stamp}{after}\nalso: [{stamp}, '{stamp}']\n"
    ours = built(source)
    theirs = pyyaml(source)
    assert theirs[0] == "value" and same(ours, theirs[1]), (ours, theirs)
    assert stamp not in plain.cache


@given(st.lists(_DIGIT, min_size=4, max_size=4),
       st.sampled_from(["{}-{}-{}", "{}-{}-{} {}:{}:{}", "{}-{}-{}T{}:{}:{}.{}Z", "{}-{}-{}T{}:{}:{}+{}:{}",
                        "{}-{}-{}t{}:{}:{}-{}", "{}-{} -{}", "{}-{}-{}x{}", "{}-", "{}-{}{}", "{}--{}",
                        "{}{}", "{}.{}", "{}:{}", "{}_{}"]),  # no '-' fifth: an int or a float
       st.lists(st.text(alphabet="0123456789", min_size=0, max_size=3), min_size=8, max_size=8))
def test_every_text_that_starts_as_a_date_is_read_as_pyyaml_reads_it(year: list[str], form: str,
                                                                     parts: list[str]) -> None:
    """Texts of four digits and a '-' skip `resolve` in C, whatever follows (a timestamp of any form, or
    no match at all: both are the text itself), as keys and as values; none takes room in the cache.
    Four digits and anything else are resolved as before (`20261` an int, `2026.5` a float)."""
    text = "".join(year) + form[2:].format(*parts)
    dated = text[4:5] == "-"
    plain = fast_yaml._plain.setdefault(LOADER, fast_yaml.PlainScalars(LOADER))
    assert plain.stamps_are_str
    source = f"when: {text}\n{text}: key\nalso: [{text}, '{text}']\n"
    ours = built(source)
    theirs = assert_read_as_pyyaml_reads(source)
    if ours is not fast_yaml._FALLBACK:
        assert theirs[0] == "value" and same(ours, theirs[1]), (source, ours, theirs)
    if dated:
        assert text not in plain.cache


def test_a_loader_whose_dates_or_digits_read_otherwise_gets_no_shortcut() -> None:
    class Dated(yaml.SafeLoader):  # timestamps as datetimes, PyYAML's default
        pass

    class Stamped(LOADER):  # timestamps as a str of its own making: not the text itself for every form
        pass

    Stamped.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: str(node.value).replace(" ", "T"))

    class Odd(LOADER):  # one more resolver for texts that start with 2
        pass

    Odd.add_implicit_resolver("tag:example.com,2026:odd", re.compile(r"^2.*Z$"), list("2"))
    assert fast_yaml.PlainScalars(LOADER).stamps_are_str
    assert not fast_yaml.PlainScalars(Dated).stamps_are_str
    assert not fast_yaml.PlainScalars(Odd).stamps_are_str
    assert not fast_yaml.PlainScalars(Stamped).stamps_are_str  # though it gives the usual form as it is
    assert fast_yaml.load_accelerated(b"when: 2026-05-30 10:00:00\n", Stamped) == {"when": "2026-05-30T10:00:00"}


def test_a_build_left_from_an_older_checkout_is_not_used_and_the_version_says_so() -> None:
    """Its `load` takes other arguments: used, it would refuse every document (each then going to
    PyYAML, several times slower) without a word."""
    import subprocess
    import sys

    script = (
        "import sys, types\n"
        "old = types.ModuleType('feedpub.reading._frontmatter'); old.LIBYAML_VERSION = '0.2.5'\n"
        "sys.modules['feedpub.reading._frontmatter'] = old\n"
        "from feedpub.reading import fast_yaml\n"
        "from click.testing import CliRunner\n"
        "from feedpub.cli import main\n"
        "print(fast_yaml.STALE_BUILD, fast_yaml.accelerator(), CliRunner().invoke(main, ['--version']).output)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.startswith("True None ") and "YAML reader off (built for another feedpub version: reinstall" \
        in done.stdout, done.stdout


# -- the quick path (`quick_load` in _frontmatter.c) -----------------------------------------------

def quick(source: str) -> object:
    """The quick path alone: `fast_yaml._FALLBACK` where it gives up (and libyaml's path would read it)."""
    return fast_yaml.load_accelerated(source, LOADER, paths="quick")


# Shapes the quick path reads itself: what article front matter is made of.
QUICK_BUILT = [
    "title: plain text\nn: 1\nf: 1.5\nb: yes\nz: ~\nempty:\nwhen: 2026-05-31T23:46:00Z\nday: 2020-11-12",
    'q: "a \\"quoted\\" word and a \\\\ slash"\nu: "Ünïcødé — “quotes” 🎉 日本語"\nnone: ""',
    "topics:\n  - AI\n  - 3\n  - yes\n  - A.I.\n  - \"quoted\"\nafter: 1",
    "images:\n  - url: https://x.example/a.jpg?w=1&h=2\n    width: 640\n  - url: b\n    isCached: true\nnext: x",
    "related:\n  - title: \"A\"\n    provider:\n      name: P\n      domain: p.example\n    quality: 60\n"
    "    images:\n      - url: u\n        width: 1\n  - title: B\nsecured: \"x+y/z==\"",
    "dup: 1\ndup: 2\nother: 3\ndup: 4",  # the last value wins, in the first key's place
    "yes: 1\nNo: 2\n1: int key\nNULL: n\n0x1F: hex key\n1_000: k\nTrue: t",  # keys resolve as libyaml's do
    "url: http://a.example:80/p?q=1#frag\nneg: -1\ninf: -.inf\ndash: a - b\ncolon: a:b\nhash: a#b\n"
    "brackets: a [b] {c}, d\nquote: He said \"hi\"\napostrophe: it's\nstar: a*b\nbang: a!\nmarks: --x\nrule: ---",
    "\n\nblank: 1\n   \n\nnext: 2\n",  # blank lines and lines of spaces
    "indented:\n     far: 1\n     also:\n         - x\nback: 3",
    'key:   "spaces after the colon"\nplain:    word',
    "nothing:\nnext: 1\nlast:",
    "images: []\nextras: {}\nlist:\n  - []\n  - {}",
    "nbsp: a\u00a0b\u00a0\nzero_width: a\u200bb\nmath: 𝔸 ∑",  # no break, blank or control to YAML
]

# Each thing the quick path leaves to libyaml's path, once.
QUICK_GIVES_UP = [
    "a: 1 # comment", "# c\na: 1", "a: 1\n# c", "a:\t1", "a: 1\r\nb: 2", "a: x\u2028y", "a: x\u2029y",
    "a: x\x85y", "a: x\x80y", "a: x\x9fy", "a: x\x7fy", "a: x\x01y", "a: x\ufffey", "a: x\uffffy",
    "\ufeffa: 1", "a: \ufeffb", "a: [1, 2]", "a: {b: 1}", "a: |\n  x", "a: >\n  x", "a: &x 1\nb: *x",
    "a: !!str 1", "a: 'single'", "a: [ ]", "a: [x]", "a: {}x", "a: b: c", "a: b:", "a: multi\n  line",
    "a: multi\n\n  after a blank",
    "a: -", "a: - x", "a: ?x", "a: :x", "a: %x", "a: @x", "a: `x`", "a: ,x", "a: value \nb: 1",
    "a:\n- x", "a:\n  - x\n   - y", "a:\n    b: 1\n  c: 2", "- a\n- b", "a: 1\n---\nb: 2",
    '"quoted key": 1', "a b: 1", "a.b: 1", "<<: 1", "? x\n: 1", "a:b: 1",
    'a: "esc \\n"', 'a: "\\u00e9"', 'a: "x" trailing', 'a: "x"y"', 'a: "open', 'a: "',
    "a:\n  -  two spaces: x", "a:\n  - - nested", "a:\n  -", "x" * 101 + ": long key", "a: 1\n b: 2",
    "a:\n  - x\n    more", "", "   ", "a", "a: 1\nb", "deep:\n" + "".join(" " * n + f"k{n}:\n" for n in range(1, 70)),
]


@pytest.mark.parametrize("source", QUICK_BUILT)
def test_what_the_quick_path_reads_equals_pyyaml_s_value_and_types(source: str) -> None:
    ours = quick(source)
    assert ours is not fast_yaml._FALLBACK
    theirs = pyyaml(source)
    assert theirs[0] == "value" and same(ours, theirs[1]), (ours, theirs)
    assert same(fast_yaml.load_accelerated(source, LOADER, paths="libyaml"), ours)


@pytest.mark.parametrize("source", QUICK_GIVES_UP)
def test_what_the_quick_path_gives_up_on_is_read_as_pyyaml_reads_it(source: str) -> None:
    assert quick(source) is fast_yaml._FALLBACK
    assert_read_as_pyyaml_reads(source)


# Scalars and keys for front matter made at random: the usual ones, and each spelling that YAML
# reads as something else than it looks (a comment, an indicator, an end, a type).
_QUICK_SCALARS = [
    "plain words", "Startups", "A.I.", "1", "-1", "69", "1.5", "1e3", ".5", "0x1F", "012", "1_000", "yes", "No",
    "off", "y", "~", "null", "true", "2026-05-31T23:46:00Z", "2020-01-01", "2001-12-14 21:59:43.10 -5",
    "https://x.example/a?b=1&c=%20#frag", "a: b", "a #b", "a#b", "a:", "a:b", "-", "- x", "--x", "?x", ":x",
    "[a]", "{a: 1}", "a, [b]", "&a x", "*a", "!x y", "|", ">", "%x", "@x", "`x", "'q'", "'it''s'", '"dq"',
    '"a \\"b\\" c"', '"a\\\\b"', '"a\\nb"', '"a"b"', '"open', '""', "é ü 日本 🎉", "“curly”", "a\tb", "a ",
    "x\u2028y", "\ufeff", "#", "a - b", "---", "...",
]
_QUICK_KEYS = ["title", "url", "name", "yes", "no", "on", "1", "0x1F", "null", "True", "a_b", "a b", "a.b", "~",
               '"d"', "'s'", "-a", "<<", "title"]


def _random_front_matter(rng: random.Random) -> str:
    """Block mappings nested as articles nest them, with now and then a line that YAML reads
    otherwise (an indentation off by one, a comment, a tab)."""

    def scalar() -> str:
        return rng.choice(_QUICK_SCALARS[:22]) if rng.random() < 0.6 else rng.choice(_QUICK_SCALARS)

    def key() -> str:
        return rng.choice(_QUICK_KEYS[:11]) if rng.random() < 0.9 else rng.choice(_QUICK_KEYS)

    def mapping(indent: int, depth: int) -> list[str]:
        lines = []
        for _ in range(rng.randint(1, 4)):
            pad = " " * indent
            kind = rng.random()
            if kind < 0.55 or depth > 3:
                lines.append(f"{pad}{key()}:{rng.choice([' ', ' ', ' ', '  '])}{scalar()}")
            elif kind < 0.75:
                lines.append(f"{pad}{key()}:")
                lines += mapping(indent + rng.choice([1, 2, 2, 4]), depth + 1)
            else:
                lines.append(f"{pad}{key()}:")
                lines += sequence(indent + rng.choice([0, 2, 2, 2, 4]), depth + 1)
        return lines

    def sequence(indent: int, depth: int) -> list[str]:
        lines = []
        for _ in range(rng.randint(0, 3)):
            pad = " " * indent
            if rng.random() < 0.5 or depth > 3:
                lines.append(f"{pad}- {scalar()}")
            else:
                first, *rest = mapping(indent + 2, depth + 1)
                lines.append(f"{pad}- {first[indent + 2:]}")
                lines += rest
        return lines

    lines = mapping(0, 0)
    for _ in range(rng.choice([0, 0, 0, 1])):  # now and then, one line YAML reads otherwise
        at = rng.randrange(len(lines) + 1)
        lines.insert(at, rng.choice(["", "   ", "# a comment", " " * rng.randint(1, 5) + "odd: 1", "\tx: 1",
                                     "---", "- stray"]))
    if rng.random() < 0.05:
        lines = [line + " " for line in lines]
    return "\n".join(lines) + rng.choice(["", "\n", "\n\n"])


def test_front_matter_made_at_random_reads_as_pyyaml_reads_it_on_the_quick_path_or_is_given_up() -> None:
    """5,000 documents of the shapes above: whatever the quick path builds equals PyYAML's value and
    types (and libyaml's path's), and it builds most of the valid ones, so the check is of it."""
    rng = random.Random(20261201)
    counts = {"quick": 0, "given up": 0}
    for _ in range(5000):
        source = _random_front_matter(rng)
        theirs = assert_read_as_pyyaml_reads(source)
        ours = quick(source)
        if ours is fast_yaml._FALLBACK:
            counts["given up"] += 1
        else:
            counts["quick"] += 1
            assert theirs[0] == "value" and same(ours, theirs[1]), (source, ours, theirs)
    assert counts["quick"] > 1000 and counts["given up"] > 500, counts


_BYTES = st.lists(st.sampled_from([
    b"a", b"-", b" ", b"\n", b"\t", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x00", b"\x7f", b"\x80", b"\xbf", b"\xc0", b"\xc1",
    b"\xc2", b"\xdf", b"\xe0", b"\xe0\xa0", b"\xe0\x9f", b"\xed", b"\xed\x9f", b"\xed\xa0", b"\xef\xbb\xbf", b"\xef\xbf\xbf",
    b"\xf0", b"\xf0\x90", b"\xf0\x8f", b"\xf4", b"\xf4\x8f", b"\xf4\x90", b"\xf5", b"\xfe", b"\xff", b"\xff\xfe",
    b"\xfe\xff", "é".encode(), "人".encode(), "😀".encode(), b"0123456789abcdef"]), max_size=12).map(b"".join)


def _decoded_as_utf8(data: bytes) -> bool:
    try:
        article_file.decode(data)
    except article_file.ArticleError:
        return False
    return not data.startswith((b"\xff\xfe", b"\xfe\xff"))  # decode reads those as UTF-16


@given(_BYTES | st.binary(max_size=40))
def test_plain_text_is_what_decode_takes_as_utf8(data: bytes) -> None:
    """The C check that lets a file skip `decode` says yes exactly where decode reads the bytes as
    UTF-8 without a word: never for a file decode would refuse, give its reason for, or read as UTF-16."""
    assert fast_yaml.plain_text(data) == _decoded_as_utf8(data)


def test_plain_text_checks_every_byte_of_a_long_file() -> None:
    """Past the eight-bytes-at-a-time runs of ASCII: a bad byte at any place of a long file is found."""
    text = article_text(**sample_fields(1)).encode()
    assert fast_yaml.plain_text(text)
    for at in range(0, len(text), 7):
        for bad in (b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80"):
            broken = text[:at] + bad + text[at + 1 :]
            assert fast_yaml.plain_text(broken) == _decoded_as_utf8(broken), (at, bad)
