"""The C YAML accelerator (feeds/reading/_frontmatter.c) gives exactly what PyYAML gives.

For every document it builds itself, the value and every type in it equal PyYAML's; every document
it leaves (`_FALLBACK`) goes to PyYAML, so errors stay PyYAML's own. Beyond these tests, every front
matter any test of the suite reads is checked the same way (`yaml_accelerator_audit` in conftest.py),
and `bench/yaml_equal.py` checks whole corpora.
"""

from __future__ import annotations

import os
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
    for path in paths:
        source = front_matter(path)
        ours = built(source)
        assert ours is not fast_yaml._FALLBACK, path.name  # plain front matter never needs PyYAML
        theirs = pyyaml(source)
        assert theirs[0] == "value" and same(ours, theirs[1]), path.name


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
    ours = outcome(lambda text: fast_yaml.load(text, LOADER), source)
    theirs = pyyaml(source)
    assert ours[0] == theirs[0]
    assert same(ours[1], theirs[1]) if ours[0] == "value" else ours[1] == theirs[1]


@pytest.mark.parametrize("source", BUILT)
def test_what_the_accelerator_builds_equals_pyyaml_s_value_and_types(source: str) -> None:
    ours = built(source)
    assert ours is not fast_yaml._FALLBACK
    theirs = pyyaml(source)
    assert theirs[0] == "value" and same(ours, theirs[1]), (ours, theirs)


@pytest.mark.parametrize("source", TRICKY)
def test_the_node_tree_builder_s_tricky_documents_too(source: str) -> None:
    ours = outcome(lambda text: fast_yaml.load(text, LOADER), source)
    theirs = pyyaml(source)
    assert ours[0] == theirs[0]
    assert same(ours[1], theirs[1]) if ours[0] == "value" else ours[1] == theirs[1]


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
    theirs = pyyaml(source)
    if ours is not fast_yaml._FALLBACK:
        assert theirs[0] == "value" and same(ours, theirs[1]), (source, ours, theirs)
    loaded = outcome(lambda text: fast_yaml.load(text, LOADER), source)
    assert loaded[0] == theirs[0]
    assert same(loaded[1], theirs[1]) if loaded[0] == "value" else loaded[1] == theirs[1]


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


def test_a_loader_whose_dates_or_digits_read_otherwise_gets_no_shortcut() -> None:
    class Dated(yaml.SafeLoader):  # timestamps as datetimes, PyYAML's default
        pass

    class Odd(LOADER):  # one more resolver for texts that start with 2
        pass

    Odd.add_implicit_resolver("tag:example.com,2026:odd", re.compile(r"^2.*Z$"), list("2"))
    assert fast_yaml.PlainScalars(LOADER).stamps_are_str
    assert not fast_yaml.PlainScalars(Dated).stamps_are_str
    assert not fast_yaml.PlainScalars(Odd).stamps_are_str


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
        "from feedpub.cli import _version_message\n"
        "print(fast_yaml.STALE_BUILD, fast_yaml.accelerator(), _version_message())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.startswith("True None ") and "built for another feedpub version: reinstall" in done.stdout
