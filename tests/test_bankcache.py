"""The bank cache: a hit gives the banks the YAML gives, and anything odd is only a miss."""

from __future__ import annotations

import gc
import os
import pickle
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from tutor import bankcache
from tutor.bank import parse_bytes
from tutor.bankcache import load_banks_cached
from tutor.bankspec import Bank
from tutor.catalog import Catalog, data_dir, load_catalog
from tutor.errors import BankError, TutorError

BANK = data_dir("questions") / "vanishing.yaml"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TUTOR_CACHE_DIR", str(folder))
    return folder


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pickle"))


def test_a_second_load_comes_from_the_cache_and_equals_the_yaml(
    cache: Path, tmp_path: Path
) -> None:
    bank = tmp_path / "bank.yaml"
    shutil.copy(BANK, bank)
    first = load_banks_cached([bank])
    assert len(entries(cache)) == 1
    bank.unlink()  # a hit must not need the YAML parsed again...
    bank.write_bytes(BANK.read_bytes())  # ...only its bytes, to make the key
    assert (
        tuple(load_banks_cached([bank]))
        == tuple(first)
        == (parse_bytes(BANK.read_bytes(), str(bank)),)
    )


def test_the_banks_loaded_together_are_one_entry_in_their_order(cache: Path) -> None:
    others = sorted(data_dir("questions").glob("*.yaml"))[:3]
    forward = tuple(load_banks_cached(others))
    backward = tuple(load_banks_cached(others[::-1]))
    assert [bank.path for bank in forward] == [str(p) for p in others]
    assert backward == forward[::-1]
    assert len(entries(cache)) == 2
    assert tuple(load_banks_cached(others)) == forward


def test_an_edited_bank_is_a_miss(cache: Path, tmp_path: Path) -> None:
    bank = tmp_path / "bank.yaml"
    bank.write_bytes(BANK.read_bytes())
    (before,) = load_banks_cached([bank])
    bank.write_bytes(BANK.read_bytes().replace(b"difficulty: 1", b"difficulty: 3", 1))
    (after,) = load_banks_cached([bank])
    assert (before.questions[0].difficulty, after.questions[0].difficulty) == (1, 3)
    assert len(entries(cache)) == 2


def test_a_damaged_entry_is_ignored_and_replaced(cache: Path) -> None:
    expected = tuple(load_banks_cached([BANK]))
    (entry,) = entries(cache)
    entry.write_bytes(b"not a pickle")
    assert tuple(load_banks_cached([BANK])) == expected
    assert entry.read_bytes() != b"not a pickle"


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    load_banks_cached([BANK])
    assert not list(tmp_path.rglob("*.pickle"))


def test_old_entries_are_pruned(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bankcache, "MAX_ENTRIES", 3)
    cache.mkdir()
    for age in range(5):  # five stale entries from older versions, oldest first
        stale = cache / f"stale{age}.pickle"
        stale.write_bytes(b"old")
        os.utime(stale, (1_000_000 + age, 1_000_000 + age))
    load_banks_cached([BANK])
    names = [p.name for p in entries(cache)]
    assert len(names) == 3
    assert "stale0.pickle" not in names and "stale4.pickle" in names


def test_a_hit_unpickles_only_the_banks_used(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    three = sorted(data_dir("questions").glob("*.yaml"))[:3]
    parsed = tuple(load_banks_cached(three))
    unpickled: list[object] = []
    real_loads = pickle.loads

    def counting_loads(data: bytes) -> object:
        unpickled.append(result := real_loads(data))
        return result

    monkeypatch.setattr(bankcache.pickle, "loads", counting_loads)
    banks = load_banks_cached(three)
    last = parsed[2].questions[-1].id
    assert banks.where[last] == 2 and len(unpickled) == 1  # the entry: names, blobs, index
    assert banks[2] == parsed[2]
    assert len(unpickled) == 2 and isinstance(unpickled[1], Bank)
    assert tuple(banks) == parsed and len(unpickled) == 4


def test_a_damaged_bank_in_an_entry_is_parsed_from_its_bytes(cache: Path) -> None:
    two = sorted(data_dir("questions").glob("*.yaml"))[:2]
    parsed = tuple(load_banks_cached(two))
    (entry,) = entries(cache)
    names, blobs, where = pickle.loads(entry.read_bytes())
    huge = b"\x96" + (2**62).to_bytes(8, "little")  # BYTEARRAY8 of 4 EiB: MemoryError
    damaged = pickle.dumps((names, (blobs[0], huge), where))
    entry.write_bytes(damaged)
    assert tuple(load_banks_cached(two)) == parsed
    assert entry.read_bytes() == damaged  # a hit, its damaged bank parsed from the YAML
    entry.write_bytes(pickle.dumps((names, (blobs[1], blobs[0]), where)))  # swapped banks
    assert tuple(load_banks_cached(two)) == parsed
    entry.write_bytes(pickle.dumps((names, blobs, dict.fromkeys(where, 7))))  # no bank 7
    assert load_banks_cached(two).where == where
    entry.write_bytes(pickle.dumps((names, blobs, {1: 0})))  # not a question id
    assert load_banks_cached(two).where == where


def test_banks_that_fail_the_check_are_not_cached(cache: Path) -> None:
    def refuse(banks: Sequence[Bank]) -> None:
        raise BankError(f"refused {len(banks)} bank")

    with pytest.raises(BankError, match="refused 1 bank"):
        load_banks_cached([BANK], check=refuse)
    assert not entries(cache)
    with pytest.raises(BankError, match="refused 1 bank"):
        load_banks_cached([BANK], check=refuse)


def test_the_catalog_finds_a_question_through_the_index_or_else_by_scanning(cache: Path) -> None:
    last = load_catalog().questions[-1]
    catalog = load_catalog()  # a hit: no bank unpickled yet
    assert catalog.get(last.id) == last
    unpickled = [isinstance(b, Bank) for b in catalog.banks._banks]  # type: ignore[attr-defined]
    assert unpickled.count(True) == 1 and unpickled[catalog.where[last.id]]
    assert catalog.get(last.id) is catalog.get(last.id)
    misled = Catalog(catalog.banks, {last.id: 0})
    assert misled.get(last.id) == last
    assert Catalog(tuple(catalog.banks)).get(last.id) == last
    with pytest.raises(TutorError, match="did you mean"):
        catalog.get(last.id + "x")


def test_an_id_used_in_two_banks_is_an_error_every_time(cache: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for copy in (first, second):
        copy.write_bytes(BANK.read_bytes())
    for _ in range(2):
        with pytest.raises(BankError, match=f"question id already used in {first}"):
            load_catalog([first, second], replace=True)
    assert not entries(cache)


def test_unpickling_pauses_cycle_collection_and_restores_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    real_loads = pickle.loads

    def watching_loads(data: bytes) -> object:
        seen.append(gc.isenabled())
        return real_loads(data)

    monkeypatch.setattr(bankcache.pickle, "loads", watching_loads)
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            assert bankcache._unpickled(pickle.dumps(1)) == 1
            assert bankcache._unpickled(b"garbage") is None
            assert gc.isenabled() is enabled
    finally:
        gc.enable()
    assert seen == [False] * 4
