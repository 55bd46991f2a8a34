"""The bank cache: a hit gives the banks the YAML gives, and anything odd is only a miss."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tutor import bankcache
from tutor.bank import parse_bytes
from tutor.bankcache import load_banks_cached
from tutor.catalog import data_dir

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
    assert load_banks_cached([bank]) == first == (parse_bytes(BANK.read_bytes(), str(bank)),)


def test_the_banks_loaded_together_are_one_entry_in_their_order(cache: Path) -> None:
    others = sorted(data_dir("questions").glob("*.yaml"))[:3]
    forward = load_banks_cached(others)
    backward = load_banks_cached(others[::-1])
    assert [bank.path for bank in forward] == [str(p) for p in others]
    assert backward == forward[::-1]
    assert len(entries(cache)) == 2
    assert load_banks_cached(others) == forward


def test_an_edited_bank_is_a_miss(cache: Path, tmp_path: Path) -> None:
    bank = tmp_path / "bank.yaml"
    bank.write_bytes(BANK.read_bytes())
    (before,) = load_banks_cached([bank])
    bank.write_bytes(BANK.read_bytes().replace(b"difficulty: 1", b"difficulty: 3", 1))
    (after,) = load_banks_cached([bank])
    assert (before.questions[0].difficulty, after.questions[0].difficulty) == (1, 3)
    assert len(entries(cache)) == 2


def test_a_damaged_entry_is_ignored_and_replaced(cache: Path) -> None:
    expected = load_banks_cached([BANK])
    (entry,) = entries(cache)
    entry.write_bytes(b"not a pickle")
    assert load_banks_cached([BANK]) == expected
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
