"""The filter records: kept current by changes, they are what making them afresh from the members gives."""

from __future__ import annotations

import random

from feedpub.catalog import records as records_module
from feedpub.catalog.catalog import Catalog
from feedpub.catalog.records import Fields, Records
from feedpub.reading.article import Entry
from tests.catalog.test_catalog import NOW, make


def fields(entry: Entry, version: int = 0) -> Fields:
    n = int(entry.url.rsplit("/", 1)[1])
    return Fields(f"Title {n}.{version} ünïcode", f"Description {n}.{version}" if n % 3 else f"Title {n}.{version} ünïcode",
                  None if n % 4 == 0 else n * 1.5, float(n % 100))


def snapshot(records: Records) -> list[tuple[str, Fields]]:
    return [(entry.url, row) for block in records.blocks for entry, row in block.rows()]


def test_changes_give_what_making_the_records_afresh_gives(monkeypatch) -> None:
    monkeypatch.setattr(records_module, "BLOCK", 8)  # many blocks, splits, empty ones
    rng = random.Random(7)
    members: dict[str, tuple[Entry, Fields]] = {}
    records = Records()
    for step in range(60):
        came: dict[str, tuple[Entry, Fields]] = {}
        went: list[Entry] = []
        for _ in range(rng.randint(1, 12)):
            n = rng.randint(0, 150)
            entry = make(n, hours=rng.choice([n, n + 0.5, 3]))
            url = entry.url
            if url in members and rng.random() < 0.5:
                went.append(members.pop(url)[0])
            elif url not in members and all(e.url != url for e, _ in came.values()):
                came[entry.digest] = (entry, fields(entry, step))
        for row in came.values():
            members[row[0].url] = row
        records.update(came, went)
        fresh = Records()
        fresh.update({row[0].digest: row for row in members.values()}, [])
        assert snapshot(records) == snapshot(fresh), step
        order = [entry.sort_key for block in records.blocks for entry in block.entries]
        assert order == sorted(order) and len(records) == len(members)
        assert all(len(block.entries) <= 2 * 8 for block in records.blocks)


def test_the_catalog_notes_which_members_came_and_went() -> None:
    one, two = make(1), make(2)
    catalog = Catalog.build([one, two], now=NOW, limit=50, records=True)
    came, went = catalog.take_member_changes()
    assert {e.url for e in came} == {one.url, two.url} and went == []
    edited = make(1, topics=("Other",))
    catalog.apply({one.url: edited, two.url: None}, now=NOW)
    came, went = catalog.take_member_changes()
    assert came == [edited] and {e.url for e in went} == {one.url, two.url}
    catalog.apply({edited.url: edited}, now=NOW)  # the same version again: no change
    assert catalog.take_member_changes() == ([], [])
    assert Catalog.build([one], now=NOW, limit=50).records is None  # only when asked for
