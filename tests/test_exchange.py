"""`exchange`: two paths swapped in one renameat2(RENAME_EXCHANGE), and how it fails."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import pytest

from feedpub import exchange as exchange_module
from feedpub.exchange import ExchangeUnsupported, available, exchange

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")


@linux
def test_two_folders_trade_places(tmp_path: Path) -> None:
    assert available()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_text("from a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "y").write_text("from b")
    exchange(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "a" / "y").read_text() == "from b" and (tmp_path / "b" / "x").read_text() == "from a"


@linux
def test_a_folder_and_a_symlink_trade_places(tmp_path: Path) -> None:
    (tmp_path / "gen").mkdir()
    (tmp_path / "site").symlink_to("gen")
    (tmp_path / "stage").mkdir()
    (tmp_path / "stage" / "index.html").write_text("new")
    exchange(tmp_path / "stage", tmp_path / "site")
    assert (tmp_path / "site").is_dir() and not (tmp_path / "site").is_symlink()
    assert (tmp_path / "stage").is_symlink() and (tmp_path / "site" / "index.html").read_text() == "new"


@linux
def test_a_missing_path_is_an_ordinary_error(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(OSError) as raised:
        exchange(tmp_path / "a", tmp_path / "missing")
    assert raised.value.errno == errno.ENOENT and not isinstance(raised.value, ExchangeUnsupported)


def test_without_renameat2_it_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exchange_module, "_renameat2", lambda: None)
    with pytest.raises(ExchangeUnsupported, match="not available"):
        exchange(tmp_path / "a", tmp_path / "b")
