"""The front matter accelerator gives exactly what PyYAML gives: same values, same types, same errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from feedpub.corpus import generate
from feedpub.reading import article_file, fast_yaml
from tests.helpers import SEEDS
from tests.reading.yaml_checks import front_matter, node_tree, outcome, same

LOADER = article_file._Loader


def test_generated_and_bundled_articles_come_out_the_same_and_never_need_the_fallback(tmp_path: Path) -> None:
    generate(tmp_path / "corpus", 400, seed=7)
    paths = sorted((tmp_path / "corpus").rglob("*.txt")) + sorted(SEEDS.glob("*.txt"))
    assert len(paths) > 600
    for path in paths:
        source = front_matter(path)
        assert same(node_tree(source), yaml.load(source, Loader=LOADER)), path.name


TRICKY = [
    "a: 1\nb: 1.5\nc: 0x1F\nd: 0o17\ne: 017\nf: 1_000\ng: 190:20:30\nh: -.inf\ni: .NaN\nj: +12",
    "yes: yes\nno: No\non: ON\noff: off\ny: y\nn: n\ntrue: True\nnull: ~\nempty:\nNULL: Null",
    "when: 2020-11-12T20:49:00Z\nday: 2020-11-12\nbad: 0000-00-00\nspaced: 2001-12-14 21:59:43.10 -5",
    'q: "quoted \\u00e9 \\x41"\ns: \'single \'\' quote\'\nfolded: >\n  a\n  b\nliteral: |\n  x\n  y\n',
    "base: &b {x: 1, y: 2}\nmerged:\n  <<: *b\n  y: 3",
    "a: &a [1, 2]\nb: *a\nc: *a",
    "s: &s shared\nt: *s\nu: [*s, *s]",
    "? [complex, key]\n: value",
    "{a: 1}: mapping key",
    "dup: 1\ndup: 2\nother: 3\ndup: 4",
    "set: !!set {a, b}\nomap: !!omap [{a: 1}]\nbin: !!binary aGVsbG8=",
    "s: !!str 123\ni: !!int '42'\nf: !!float '1'\nb: !!bool 'yes'\nn: !!null ''",
    "bad: !!int abc",
    "big: !!int " + "9" * 5000,
    "custom: !thing value",
    "=: value-key\nv: 1",
    "- a\n- b",
    "just a string",
    "",
    "# only a comment",
    "a: [1, [2, [3, {b: [4]}]]]\nc: {d: {e: {f: g}}}",
    "deep: " + "[" * 2000 + "]" * 2000,
    "r: &r\n  self: *r",
    "key: value\n  bad indent: x",
    "unterminated: \"abc",
    "tab:\tvalue",
    "topics: [AI, 'ML', \"NLP\", 3, 3.0, true, null, 2020-01-01]",
    "x: 1e3\ny: 1.0e+3\nz: .5\nw: 5.\nv: 0.",
    "a: -0\nb: +0\nc: 0b101\nd: -0x1a\ne: 1__0",
]


@pytest.mark.parametrize("source", TRICKY)
def test_tricky_documents_give_pyyaml_s_exact_result_or_error(source: str) -> None:
    ours = outcome(lambda s: fast_yaml.load(s, LOADER), source)
    theirs = outcome(lambda s: yaml.load(s, Loader=LOADER), source)
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "value":
        assert same(ours[1], theirs[1]), (ours, theirs)
    else:
        assert ours[1] == theirs[1]


def test_aliased_collections_stay_shared_as_pyyaml_shares_them() -> None:
    loaded = fast_yaml.load("a: &a [1, 2]\nb: *a", LOADER)
    assert loaded["a"] is loaded["b"]  # PyYAML's path: the accelerator gave up on the alias
    with pytest.raises(fast_yaml.Unsupported):
        node_tree("a: &a [1, 2]\nb: *a")
