"""`tutor stats`: the text report, `--json`, `--export`, and that it never writes the store."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from fsrs import Rating
from practice_helpers import write_banks
from store_helpers import make_attempt
from test_stats import NEW_YORK, local_zone

from tutor.cli import main
from tutor.store import open_store, utc_now

TEMPLATES = 8  # questions in the test banks


@pytest.fixture
def banks(tmp_path: Path) -> Path:
    return write_banks(tmp_path / "banks")


def stats(db: Path, banks: Path, *extra: str) -> tuple[int, str]:
    args = ["stats", "--db", str(db), "--bank", str(banks), "--only-banks", *extra]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def stats_json(db: Path, banks: Path, *extra: str) -> dict[str, Any]:
    code, out = stats(db, banks, "--json", *extra)
    assert code == 0, out
    data: dict[str, Any] = json.loads(out)
    return data


# (question, days ago, correct, mistake, rating)
HISTORY = [
    ("times-two", 1, False, "divided", Rating.Again),
    ("times-two", 0, False, "divided", Rating.Again),
    ("times-three", 1, True, None, Rating.Easy),
    ("why-c1", 0, True, None, Rating.Good),
]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "progress.sqlite3"
    now = utc_now()
    with open_store(path) as store:
        for seed, (qid, days, correct, mistake, rating) in enumerate(HISTORY):
            attempt = make_attempt(question_id=qid, topic="ideas" if "why" in qid else
                                   "arithmetic", seed=seed, correct=correct, mistake=mistake,
                                   at=now - timedelta(days=days, milliseconds=9 - seed))  # fmt: skip
            store.record(attempt, rating)
    return path


def test_no_progress_yet_is_not_an_error_and_creates_nothing(tmp_path: Path, banks: Path) -> None:
    db = tmp_path / "none" / "progress.sqlite3"
    code, out = stats(db, banks)
    assert code == 0
    assert out.startswith(f"No progress recorded yet in {db}.")
    data = stats_json(db, banks)
    assert (data["attempts"], data["accuracy"], data["due"]["new"]) == (0, None, TEMPLATES)
    assert not db.parent.exists()


def test_the_text_report(db: Path, banks: Path) -> None:
    code, out = stats(db, banks)
    assert code == 0, out
    assert f"Progress in {db}" in out
    assert "Attempts: 4, 2 right (50%)" in out
    assert f", {TEMPLATES - 3} new" in out
    assert "Streak: 2 days (longest 2)" in out
    assert "Topics, weakest first\ntopic" in out
    assert "Mistakes you make most\n  divided  ×2" in out
    assert "in: Multiply by 2" in out  # the question title, not only its id
    assert "Keep coming back: divided." in out
    chart = out.split("Reviews per day (last 14 days)\n")[1].splitlines()
    assert len(chart) == 15  # 14 days and the scale
    assert chart[-2].endswith("│██████████████████████████████ 2")  # today, the longest bar
    assert chart[-1].strip().startswith("└ linear scale 0 … 2")


def test_topics_table_rows(db: Path, banks: Path) -> None:
    _, out = stats(db, banks)
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()
            if line.startswith(("arithmetic ", "ideas "))}  # fmt: skip
    assert rows["arithmetic"][:3] == ["3", "33%", "33%"]  # attempts, accuracy, mastery
    assert rows["arithmetic"][-3:] == ["2", "of", "3"]  # reviewed of templates


def test_json_has_everything_including_attempts(db: Path, banks: Path) -> None:
    data = stats_json(db, banks)
    assert data["attempts"] == 4
    assert data["correct"] == 2 and data["accuracy"] == 0.5
    assert data["due"]["cards"] == 3
    assert data["due"]["new"] == TEMPLATES - 3
    assert data["due"]["now"] + data["due"]["later"] == 3
    assert data["streak"]["current"] == 2
    assert data["recurring"] == {"divided": 2}
    [mistake] = data["mistakes"]
    assert mistake["mistake"] == "divided" and mistake["count"] == 2
    assert mistake["questions"] == [{"id": "times-two", "title": "Multiply by 2"}]
    assert [t["topic"] for t in data["topics"]] == ["ideas", "arithmetic"]  # weakest first
    assert len(data["per_day"]) == 14
    assert sum(day["reviews"] for day in data["per_day"]) == 4
    assert data["db"] == str(db)


@pytest.mark.parametrize("days", [1, 7, 30])
def test_days_sets_the_chart_length(db: Path, banks: Path, days: int) -> None:
    assert len(stats_json(db, banks, "--days", str(days))["per_day"]) == days


def test_stats_never_writes_the_store(db: Path, banks: Path) -> None:
    before = db.read_bytes()
    stats(db, banks)
    stats_json(db, banks)
    assert db.read_bytes() == before


def test_export_writes_every_attempt(db: Path, banks: Path, tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    code, out = stats(db, banks, "--export", str(target))
    assert (code, out) == (0, f"Exported 4 attempts to {target}.\n")
    data = json.loads(target.read_text())
    assert data["format"] == "gradient-tutor-progress"
    assert len(data["attempts"]) == 4


def test_export_without_progress_writes_an_empty_export(tmp_path: Path, banks: Path) -> None:
    db, target = tmp_path / "missing.sqlite3", tmp_path / "e.json"
    code, out = stats(db, banks, "--export", str(target))
    assert (code, out) == (0, f"No answers recorded yet; wrote an empty export to {target}.\n")
    assert json.loads(target.read_text()) == {
        "format": "gradient-tutor-progress",
        "version": 1,
        "attempts": [],
    }
    assert not db.exists()  # exporting never creates the progress file
    other = tmp_path / "other.sqlite3"
    result = CliRunner().invoke(main, ["import", str(target), "--db", str(other)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Imported 0 of 0 attempts from {target}")


def test_an_empty_file_is_no_progress_yet_and_stays_empty(tmp_path: Path, banks: Path) -> None:
    """A 0-byte file (``touch``) is a new progress file to practice, so no progress to stats;
    it was "needs an upgrade, which cannot be done read-only"."""
    empty, missing = tmp_path / "empty.sqlite3", tmp_path / "missing.sqlite3"
    empty.touch()
    code, out = stats(empty, banks)
    assert (code, out) == (0, stats(missing, banks)[1].replace(str(missing), str(empty)))
    assert stats_json(empty, banks) == {**stats_json(missing, banks), "db": str(empty)}
    target = tmp_path / "e.json"
    code, out = stats(empty, banks, "--export", str(target))
    assert (code, out) == (0, f"No answers recorded yet; wrote an empty export to {target}.\n")
    assert json.loads(target.read_text())["attempts"] == []
    assert empty.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["banks", "e.json", "empty.sqlite3"]


@pytest.mark.parametrize("command", ["quiz", "practice", "stats", "import"])
def test_help_mentions_db_and_tutor_db(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "--db" in result.output
    assert "TUTOR_DB" in result.output


# --- export must not replace the progress file ------------------------------------------------


def _refused_export(db: Path, target: Path, banks: Path) -> None:
    before = db.read_bytes() if db.exists() else None
    code, out = stats(db, banks, "--export", str(target))
    assert code == 1
    assert out == (
        f"Error: cannot export to {target}: that would overwrite the progress file {db}. "
        "Choose another file for the export.\n"
    )
    assert (db.read_bytes() if db.exists() else None) == before


def test_export_refuses_the_progress_file_itself(db: Path, banks: Path, tmp_path: Path) -> None:
    _refused_export(db, db, banks)
    link = tmp_path / "link.json"
    link.symlink_to(db)
    _refused_export(db, link, banks)
    _refused_export(link, db, banks)
    hard = tmp_path / "hard.json"
    os.link(db, hard)
    _refused_export(db, hard, banks)
    for side in ("-wal", "-shm", "-journal"):
        _refused_export(db, Path(f"{db}{side}"), banks)
    _refused_export(tmp_path / "none.sqlite3", tmp_path / "none.sqlite3", banks)
    with open_store(db) as store:
        assert len(store.attempts()) == len(HISTORY)


# --- due counts over the banks loaded -----------------------------------------------------------


def test_cards_of_banks_not_loaded_are_not_counted_as_due(db: Path, banks: Path) -> None:
    with open_store(db) as store:
        store.record(make_attempt(question_id="from-another-bank", seed=50,
                                  at=utc_now() - timedelta(hours=1)), Rating.Again)  # fmt: skip
    data = stats_json(db, banks)
    assert data["due"]["cards"] == 3
    assert data["due"]["not_loaded"] == 1
    assert data["due"]["now"] + data["due"]["later"] == 3
    code, out = stats(db, banks)
    assert code == 0
    assert "new\n1 more card belongs to a bank not loaded now.\nStreak:" in out


@pytest.mark.parametrize("topic", ["arithmetic", "elsewhere"])
def test_topics_count_the_cards_of_loaded_banks_only(db: Path, banks: Path, topic: str) -> None:
    """A card whose bank is not loaded is on a line of its own, as in the overview; the topics
    counted it as due and as one of its topic's templates. Its answer still counts."""
    before = {t["topic"]: t for t in stats_json(db, banks)["topics"]}
    with open_store(db) as store:
        store.record(make_attempt(question_id="from-another-bank", topic=topic, seed=50,
                                  at=utc_now() - timedelta(hours=1)), Rating.Again)  # fmt: skip
    data = stats_json(db, banks)
    topics = {t["topic"]: t for t in data["topics"]}
    cards = ("due", "reviewed", "templates", "mastery")
    for name, row in before.items():
        assert {key: topics[name][key] for key in cards} == {key: row[key] for key in cards}
    assert topics[topic]["attempts"] == before.get(topic, {"attempts": 0})["attempts"] + 1
    assert sum(t["due"] for t in topics.values()) == data["due"]["now"]
    assert sum(t["reviewed"] for t in topics.values()) == data["due"]["cards"] == 3
    assert sum(t["templates"] for t in topics.values()) == TEMPLATES
    assert sum(t["attempts"] for t in topics.values()) == data["attempts"]
    row = topics[topic]
    line = (
        rf"\n{topic} +{row['attempts']} .* {row['due']} +{row['reviewed']} of {row['templates']}\n"
    )
    assert re.search(line, stats(db, banks)[1])


def test_no_line_about_other_banks_when_every_card_is_loaded(db: Path, banks: Path) -> None:
    assert "not loaded" not in stats(db, banks)[1]
    assert stats_json(db, banks)["due"]["not_loaded"] == 0


# --- days in the local time zone ----------------------------------------------------------------


def _last_change(zone: ZoneInfo, today: date) -> date:
    """The first day on the current UTC offset, after the last daylight-saving change."""

    def offset(day: date) -> timedelta | None:
        return datetime.combine(day, time(12), zone).utcoffset()

    day = today
    while offset(day - timedelta(days=1)) == offset(today):
        day -= timedelta(days=1)
    return day


def test_days_are_local_days_across_a_daylight_saving_change(tmp_path: Path, banks: Path) -> None:
    """Answers at 00:30 and 23:30 on a day before the last change stay on that day (a fixed
    offset, today's, moved one of them to a neighbouring day)."""
    day = _last_change(NEW_YORK, datetime.now(NEW_YORK).date()) - timedelta(days=2)
    db = tmp_path / "p.sqlite3"
    with open_store(db) as store:
        for seed, clock in enumerate((time(0, 30), time(23, 30))):
            at = datetime.combine(day, clock, NEW_YORK).astimezone(UTC)
            store.record(make_attempt(question_id="times-two", seed=seed, at=at), Rating.Good)
    with local_zone("America/New_York"):
        data = stats_json(db, banks, "--days", "366")
    active = {d["day"]: d["attempts"] for d in data["per_day"] if d["attempts"]}
    assert active == {day.isoformat(): 2}
    assert data["time_zone"] in {"EST", "EDT"}
    assert data["utc_offset"] == {"EST": "-05:00", "EDT": "-04:00"}[data["time_zone"]]


def test_a_half_hour_zone_is_given_as_an_offset(tmp_path: Path, banks: Path) -> None:
    with local_zone("Asia/Kolkata"):  # named "IST" locally, which also names two other zones
        data = stats_json(tmp_path / "p.sqlite3", banks)
    assert (data["time_zone"], data["utc_offset"]) == ("IST", "+05:30")


def test_times_at_the_end_of_the_calendar_do_not_crash(tmp_path: Path, banks: Path) -> None:
    db = tmp_path / "p.sqlite3"
    with open_store(db) as store:  # stored by an import before such times were refused
        store.record(make_attempt(mistake="m", at=datetime(9999, 12, 31, 23, tzinfo=UTC)))
    with local_zone("Pacific/Kiritimati"):  # UTC+14: already year 10000 there
        code, out = stats(db, banks)
        assert code == 0, out
        assert "m  ×1  (last 9999-12-31)" in out
        assert stats_json(db, banks)["streak"]["current"] == 0
