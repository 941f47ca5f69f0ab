"""The one switch for the accelerators is read from the environment each time it is asked."""

from __future__ import annotations

import os

import pytest

from feedpub import accelerators


def test_the_switch_follows_the_environment_as_it_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(accelerators.SWITCH, raising=False)
    assert accelerators.enabled()
    monkeypatch.setenv(accelerators.SWITCH, "0")
    assert not accelerators.enabled()
    os.environ[accelerators.SWITCH] = "1"
    assert accelerators.enabled()
    os.environ[accelerators.SWITCH] = "0"
    assert not accelerators.enabled()
    del os.environ[accelerators.SWITCH]
    assert accelerators.enabled()
    monkeypatch.setattr(os, "environ", {accelerators.SWITCH: "0"})  # another mapping put in its place
    assert not accelerators.enabled()
