"""Shared test configuration: a derandomized Hypothesis profile and common fixtures."""

from __future__ import annotations

import os

# Small matrix products run fastest single-threaded, and the tests run beside each other.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from practice_helpers import make_catalog

from tutor.catalog import Catalog
from tutor.store import DB_FILENAME, Store, open_store

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_progress(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No test touches the real progress file or bank cache: both point into temporary folders."""
    monkeypatch.setenv("TUTOR_DB", str(tmp_path_factory.mktemp("db") / "progress.sqlite3"))
    monkeypatch.setenv("TUTOR_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "bank-cache"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The arithmetic and "why?" banks of the practice tests, loaded once per module."""
    return make_catalog(tmp_path_factory.mktemp("banks"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty progress store in a fresh file."""
    with open_store(tmp_path / "p.sqlite3") as opened:
        yield opened


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Where a progress file would go (nothing there yet)."""
    return tmp_path / DB_FILENAME
