"""The built wheel works on its own: banks and templates inside, runnable from anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from this checkout and installed into a folder of its own."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(root / "dist"), str(REPO)],
        check=True, timeout=600,
    )  # fmt: skip
    (wheel,) = (root / "dist").glob("gradient_tutor-*.whl")
    target = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True, timeout=600,
    )  # fmt: skip
    return target


def run_installed(target: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the wheel's ``tutor`` from an empty directory, ahead of the checkout on the path."""
    env = {**os.environ, "PYTHONPATH": str(target), "NO_COLOR": "1"}
    workdir = target.parent / "elsewhere"
    workdir.mkdir(exist_ok=True)
    return subprocess.run(
        [str(target / "bin" / "tutor"), *args], input=stdin, capture_output=True, text=True,
        cwd=workdir, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_the_wheel_carries_banks_and_templates(installed: Path) -> None:
    assert sorted(p.name for p in (installed / "tutor" / "_data" / "questions").glob("*.yaml"))
    templates = sorted(p.name for p in (REPO / "templates").iterdir())
    assert (
        sorted(p.name for p in (installed / "tutor" / "_data" / "templates").iterdir()) == templates
    )


def test_the_wheel_runs_its_own_copy(installed: Path) -> None:
    result = run_installed(installed, "list", "--json")
    assert result.returncode == 0, result.stderr
    banks = [b["path"] for b in json.loads(result.stdout)["banks"]]
    assert banks and all(str(installed / "tutor" / "_data" / "questions") in b for b in banks)


def test_a_quiz_from_the_wheel(installed: Path) -> None:
    result = run_installed(
        installed, "quiz", "--question", "sigmoid-chain-gradient", "--seed", "12", stdin="0.25^16\n"
    )
    assert result.returncode == 0, result.stderr
    assert "✓ Correct." in result.stdout


def test_check_from_the_wheel(installed: Path) -> None:
    result = run_installed(installed, "check", "--seeds", "5")
    assert result.returncode == 0, result.stdout + result.stderr
