"""The README documents every command, its examples work, and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tutor.check import check_paths
from tutor.cli import main

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_in_the_readme_with_an_example(command: str) -> None:
    assert f"### `tutor {command}" in README
    assert re.search(rf"^tutor {command}\b", README, re.MULTILINE), f"no example of tutor {command}"


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "./scripts/test" in README
    assert "./scripts/test" in ci


def test_the_changelog_has_an_unreleased_section() -> None:
    first_heading = re.search(r"^## (.+)$", (REPO / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert first_heading is not None and first_heading.group(1) == "Unreleased"


def yaml_examples() -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)
    return [b for b in blocks if b.startswith("topic:")]


@pytest.mark.parametrize("example", yaml_examples())
def test_the_readme_bank_examples_pass_the_checker(example: str, tmp_path: Path) -> None:
    bank = tmp_path / "example.yaml"
    bank.write_text(example)
    problems, stats = check_paths([bank], 30)
    assert [str(p) for p in problems] == []
    assert stats.variants >= 30


def test_every_simulation_model_is_in_the_readme() -> None:
    from tutor.models import MODELS

    for name in MODELS:
        assert f"| `{name}` |" in README, (
            f"model {name!r} is missing from the README's model tables"
        )
