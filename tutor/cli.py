"""The ``tutor`` command: click commands that parse options and call the library.

This is the one place where library errors (:class:`tutor.errors.TutorError`) become an
``Error: ...`` line and a non-zero exit code. Heavy imports (NumPy, Jinja) happen inside the
commands so that ``tutor --help`` stays fast.
"""

from __future__ import annotations

import gc
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tutor.errors import TutorError

if TYPE_CHECKING:
    from tutor.catalog import Catalog

F = TypeVar("F", bound=Callable[..., Any])


class Number(click.FloatRange):
    """A number in a range; unlike ``click.FloatRange`` it refuses NaN, which compares as
    inside every range (a NaN weight would make a whole simulation NaN)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number.", param, ctx)
        return number


class PathName(click.Path):
    """A path that must not be empty: the operating system reads "" as the working folder,
    so ``--db ''`` would name it and ``--bank ''`` load every bank in it."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("needs a path, not an empty name.", param, ctx)
        return super().convert(value, param, ctx)


class TutorGroup(click.Group):
    """A command group that reports library errors without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TutorError as exc:
            raise click.ClickException(shown(str(exc))) from None


def shown(text: str) -> str:
    """``text`` without the characters that could move the cursor, recolour or reorder the
    terminal: messages and reports quote banks, file names and imported progress."""
    from tutor.render import strip_controls

    return strip_controls(text)


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
        type=PathName(path_type=Path),
        help="A bank file or folder of your own (repeatable); added to the bundled banks.",
    )(command)


def db_option(command: F) -> F:
    """``--db PATH`` on every command that reads or writes progress (``db``: a Path or None).

    Defined here rather than in tutor.store so that ``tutor --help`` loads no SQLite or FSRS.
    """
    return click.option(
        "--db",
        "db",
        type=PathName(path_type=Path),
        default=None,
        show_default="$TUTOR_DB, else progress.sqlite3 in the app folder",
        help="Progress file.",
    )(command)


def seed_option(
    required: bool = False, names: str = "the variant (same seed, same numbers)"
) -> Callable[[F], F]:
    return click.option(
        "--seed",
        type=click.IntRange(0, 2**63 - 1),
        required=required,
        help=f"The seed that names {names}.",
    )


def variant_of(question_id: str, seed: int | None) -> tuple[str, int | None]:
    """The question id and seed from ``QUESTION_ID`` and ``--seed``; ``QUESTION_ID`` may be a
    variant id, ``question-id@seed``, as summaries and answer keys print it."""
    name, at, number = question_id.partition("@")
    if not name.strip():
        raise click.BadParameter(f"{question_id!r} names no question (see tutor list).")
    if not at:
        return name, seed
    if not (number.isdigit() and int(number) < 2**63):
        raise click.BadParameter(f"{question_id!r} is not a variant id (question-id@seed)")
    if seed is not None and seed != int(number):
        raise click.UsageError(f"{question_id} names seed {number}, but --seed is {seed}")
    return name, int(number)


def needs_seed(question_id: str, seed: int | None) -> tuple[str, int]:
    """:func:`variant_of` where a seed is required, by ``--seed`` or in the variant id."""
    name, chosen = variant_of(question_id, seed)
    if chosen is None:
        raise click.UsageError(f"give --seed, or a variant id such as {name}@42")
    return name, chosen


def start_up_over() -> None:
    """Resume cycle collection, which ``tutor.__main__.run`` pauses during start-up.

    Start-up (NumPy, the bank cache's index) makes tens of thousands of objects that last
    until exit and no garbage, so the collector would only walk them over and over: about a
    tenth of the time to the first question. They are frozen out of later collections, and
    out of worker processes forked from this one. (Banks unpickled later pause collection
    themselves.) Where collection was never paused (tests, other callers of ``main``)
    nothing changes.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def load(banks: tuple[Path, ...], only_banks: bool) -> Catalog:
    from tutor.catalog import load_catalog

    catalog = load_catalog(banks, replace=only_banks)
    start_up_over()
    return catalog


def random_seed() -> int:
    """A fresh seed for a quiz or worksheet the user did not seed."""
    import secrets

    return secrets.randbelow(1_000_000)


def emit_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))


INTERRUPTED = 130
"""The exit status after Ctrl-C (128 + SIGINT), as shells expect, once the answers given are
saved and the summary is printed."""


@click.group(cls=TutorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradient-tutor", prog_name="tutor")
def main() -> None:
    """Learn the vanishing and exploding gradient problems by computing them.

    Start with `tutor quiz`; see `tutor COMMAND --help` for each command.
    """


def _one_blas_thread() -> None:
    """For commands that run one worker process per CPU: BLAS threads on top only contend
    (measured: a worksheet of all banks took 6.3 s with them, 3.7 s without). Must run before
    NumPy is imported."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@main.command(short_help="Answer questions in the terminal, with hints and explanations.")
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeatable).")
@click.option(
    "-n",
    "count",
    type=click.IntRange(1, 500),
    default=5,
    show_default=True,
    help="Number of questions.",
)
@seed_option(names="the quiz: its questions and their numbers (default: a new one, printed)")
@click.option("--difficulty", type=click.IntRange(1, 3), help="Only this difficulty (1-3).")
@click.option(
    "--question",
    "question_id",
    help="Ask this one question (replay a variant with --seed, or as question-id@seed).",
)
@click.option("--no-record", is_flag=True, help="Do not save answers to the progress file.")
@db_option
@bank_options
def quiz(
    topics: tuple[str, ...],
    count: int,
    seed: int | None,
    difficulty: int | None,
    question_id: str | None,
    no_record: bool,
    db: Path | None,
    banks: tuple[Path, ...],
    only_banks: bool,
) -> None:
    """Answer questions in the terminal, with hints and worked explanations.

    \b
    Examples:
      tutor quiz                              five questions on every topic
      tutor quiz --topic vanishing -n 3 --seed 7
      tutor quiz --question sigmoid-chain-gradient --seed 1234
      printf '0.25^16\\n' | tutor quiz --question sigmoid-chain-gradient@12
      tutor quiz --no-record                  without saving progress

    Every answer is saved to your progress file (as in `tutor practice`, so `tutor stats`
    counts it) before its feedback is shown; --db PATH or TUTOR_DB=PATH picks the file.
    A question that a problem in its bank keeps from being shown is skipped with a warning,
    and the quiz exits with status 1 after its summary.
    """
    from tutor import quiz as quizzing
    from tutor.asking import variant_to_ask
    from tutor.numfmt import counted
    from tutor.terminal import Console

    ctx = click.get_current_context()
    if question_id is not None:
        _one_question_only(ctx, question_id)
        question_id, seed = variant_of(question_id, seed)
    catalog = load(banks, only_banks)
    seed = random_seed() if seed is None else seed
    if question_id:
        chosen = [(catalog.get(question_id), seed)]
    else:
        pool = catalog.select(topics, difficulty)
        if not pool:
            raise TutorError("no questions match these --topic and --difficulty options")
        chosen = quizzing.plan(pool, count, seed)

    def open_recording() -> quizzing.Recorder:
        from tutor.recording import quiz_recording

        return ctx.with_resource(quiz_recording(db))

    recorder = None if no_record else quizzing.DeferredRecorder(open_recording)
    console = Console()
    if not question_id:
        replay = _quiz_replay(seed, count, topics, difficulty, banks, only_banks)
        console.say(f"Quiz seed {seed} (replay with: {replay}). Ctrl-C ends early.", "dim")
        if len(chosen) < count:
            console.say(f"These options match only {counted(len(chosen), 'question')}.", "dim")
    draw: quizzing.Draw = variant_to_ask
    if question_id:  # one question: a broken variant is an error, with nothing to summarize
        draw = quizzing.drawn(variant_to_ask(*chosen[0]))
    summary = quizzing.run_quiz(console, chosen, draw, recorder)
    check = [*map(str, banks), *(["--only-banks"] if only_banks else [])]
    quizzing.print_summary(console, summary, _bank_words(banks, only_banks), check)
    if summary.cancelled:
        ctx.exit(INTERRUPTED)
    if summary.skipped:
        ctx.exit(1)


def _one_question_only(ctx: click.Context, question_id: str) -> None:
    """``--question`` names the one question to ask: options that choose questions would be
    ignored, so they are refused rather than silently dropped."""
    if not question_id.strip():
        raise click.BadParameter("needs a question id (see tutor list).", param_hint="--question")
    from click.core import ParameterSource

    choosing = {"topics": "--topic", "difficulty": "--difficulty", "count": "-n"}
    given = [
        flag
        for name, flag in choosing.items()
        if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
    ]
    if given:
        raise click.UsageError(f"--question asks one question; leave out {', '.join(given)}")


def _quiz_replay(
    seed: int,
    count: int,
    topics: tuple[str, ...],
    difficulty: int | None,
    banks: tuple[Path, ...],
    only_banks: bool,
) -> str:
    """The command that asks the same questions with the same numbers: every option that
    chooses them, since the questions drawn for a seed depend on the pool and the count."""
    import shlex

    words = ["tutor", "quiz", "--seed", str(seed), "-n", str(count)]
    words += [w for topic in topics for w in ("--topic", topic)]
    words += ["--difficulty", str(difficulty)] if difficulty is not None else []
    return shlex.join([*words, *_bank_words(banks, only_banks)])


def _bank_words(banks: tuple[Path, ...], only_banks: bool) -> list[str]:
    """The options that load these banks again, for the commands a quiz prints."""
    words = [w for bank in banks for w in ("--bank", str(bank))]
    return [*words, "--only-banks"] if only_banks else words


@main.command(short_help="Interview practice: timed spaced-repetition reviews.")
@click.option("--minutes", type=click.IntRange(1, 240), default=10, show_default=True,
              help="Session length; the question under way at the end is finished.")  # fmt: skip
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeatable).")
@click.option("--new", "new_count", type=click.IntRange(0, 100), default=5, show_default=True,
              help="At most this many questions you have not seen before.")  # fmt: skip
@db_option
@bank_options
def practice(
    minutes: int,
    topics: tuple[str, ...],
    new_count: int,
    db: Path | None,
    banks: tuple[Path, ...],
    only_banks: bool,
) -> None:
    """Interview practice: spaced-repetition reviews on a timer, with a report at the end.

    Due reviews come first (most overdue first, and sooner for mistakes you keep making),
    then up to --new questions you have not seen, weakest topic first. Every review draws
    new numbers. A numeric question is followed by a "why?" card on the same concept, which
    you rate yourself (again, hard, good, easy). Progress is saved after every answer, in
    --db PATH, TUTOR_DB=PATH or the app folder.

    \b
    Examples:
      tutor practice                          ten minutes, up to five new questions
      tutor practice --minutes 20 --topic vanishing --new 3
      tutor practice --db ~/interview.sqlite3
    """
    from tutor.practice import Settings
    from tutor.practice import practice as run_practice
    from tutor.terminal import Console

    pool = load(banks, only_banks).select(topics)
    if not pool:
        raise TutorError("no questions match these --topic options")
    settings = Settings(minutes=minutes, new_count=new_count, only_banks=only_banks)
    report = run_practice(Console(), pool, db, settings)
    if report.ending == "cancelled":
        click.get_current_context().exit(INTERRUPTED)
    if report.skipped:  # as the quiz does: the report said which and why
        click.get_current_context().exit(1)


@main.command(short_help="Your progress: accuracy per topic, due reviews, mistakes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with `attempts`).")
@click.option("--days", type=click.IntRange(1, 366), default=14, show_default=True,
              help="Days in the reviews-per-day chart.")  # fmt: skip
@click.option("--export", "export_to", type=PathName(path_type=Path, dir_okay=False),
              help="Write all progress to FILE as JSON, for `tutor import`.")  # fmt: skip
@db_option
@bank_options
def stats(
    as_json: bool,
    days: int,
    export_to: Path | None,
    db: Path | None,
    banks: tuple[Path, ...],
    only_banks: bool,
) -> None:
    """Your progress: accuracy and mastery per topic, due reviews, streak, mistakes.

    Reads the progress file (--db PATH, TUTOR_DB=PATH or the app folder) without changing
    it. With --export FILE it writes everything to FILE instead, to move to another machine.

    \b
    Examples:
      tutor stats
      tutor stats --json
      tutor stats --export progress.json      then on the other machine: tutor import
    """
    from datetime import UTC, datetime

    from tutor import stats_view

    if export_to is not None:
        start_up_over()
        count = stats_view.export_to(db, export_to)
        if count == 0:
            click.echo(shown(f"No answers recorded yet; wrote an empty export to {export_to}."))
        else:
            click.echo(shown(f"Exported {count} attempts to {export_to}."))
        return
    now = datetime.now(UTC)
    questions = load(banks, only_banks).questions
    # Days in local time, its offset looked up at each instant (daylight saving changes it).
    view = stats_view.read_view(db, questions, now, None, days)
    if as_json:
        emit_json(stats_view.stats_json(view))
    else:
        click.echo(shown(stats_view.stats_text(view)))


@main.command(name="import", short_help="Merge exported progress into your progress file.")
@click.argument("file", type=PathName(path_type=Path, dir_okay=False))
@db_option
def import_progress(file: Path, db: Path | None) -> None:
    """Merge progress exported with `tutor stats --export` into your progress file.

    Attempts already there are skipped, so importing the same file twice adds nothing; the
    review schedule is rebuilt from the combined history. A file that is not a valid export
    is refused and nothing is imported. The progress file is --db PATH, TUTOR_DB=PATH or the
    one in the app folder.

    \b
    Examples:
      tutor import progress.json
      tutor import progress.json --db ~/interview.sqlite3
    """
    from tutor.stats_view import import_from, import_report

    start_up_over()
    added, total, path = import_from(db, file)
    click.echo(shown(import_report(added, total, file, path)))


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
@seed_option()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@bank_options
def explain(
    question_id: str, seed: int | None, as_json: bool, banks: tuple[Path, ...], only_banks: bool
) -> None:
    """Show one variant: its prompt, answer and worked explanation.

    QUESTION_ID with --seed names the variant, or give its variant id, question-id@seed.

    \b
    Examples:
      tutor explain sigmoid-chain-gradient --seed 42
      tutor explain sigmoid-chain-gradient@42 --json
    """
    from tutor.asking import variant_to_ask
    from tutor.present import describe
    from tutor.terminal import Console

    question_id, chosen = needs_seed(question_id, seed)
    variant = variant_to_ask(load(banks, only_banks).get(question_id), chosen)
    if as_json:
        emit_json(describe(variant))
    else:
        Console().variant_in_full(variant)


# An answer such as -0.01 starts with a dash: unknown options pass through as arguments.
@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("question_id")
@click.argument("answer")
@seed_option()
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
    seed: int | None,
    part: int,
    as_json: bool,
    banks: tuple[Path, ...],
    only_banks: bool,
) -> None:
    """Grade one answer to one variant, for scripts and integrations.

    QUESTION_ID with --seed names the variant, or give its variant id, question-id@seed.

    \b
    Examples:
      tutor grade sigmoid-chain-gradient --seed 42 "0.25^10"
      tutor grade sigmoid-chain-gradient@42 9.5e-7 --json
      tutor grade chain-weight-gradient@682554 -0.01048   a negative answer, as typed
    """
    from tutor.asking import variant_to_ask
    from tutor.grading import grade_report
    from tutor.terminal import Console

    question_id, chosen = needs_seed(question_id, seed)
    variant = variant_to_ask(load(banks, only_banks).get(question_id), chosen)
    if part > len(variant.parts):
        raise TutorError(
            f"{question_id} has {len(variant.parts)} part(s); --part {part} is too big"
        )
    result = grade_report(variant, part - 1, answer)
    if as_json:
        emit_json(result)
        return
    if result["format_error"]:
        click.echo(shown(f"format error: {result['format_error']}"))
    else:
        click.echo("correct" if result["correct"] else "incorrect")
        if result["feedback"]:
            Console().prose(result["feedback"])


@main.command()
@click.argument("paths", nargs=-1, type=PathName(path_type=Path))
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    show_default="one per CPU",
    help="Worker processes.",
)
@click.option(
    "--seeds",
    type=click.IntRange(1, 100_000),
    default=200,
    show_default=True,
    help="Seeds to try per question.",
)
@click.option(
    "--only-banks",
    is_flag=True,
    help="The banks will replace the bundled ones: do not compare their ids with them.",
)
def check(paths: tuple[Path, ...], seeds: int, jobs: int | None, only_banks: bool) -> None:
    """Validate banks and try every question over many seeds.

    With no PATH, checks the bundled banks. A PATH's banks are checked as `--bank` would use
    them, beside the bundled ones, so a question id those already use is a problem too (not
    with --only-banks). Lists every problem with file, line and question id, and exits with
    status 1 if there is any. The bundled banks take a few minutes over 500 seeds.

    \b
    Examples:
      tutor check
      tutor check my-bank.yaml --seeds 500
      tutor check my-banks/ --only-banks --jobs 2
    """
    if only_banks and not paths:
        raise click.UsageError("--only-banks is for the banks you give: add a PATH to check")
    _one_blas_thread()
    from tutor.check import check_paths, report_lines

    start_up_over()
    problems, stats = check_paths(list(paths), seeds, jobs, beside_bundled=not only_banks)
    for line in report_lines(problems, stats):
        click.echo(shown(line))
    if problems:
        sys.exit(1)


@main.command()
@click.option(
    "-o",
    "--output",
    type=PathName(dir_okay=False, path_type=Path),
    required=True,
    help="The HTML file to write.",
)
@click.option(
    "--versions",
    type=click.IntRange(1, 500),
    show_default="1",
    help="How many versions, each with its own questions and numbers.",
)
@click.option(
    "-n",
    "count",
    type=click.IntRange(1, 200),
    default=10,
    show_default=True,
    help="Questions per version.",
)
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeatable).")
@click.option("--difficulty", type=click.IntRange(1, 3), help="Only this difficulty (1-3).")
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    show_default="1",
    help="The seed that names the worksheet: same options, same file.",
)
@click.option(
    "--version-id",
    metavar="SEED-K",
    help="Write only version K of seed SEED, as printed on its key (e.g. 7-3).",
)
@click.option("--title", default="Worksheet", show_default=True, help="The title of every version.")
@click.option(
    "--key",
    type=click.Choice(["end", "separate", "none"]),
    default="end",
    show_default=True,
    help="Answer keys on pages of their own at the end, in a second file, or none.",
)
@click.option(
    "--self-check", is_flag=True, help="An interactive page that grades answers in the browser."
)
@bank_options
def worksheet(
    output: Path,
    versions: int | None,
    count: int,
    topics: tuple[str, ...],
    difficulty: int | None,
    seed: int | None,
    version_id: str | None,
    title: str,
    key: str,
    self_check: bool,
    banks: tuple[Path, ...],
    only_banks: bool,
) -> None:
    """Write an HTML worksheet to print or share, with answer keys.

    One self-contained file (no network, nothing to install), print-ready on A4 and Letter.
    The same options always write the same file; each version shows an id that --version-id
    takes to write that version again.

    \b
    Examples:
      tutor worksheet -o sheet.html
      tutor worksheet -o exam.html --versions 3 -n 8 --topic vanishing --seed 7
      tutor worksheet -o exam.html --key separate        (keys in exam-key.html)
      tutor worksheet -o practice.html --self-check --key none
      tutor worksheet -o again.html --version-id 7-2 -n 8 --topic vanishing
    """
    _one_blas_thread()
    from tutor.worksheet import WorksheetOptions, build_options, write_worksheet

    options: WorksheetOptions = build_options(
        versions=versions,
        count=count,
        seed=seed,
        version_id=version_id,
        title=title,
        key=key,
        self_check=self_check,
    )
    pool = load(banks, only_banks).select(topics, difficulty)
    if not pool:
        raise TutorError("no questions match these --topic and --difficulty options")
    for path in write_worksheet(output, pool, options):
        click.echo(shown(f"Wrote {path}"))


# tutor simulate's choices, spelled out so that `tutor --help` does not import NumPy
# (tests/test_simulate_cli.py checks them against tutor.sim).
SIM_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "linear")
SIM_INITS = (
    "zeros", "constant", "normal", "uniform", "xavier-normal", "xavier-uniform",
    "he-normal", "he-uniform", "lecun-normal", "orthogonal",
)  # fmt: skip


@main.command(short_help="Simulate a network: per-layer gradients and a diagnosis.")
@click.option("--depth", type=click.IntRange(1, 1000), required=True, help="Number of layers.")
@click.option("--width", type=click.IntRange(1, 4096), required=True, help="Units per layer.")
@click.option("--activation", type=click.Choice(SIM_ACTIVATIONS), required=True,
              help="Activation of every layer.")  # fmt: skip
@click.option("--init", "init", type=click.Choice(SIM_INITS), required=True,
              help="Weight initializer; normal/uniform need --std, constant --value.")  # fmt: skip
@click.option("--std", type=Number(0, 1e6), help="Weight std for --init normal/uniform.")
@click.option("--value", type=Number(-1e6, 1e6),
              help="Every weight's value for --init constant.")  # fmt: skip
@click.option("--residual", is_flag=True, help="Residual blocks: h = h_prev + f(z).")
@click.option("--batchnorm", is_flag=True, help="Batch normalization before each activation.")
@click.option("--batch", type=click.IntRange(1, 4096), default=64, show_default=True,
              help="Examples in the N(0, 1) input batch.")  # fmt: skip
@click.option("--loss", type=click.Choice(("mean", "mse")), default="mean", show_default=True,
              help="Loss for the gradients: mean of the output, or MSE to a target.")  # fmt: skip
@click.option("--dtype", type=click.Choice(("float16", "float32", "float64")), default="float64",
              show_default=True, help="Precision of the run.")  # fmt: skip
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Seed of the weights and data (same seed, same numbers).")  # fmt: skip
@click.option("--steps", type=click.IntRange(0, 10_000), help="Also train with SGD for K steps.")
@click.option("--lr", type=Number(0, 1e6), show_default="0.01", help="Learning rate.")
@click.option("--clip-norm", type=Number(0, 1e12, min_open=True),
              help="Clip gradients to this global norm.")  # fmt: skip
@click.option("--clip-value", type=Number(0, 1e12, min_open=True),
              help="Clip every gradient entry to [-C, C].")  # fmt: skip
@click.option("--l2", type=Number(0, 1e6), default=0.0, help="L2 penalty coefficient.")
@click.option("--weight-decay", type=Number(0, 1e6), default=0.0,
              help="Decoupled weight decay per step.")  # fmt: skip
@click.option("--compare", metavar="KEY=V1,V2",
              help="Run once per value, side by side, e.g. init=normal,he-normal.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def simulate(as_json: bool, compare: str | None, **options: Any) -> None:
    """Simulate a network: per-layer gradient norms, a chart, and a diagnosis.

    Runs one forward and backward pass of a seeded fully connected network and reports each
    layer (layer 1 is the input side). With --steps it also trains it on a small synthetic
    regression task and reports the loss curve.

    \b
    Examples:
      tutor simulate --depth 30 --width 256 --activation sigmoid --init xavier-normal
      tutor simulate --depth 50 --width 256 --activation relu --init normal --std 1
      tutor simulate --depth 50 --width 256 --activation relu --init normal --std 1 \\
          --compare init=normal,he-normal
      tutor simulate --depth 5 --width 32 --activation linear --init xavier-normal \\
          --steps 100 --lr 3 --clip-norm 1
      tutor simulate --depth 20 --width 64 --activation tanh --init he-normal --json
    """
    from tutor.simulate import (
        SimulateOptions,
        compare_settings,
        comparison_json,
        comparison_text,
        run_comparison,
        run_json,
        run_simulation,
        run_text,
        slow_run_note,
    )

    start_up_over()
    opts = SimulateOptions(**options)
    note = slow_run_note(compare_settings(opts, compare)[1] if compare else [opts])
    if note:
        click.echo(note, err=True)
    if compare:
        key, runs = run_comparison(opts, compare)
        if as_json:
            emit_json(comparison_json(key, runs))
        else:
            click.echo(comparison_text(key, runs))
        return
    run = run_simulation(opts)
    if as_json:
        emit_json(run_json(run))
    else:
        click.echo(run_text(run))


if __name__ == "__main__":  # pragma: no cover
    main()
