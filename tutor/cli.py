"""The ``tutor`` command: click commands that parse options and call the library.

This is the one place where library errors (:class:`tutor.errors.TutorError`) become an
``Error: ...`` line and a non-zero exit code. Heavy imports (NumPy, Jinja) happen inside the
commands so that ``tutor --help`` stays fast.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tutor.errors import TutorError

if TYPE_CHECKING:
    from tutor.catalog import Catalog

F = TypeVar("F", bound=Callable[..., Any])


class TutorGroup(click.Group):
    """A command group that reports library errors without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TutorError as exc:
            raise click.ClickException(str(exc)) from None


def bank_options(command: F) -> F:
    """``--bank PATH`` (repeatable) and ``--only-banks``, shared by every bank command."""
    command = click.option(
        "--only-banks",
        is_flag=True,
        help="Use only the --bank files, not the bundled banks.",
    )(command)
    return click.option(
        "--bank",
        "banks",
        multiple=True,
        type=click.Path(path_type=Path),
        help="A bank file or folder of your own (repeatable); added to the bundled banks.",
    )(command)


def seed_option(required: bool = False) -> Callable[[F], F]:
    return click.option(
        "--seed",
        type=click.IntRange(0, 2**63 - 1),
        required=required,
        help="The seed that names the variant (same seed, same numbers).",
    )


def load(banks: tuple[Path, ...], only_banks: bool) -> Catalog:
    from tutor.catalog import load_catalog

    return load_catalog(banks, replace=only_banks)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))


@click.group(cls=TutorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradient-tutor", prog_name="tutor")
def main() -> None:
    """Learn the vanishing and exploding gradient problems by computing them.

    Start with `tutor quiz`; see `tutor COMMAND --help` for each command.
    """


@main.command()
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeatable).")
@click.option(
    "-n",
    "count",
    type=click.IntRange(1, 500),
    default=5,
    show_default=True,
    help="Number of questions.",
)
@seed_option()
@click.option("--difficulty", type=click.IntRange(1, 3), help="Only this difficulty (1-3).")
@click.option("--question", "question_id", help="Ask this one question (with --seed to replay).")
@bank_options
def quiz(
    topics: tuple[str, ...],
    count: int,
    seed: int | None,
    difficulty: int | None,
    question_id: str | None,
    banks: tuple[Path, ...],
    only_banks: bool,
) -> None:
    """Answer questions in the terminal, with hints and worked explanations.

    \b
    Examples:
      tutor quiz                              five questions on every topic
      tutor quiz --topic vanishing -n 3 --seed 7
      tutor quiz --question sigmoid-chain-gradient --seed 1234
      printf '0.25\\n' | tutor quiz --question sigmoid-derivative --seed 1
    """
    from tutor import quiz as quizzing
    from tutor.terminal import Console
    from tutor.variant import make_variant

    catalog = load(banks, only_banks)
    seed = secrets.randbelow(1_000_000) if seed is None else seed
    if question_id:
        chosen = [(catalog.get(question_id), seed)]
    else:
        pool = catalog.select(topics, difficulty)
        if not pool:
            raise TutorError("no questions match these --topic and --difficulty options")
        chosen = quizzing.plan(pool, count, seed)
    console = Console()
    if not question_id:
        console.say(f"Quiz seed {seed} (replay with --seed {seed}). Ctrl-C ends early.", "dim")
    variants = (make_variant(q, s) for q, s in chosen)
    summary = quizzing.run_quiz(console, variants, len(chosen))
    quizzing.print_summary(console, summary)


@main.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@bank_options
def list_questions(as_json: bool, banks: tuple[Path, ...], only_banks: bool) -> None:
    """List banks, topics and questions.

    \b
    Examples:
      tutor list
      tutor list --json
      tutor list --bank my-questions.yaml
    """
    from tutor.listing import listing_json, listing_text

    catalog = load(banks, only_banks)
    if as_json:
        emit_json(listing_json(catalog))
    else:
        click.echo(listing_text(catalog))


@main.command()
@click.argument("question_id")
@seed_option(required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@bank_options
def explain(
    question_id: str, seed: int, as_json: bool, banks: tuple[Path, ...], only_banks: bool
) -> None:
    """Show one variant: its prompt, answer and worked explanation.

    \b
    Examples:
      tutor explain sigmoid-chain-gradient --seed 42
      tutor explain sigmoid-chain-gradient --seed 42 --json
    """
    from tutor.present import describe
    from tutor.terminal import Console
    from tutor.variant import make_variant

    variant = make_variant(load(banks, only_banks).get(question_id), seed)
    if as_json:
        emit_json(describe(variant))
    else:
        Console().variant_in_full(variant)


@main.command()
@click.argument("question_id")
@click.argument("answer")
@seed_option(required=True)
@click.option(
    "--part",
    type=click.IntRange(1, 50),
    default=1,
    show_default=True,
    help="Which part of a chained question.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@bank_options
def grade(
    question_id: str,
    answer: str,
    seed: int,
    part: int,
    as_json: bool,
    banks: tuple[Path, ...],
    only_banks: bool,
) -> None:
    """Grade one answer to one variant, for scripts and integrations.

    \b
    Examples:
      tutor grade sigmoid-chain-gradient --seed 42 "0.25^10"
      tutor grade sigmoid-chain-gradient --seed 42 9.5e-7 --json
    """
    from tutor.grading import grade_report
    from tutor.variant import make_variant

    variant = make_variant(load(banks, only_banks).get(question_id), seed)
    if part > len(variant.parts):
        raise TutorError(
            f"{question_id} has {len(variant.parts)} part(s); --part {part} is too big"
        )
    result = grade_report(variant, part - 1, answer)
    if as_json:
        emit_json(result)
        return
    if result["format_error"]:
        click.echo(f"format error: {result['format_error']}")
    else:
        click.echo("correct" if result["correct"] else "incorrect")
        if result["feedback"]:
            click.echo(result["feedback"])


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--seeds",
    type=click.IntRange(1, 100_000),
    default=200,
    show_default=True,
    help="Seeds to try per question.",
)
def check(paths: tuple[Path, ...], seeds: int) -> None:
    """Validate banks and try every question over many seeds.

    With no PATH, checks the bundled banks. Lists every problem with file, line and question
    id, and exits with status 1 if there is any.

    \b
    Examples:
      tutor check
      tutor check my-bank.yaml --seeds 500
    """
    from tutor.check import check_paths, report_lines

    problems, stats = check_paths(list(paths), seeds)
    for line in report_lines(problems, stats):
        click.echo(line)
    if problems:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
