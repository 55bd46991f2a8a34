"""`tutor stats`: the text report, `--json`, `--export`, and that it never writes the store."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fsrs import Rating
from practice_helpers import write_banks
from store_helpers import make_attempt

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


@pytest.mark.parametrize("command", ["quiz", "practice", "stats", "import"])
def test_help_mentions_db_and_tutor_db(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "--db" in result.output
    assert "TUTOR_DB" in result.output
