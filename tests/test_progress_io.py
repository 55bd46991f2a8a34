"""Export to JSON and import (merge) back: exact round trips, idempotence, clear refusals."""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from fsrs import Card, Rating
from hypothesis import given, settings
from hypothesis import strategies as st
from store_helpers import T0, make_attempt, replayed_cards

from tutor import progress_io
from tutor.errors import StoreError
from tutor.progress_io import (
    export_progress,
    import_file,
    import_progress,
    read_export,
    write_export,
)
from tutor.store import Store, open_store


def _fill(store: Store, start: datetime = T0, prefix: str = "") -> None:
    """A varied history: retries, mistakes, a clock set back, NumPy-free odd values."""
    store.record(make_attempt(correct=False, final=False, mistake="sigma-not-derivative", at=start))
    store.record(make_attempt(attempt_no=2, at=start + timedelta(seconds=50)), Rating.Hard)
    store.record(
        make_attempt(
            question_id=f"{prefix}he-init",
            topic="init",
            answer_text="√2 · 0.5 — “half”",
            params={"fan_in": 256, "gain": [1.0, 2.0], "nested": {"a": None}},
            at=start + timedelta(days=1),
        ),
        Rating.Easy,
    )
    store.record(make_attempt(at=start - timedelta(hours=3)), Rating.Again)  # clock set back
    store.record(make_attempt(mode="quiz", at=start + timedelta(days=9)), Rating.Good)


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "source.sqlite3") as store:
        _fill(store)
        yield store


def test_export_import_round_trips_exactly(filled: Store, tmp_path: Path) -> None:
    document = json.loads(json.dumps(export_progress(filled)))
    with open_store(tmp_path / "copy.sqlite3") as copy_store:
        assert import_progress(copy_store, document) == 5
        assert export_progress(copy_store) == export_progress(filled)
        assert copy_store.cards() == filled.cards()
        assert copy_store.attempts() == filled.attempts()


def test_importing_twice_adds_nothing(filled: Store) -> None:
    document = export_progress(filled)
    cards = filled.cards()
    assert import_progress(filled, document) == 0
    assert import_progress(filled, document) == 0
    assert filled.cards() == cards
    assert export_progress(filled) == document


def test_export_document_shape(filled: Store) -> None:
    document = export_progress(filled)
    assert document["format"] == "gradient-tutor-progress"
    assert document["version"] == 1
    first = document["attempts"][0]
    assert first["at"] == "2025-03-01T12:00:00.000000+00:00"
    assert first["rating"] is None and first["reviewed_at"] is None
    assert first["concepts"] == ["C2", "C4"]
    assert document["attempts"][3]["reviewed_at"] == "2025-03-01T12:00:50.000000+00:00"


def test_merging_two_machines_gives_the_same_cards_in_either_order(tmp_path: Path) -> None:
    exports = []
    for name, start in [("laptop", T0), ("desktop", T0 + timedelta(hours=5))]:
        with open_store(tmp_path / f"{name}.sqlite3") as store:
            _fill(store, start)
            exports.append(export_progress(store))
    merged: list[tuple[dict[str, Card], set[str]]] = []
    for order in (exports, exports[::-1]):
        with open_store(tmp_path / f"merged-{len(merged)}.sqlite3") as store:
            assert [import_progress(store, doc) for doc in order] == [5, 5]
            merged.append((store.cards(), {r.attempt.uuid for r in store.attempts()}))
            assert store.cards() == replayed_cards(store)
    assert merged[0] == merged[1]


def _valid() -> dict[str, Any]:
    record = {
        "uuid": "0b6f8f9e-6a43-4c3e-9d0c-3d2f5e0b7a11",
        "question_id": "sigmoid-chain-gradient",
        "seed": 7,
        "topic": "vanishing",
        "concepts": ["C2"],
        "mode": "practice",
        "part": 0,
        "attempt_no": 1,
        "final": True,
        "answer_text": "0.0039",
        "correct": True,
        "score": 1.0,
        "mistake": None,
        "hints_used": 0,
        "elapsed_s": 3,
        "expected": "0.00390625",
        "params": {"depth": 4},
        "bank_hash": "0f3a9c",
        "at": "2025-03-01T12:00:00+00:00",
        "rating": 3,
        "reviewed_at": "2025-03-01T12:00:00+00:00",
    }
    return {"format": "gradient-tutor-progress", "version": 1, "attempts": [record]}


def _with(path: str, value: object) -> dict[str, Any]:
    """The valid document with one attempt field (or a top-level key) replaced or removed."""
    document = _valid()
    target = document if path.startswith("/") else document["attempts"][0]
    key = path.lstrip("/")
    if value is _DELETE:
        del target[key]
    else:
        target[key] = value
    return document


_DELETE = object()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "not a gradient-tutor progress export"),
        ({"format": "anki", "version": 1, "attempts": []}, "not a gradient-tutor progress export"),
        (_with("/version", "1"), '"version" must be a positive integer'),
        (_with("/version", True), '"version" must be a positive integer'),
        (_with("/version", 2), "newer than this gradient-tutor reads"),
        (_with("/attempts", {}), '"attempts" must be a list'),
        ({**_valid(), "attempts": [1]}, r"attempts\[0\] must be an object"),
        (_with("seed", _DELETE), r"attempts\[0\]: missing seed"),
        (_with("colour", "blue"), "unknown keys colour"),
        (_with("seed", "7"), r"attempts\[0\]\.seed: expected an integer"),
        (_with("seed", True), r"\.seed: expected an integer"),
        (_with("seed", 2**70), "64-bit"),
        (_with("score", float("nan")), r"\.score: expected a finite number"),
        (_with("final", 1), r"\.final: expected true or false"),
        (_with("at", "yesterday"), r"\.at: expected an ISO 8601 time"),
        (_with("at", "2025-03-01T12:00:00"), r"\.at: expected an ISO 8601 time with a UTC offset"),
        (_with("uuid", "not-a-uuid"), r"\.uuid: expected a UUID"),
        (_with("rating", 5), r"\.rating: expected null or a rating"),
        (_with("reviewed_at", None), "both set or both null"),
        (_with("mode", "exam"), "mode must be one of"),
        (_with("concepts", "C2"), r"\.concepts: expected a list of texts"),
        (_with("params", [1]), r"\.params: expected an object"),
        (_with("mistake", 3), r"\.mistake: expected text"),
        (
            _with("at", "2099-01-01T00:00:00+00:00"),
            r"\.at: 2099-01-01T00:00:00\.000000\+00:00 is in the future",
        ),
        (_with("reviewed_at", "2099-01-01T00:00:00+00:00"), r"\.reviewed_at: 2099-.* the future"),
        (
            _with("at", "1999-12-31T23:59:59+00:00"),
            r"\.at: 1999-12-31T23:59:59\.000000\+00:00 is before 2000",
        ),
        (_with("at", "9999-12-31T23:00:00-05:00"), r"\.at: the time is out of range"),
    ],
)
def test_malformed_documents_are_refused(tmp_path: Path, document: object, message: str) -> None:
    with open_store(tmp_path / "p.sqlite3") as store:
        with pytest.raises(StoreError, match=message):
            import_progress(store, document)
        assert store.attempts() == []


def _attempt_with(**changes: object) -> dict[str, Any]:
    """The valid document with several attempt fields replaced."""
    document = _valid()
    document["attempts"][0].update(changes)
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_with("seed", -5), r"attempts\[0\]: seed must be from 0 to 9223372036854775807\.$"),
        (_with("score", 5), r"attempts\[0\]: score must be from 0 to 1\.$"),
        (_with("score", -0.5), "score must be from 0 to 1"),
        (_with("part", -1), "part must be 0 or more"),
        (_with("part", 26), "part must be from 0 to 25"),
        (_with("attempt_no", 0), "attempt_no starts at 1"),
        (_with("attempt_no", 4), "attempt_no must be from 1 to 3"),
        (_with("hints_used", -1), "hints_used must be 0 or more"),
        (_with("hints_used", 1), "hints_used must be from 0 to attempt_no - 1"),
        (_with("elapsed_s", -3), "elapsed_s must be 0 or more"),
        (_with("final", False), "only the final attempt at a question has a rating"),
        (_with("reviewed_at", "2025-03-01T11:59:59+00:00"), "reviewed_at is before at"),
    ],
)
def test_values_no_answer_can_have_are_refused(
    tmp_path: Path, document: object, message: str
) -> None:
    """Every command refuses --seed -1 and scores run from 0 to 1: an export edited to hold
    other values was imported."""
    with open_store(tmp_path / "p.sqlite3") as store:
        with pytest.raises(StoreError, match=message):
            import_progress(store, document)
        assert store.attempts() == []


@pytest.mark.parametrize(
    "document",
    [
        _attempt_with(seed=progress_io.MAX_SEED, part=progress_io.MAX_PARTS - 1, score=0.5),
        _attempt_with(attempt_no=3, hints_used=2, elapsed_s=0, score=0),
        _attempt_with(final=False, rating=None, reviewed_at=None),
    ],
)
def test_the_ends_of_each_range_import(tmp_path: Path, document: dict[str, Any]) -> None:
    with open_store(tmp_path / "p.sqlite3") as store:
        assert import_progress(store, document) == 1


def test_the_import_ranges_are_the_programs() -> None:
    """Written out in progress_io so that importing loads neither the bank nor the quiz."""
    from tutor.bank import MAX_OPTIONS
    from tutor.cli import main
    from tutor.quiz import MAX_ATTEMPTS

    assert progress_io.MAX_PARTS == MAX_OPTIONS
    assert max(MAX_ATTEMPTS.values()) == progress_io.MAX_TRIES
    [seed] = [param for param in main.commands["quiz"].params if param.name == "seed"]
    assert isinstance(seed.type, click.IntRange)
    assert (seed.type.min, seed.type.max) == (0, progress_io.MAX_SEED)


def _repeated(**changes: object) -> dict[str, Any]:
    """The valid document with a second attempt that has the first one's uuid."""
    document = _valid()
    document["attempts"].append({**document["attempts"][0], **changes})
    return document


def test_an_attempt_repeated_in_the_file_counts_once(tmp_path: Path) -> None:
    """It was counted as "already there" in an empty store."""
    document = _repeated(uuid=_valid()["attempts"][0]["uuid"].upper())  # the same uuid
    with open_store(tmp_path / "p.sqlite3") as store:
        assert progress_io.import_counted(store, document) == (1, 1)
        assert progress_io.import_counted(store, document) == (0, 1)
        assert len(store.attempts()) == 1


def test_two_attempts_with_one_uuid_are_refused(tmp_path: Path) -> None:
    with open_store(tmp_path / "p.sqlite3") as store:
        with pytest.raises(
            StoreError, match=r"attempts\[1\] has the uuid of attempts\[0\] but differs"
        ):
            import_progress(store, _repeated(answer_text="0.004"))
        assert store.attempts() == []


@pytest.mark.parametrize("rating", [3, None])
def test_an_attempt_in_year_9999_is_refused(tmp_path: Path, rating: int | None) -> None:
    document = _with("at", "9999-12-31T23:00:00+00:00")  # was an OverflowError with a rating
    when = None if rating is None else "9999-12-31T23:00:00+00:00"
    document["attempts"][0].update(rating=rating, reviewed_at=when)
    with open_store(tmp_path / "p.sqlite3") as store:
        with pytest.raises(StoreError, match=r"attempts\[0\]\.at: 9999-.* is in the future"):
            import_progress(store, document)
        assert store.attempts() == []


def test_times_may_be_up_to_a_day_past_the_clock(tmp_path: Path) -> None:
    """Another machine's clock may run a little ahead, but not by days."""
    ahead = T0 + timedelta(hours=20)
    document = _with("at", ahead.isoformat())
    document["attempts"][0]["reviewed_at"] = ahead.isoformat()
    with open_store(tmp_path / "p.sqlite3") as store:
        with pytest.raises(StoreError, match="is in the future"):
            import_progress(store, document, now=T0 - timedelta(hours=5))
        assert import_progress(store, document, now=T0) == 1


def test_the_valid_document_imports(tmp_path: Path) -> None:
    with open_store(tmp_path / "p.sqlite3") as store:
        assert import_progress(store, _valid()) == 1
        assert store.card("sigmoid-chain-gradient") is not None


def test_one_bad_attempt_imports_nothing(tmp_path: Path) -> None:
    document = _valid()
    bad = copy.deepcopy(document["attempts"][0])
    bad["uuid"], bad["seed"] = "1b6f8f9e-6a43-4c3e-9d0c-3d2f5e0b7a11", "x"
    document["attempts"].append(bad)
    with open_store(tmp_path / "p.sqlite3") as store:
        with pytest.raises(StoreError, match=r"attempts\[1\]\.seed"):
            import_progress(store, document)
        assert store.attempts() == []
        assert store.cards() == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": ', "is not valid JSON \\(line 1, column 12"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        (b"[" * 200_000, "nested too deeply"),
    ],
)
def test_unreadable_export_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=message) as info:
        read_export(path)
    assert str(path) in str(info.value)


def test_missing_export_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot read export"):
        read_export(tmp_path / "absent.json")


def test_files_round_trip_and_messages_name_the_file(filled: Store, tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    write_export(filled, path)
    assert not list(tmp_path.glob(".progress.json.*"))  # no temporary file left behind
    with open_store(tmp_path / "copy.sqlite3") as store:
        assert import_file(store, path) == 5
        assert store.cards() == filled.cards()
    path.write_text(json.dumps(_with("seed", "7")))
    with (
        open_store(tmp_path / "other.sqlite3") as store,
        pytest.raises(StoreError, match=re.escape(f"export {path}: attempts[0].seed")),
    ):
        import_file(store, path)


def test_write_export_into_a_missing_folder(filled: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"cannot write the export: cannot write .*absent"):
        write_export(filled, tmp_path / "absent" / "progress.json")


def test_an_export_never_replaces_a_pipe_or_device(filled: Store, tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for target in (pipe, Path(os.devnull)):
        with pytest.raises(StoreError, match="it is not a regular file"):
            write_export(filled, target)
    assert pipe.is_fifo()


def test_an_endless_or_oversized_export_is_refused_before_it_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_number = tmp_path / "long.json"
    long_number.write_text('{"attempts": ' + "1" * 5000 + "}")
    with pytest.raises(StoreError, match="a number too long to read"):
        read_export(long_number)  # was a ValueError from Python's integer limit
    monkeypatch.setattr(progress_io, "MAX_EXPORT_BYTES", 1000)
    with pytest.raises(StoreError, match="larger than"):
        read_export(long_number)
    with pytest.raises(StoreError, match="larger than"):
        read_export("/dev/zero")  # never ends: read no further than the limit


steps = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.integers(min_value=-2 * 24 * 60, max_value=30 * 24 * 60),  # minutes; may go back
        st.none() | st.sampled_from(list(Rating)),
        st.sampled_from([None, "forgot-weights", "n-1-layers"]),
    ),
    max_size=10,
)


@settings(deadline=None, max_examples=25)
@given(steps)
def test_any_history_round_trips(history: list[tuple[str, int, Rating | None, str | None]]) -> None:
    with tempfile.TemporaryDirectory() as folder, open_store(Path(folder) / "a.sqlite3") as source:
        for question_id, minutes, rating, mistake in history:
            attempt = make_attempt(
                question_id=question_id,
                correct=mistake is None,
                mistake=mistake,
                at=T0 + timedelta(minutes=minutes),
            )
            source.record(attempt, rating)
        document = export_progress(source)
        with open_store(Path(folder) / "b.sqlite3") as target:
            assert import_progress(target, document) == len(history)
            assert import_progress(target, document) == 0
            assert target.cards() == source.cards()
            assert export_progress(target) == document
