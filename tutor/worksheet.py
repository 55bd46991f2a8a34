"""HTML worksheets: versions of seeded questions that a teacher prints or shares, with keys.

A worksheet is one self-contained HTML file: inline CSS, math as MathML, charts as inline SVG,
no request to any other host (a Content-Security-Policy meta tag forbids them) and, in
self-check mode, one inline script allowed by its hash. Version k of a worksheet holds questions
and variant seeds drawn from (seed, k) and the question pool alone, so its id "S-k" regenerates
it, and the same options always give the same bytes (no clock, no random ids). Files are
written atomically: a crash never leaves half a worksheet at the target path.

Page layouts live in ``templates/`` (``worksheet.html.j2``, ``version.html.j2``,
``worksheet.css``); bank texts arrive as escaped HTML from :class:`tutor.present.PartView` and
are marked safe only at that boundary (:mod:`tutor.sheetdata`).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from tutor.bankspec import Question
from tutor.catalog import data_dir
from tutor.compiled import check_texts
from tutor.errors import TutorError
from tutor.files import writable_target, write_atomic
from tutor.params import named_stream, shuffle, uniform_index
from tutor.render import shared_filters
from tutor.selfcheck import csp_hash, script
from tutor.sheetdata import version_sheet

KeyPlacement = Literal["end", "separate", "none"]
KEY_PLACEMENTS: tuple[KeyPlacement, ...] = ("end", "separate", "none")
DEFAULT_SEED = 1
MAX_VARIANT_SEED = 1_000_000  # variant ids stay short enough to read out: "q-id@123456"
MAX_QUESTIONS = 10_000  # in one file: about 75 MB of HTML, already slow for a browser to open
PARALLEL_FROM = 60  # questions in all; below this, starting worker processes costs more
_VERSION_ID = re.compile(r"([0-9]{1,19})-([0-9]{1,6})")


class WorksheetError(TutorError):
    """Options that cannot make a worksheet, or a file that cannot be written."""


@dataclass(frozen=True)
class WorksheetOptions:
    """What to put in a worksheet; ``only_version`` (from a version id) writes just that one."""

    versions: int = 1
    count: int = 10
    seed: int = DEFAULT_SEED
    title: str = "Worksheet"
    key: KeyPlacement = "end"
    self_check: bool = False
    only_version: int | None = None

    def __post_init__(self) -> None:
        if self.key not in KEY_PLACEMENTS:
            raise WorksheetError(f"--key must be one of {', '.join(KEY_PLACEMENTS)}")
        if self.versions < 1 or self.count < 1:
            raise WorksheetError("a worksheet needs at least one version and one question")
        if self.only_version is None and self.versions * self.count > MAX_QUESTIONS:
            raise WorksheetError(
                f"{self.versions} versions of {self.count} questions is more than "
                f"{MAX_QUESTIONS:,} questions in one file, which a browser can hardly open: "
                "use fewer versions or questions per file"
            )

    @property
    def numbers(self) -> list[int]:
        """The version numbers written, from 1."""
        if self.only_version is not None:
            return [self.only_version]
        return list(range(1, self.versions + 1))


def build_options(
    *,
    versions: int | None,
    count: int,
    seed: int | None,
    version_id: str | None,
    title: str,
    key: str,
    self_check: bool,
) -> WorksheetOptions:
    """Options from the command line: a version id stands for a seed and one version."""
    if key not in KEY_PLACEMENTS:
        raise WorksheetError(f"--key must be one of {', '.join(KEY_PLACEMENTS)}, not {key!r}")
    if version_id is None:
        seed = DEFAULT_SEED if seed is None else seed
        return WorksheetOptions(versions or 1, count, seed, title, key, self_check)
    if versions is not None or seed is not None:
        raise WorksheetError(
            "--version-id names both the seed and the version: leave out --seed and --versions"
        )
    seed, number = parse_version_id(version_id)
    return WorksheetOptions(number, count, seed, title, key, self_check, only_version=number)


def parse_version_id(text: str) -> tuple[int, int]:
    """A version id "S-k" as (seed, version): "7-3" is version 3 of the worksheet with seed 7."""
    match = _VERSION_ID.fullmatch(text.strip())
    if match is None or int(match.group(2)) < 1 or int(match.group(1)) >= 2**63:
        raise WorksheetError(
            f"{text!r} is not a version id: use SEED-VERSION as printed on a worksheet, e.g. 7-3"
        )
    return int(match.group(1)), int(match.group(2))


def version_id(seed: int, version: int) -> str:
    return f"{seed}-{version}"


# ---------------------------------------------------------------------------------- planning


def plan_version(
    pool: Sequence[Question], count: int, seed: int, version: int
) -> list[tuple[Question, int]]:
    """``count`` questions and a variant seed for each: version ``version`` of seed ``seed``.

    Questions come in rounds, each a shuffle of the whole pool, so a question repeats (with
    other numbers) only when ``count`` is larger than the pool. The stream is named by (seed,
    version) and drawn as variants are (tutor.params), so it is the same on every machine and
    every Python and NumPy version.
    """
    if not pool:
        raise WorksheetError("no questions to put on a worksheet")
    rng = named_stream("worksheet", seed, version)
    chosen: list[tuple[Question, int]] = []
    used: set[tuple[str, int]] = set()
    while len(chosen) < count:
        order = list(pool)
        shuffle(order, rng)
        for question in order[: count - len(chosen)]:
            variant_seed = uniform_index(rng, MAX_VARIANT_SEED)
            while (question.id, variant_seed) in used:
                variant_seed = uniform_index(rng, MAX_VARIANT_SEED)
            used.add((question.id, variant_seed))
            chosen.append((question, variant_seed))
    return chosen


# ---------------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class Worksheet:
    """The finished pages, as the UTF-8 bytes written: the worksheet, and the key page with
    ``--key separate``. (A big worksheet is tens of megabytes: it stays in bytes from the
    worker processes to the file, never decoded and encoded again on the way.)"""

    sheet_bytes: bytes
    key_bytes: bytes | None

    @property
    def sheet(self) -> str:
        return self.sheet_bytes.decode("utf-8")

    @property
    def key(self) -> str | None:
        return None if self.key_bytes is None else self.key_bytes.decode("utf-8")


@dataclass(frozen=True)
class _Fragments:
    """One version rendered, in UTF-8: its questions, and its key (empty when there is none)."""

    sheet: bytes
    key: bytes
    error: str = ""


def build_worksheet(
    pool: Sequence[Question], options: WorksheetOptions, jobs: int | None = None
) -> Worksheet:
    """Render the worksheet (and a separate key page with ``key="separate"``).

    Versions are independent, so big worksheets are rendered in worker processes (``jobs``,
    default one per CPU); the result is the same bytes either way.
    """
    fragments = _render_all(pool, options, jobs, meanwhile=lambda: _check_texts(pool, options))
    sheets = [f.sheet for f in fragments]
    keys = [f.key for f in fragments]
    if options.key == "end":
        return Worksheet(_page(options.title, [*sheets, *keys], options.self_check), None)
    if options.key == "separate":
        key_page = _page(f"{options.title}: answer key", keys, self_check=False)
        return Worksheet(_page(options.title, sheets, options.self_check), key_page)
    return Worksheet(_page(options.title, sheets, options.self_check), None)


def _check_texts(pool: Sequence[Question], options: WorksheetOptions) -> None:
    """Check every text of the questions the worksheet uses, even those it may not show."""
    used = {
        q.id: q
        for k in options.numbers
        for q, _ in plan_version(pool, options.count, options.seed, k)
    }
    for question in used.values():
        check_texts(question)


def _render_all(
    pool: Sequence[Question],
    options: WorksheetOptions,
    jobs: int | None,
    meanwhile: Callable[[], None],
) -> list[_Fragments]:
    """Every version, in order; ``meanwhile`` (a check that may raise) runs first, or, with
    worker processes, while they work (this process would only wait for them)."""
    numbers = options.numbers
    workers = min(jobs or os.cpu_count() or 1, len(numbers))
    if workers <= 1 or len(numbers) * options.count < PARALLEL_FROM:
        meanwhile()
        fragments = [_render_version(pool, options, k) for k in numbers]
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(pool, options)
        ) as executor:
            chunk = max(1, len(numbers) // (workers * 16))  # small: the workers finish together
            rendered = executor.map(_render_in_worker, numbers, chunksize=chunk)
            try:
                meanwhile()
            except BaseException:
                executor.shutdown(cancel_futures=True)
                raise
            fragments = list(rendered)
    for fragment in fragments:
        if fragment.error:
            raise TutorError(fragment.error)
    return fragments


# A worker process keeps the pool and options it was started with (under fork they are
# inherited, not pickled), so each task sends only a version number.
_worker_job: tuple[Sequence[Question], WorksheetOptions] | None = None


def _start_worker(pool: Sequence[Question], options: WorksheetOptions) -> None:
    global _worker_job  # noqa: PLW0603 - the one piece of per-process state, set once
    _worker_job = (pool, options)


def _render_in_worker(number: int) -> _Fragments:
    if _worker_job is None:  # pragma: no cover - only when called outside a started worker
        raise RuntimeError("the worksheet worker was not started")
    try:
        return _render_version(*_worker_job, number)
    except TutorError as exc:  # sent back as text: exceptions with keyword fields do not pickle
        return _Fragments(b"", b"", str(exc))


def _render_version(pool: Sequence[Question], options: WorksheetOptions, number: int) -> _Fragments:
    plan = plan_version(pool, options.count, options.seed, number)
    sheet = version_sheet(
        plan,
        number=number,
        ident=version_id(options.seed, number),
        title=options.title,
        key=options.key != "none",
        check=options.self_check,
    )
    macros = _environment().get_template("version.html.j2").module
    first = number == options.numbers[0]
    text = str(macros.sheet(sheet, options.self_check, not first))  # type: ignore[attr-defined]
    key = ""
    if options.key != "none":
        new_page = not first or options.key == "end"
        key = str(macros.key(sheet, new_page))  # type: ignore[attr-defined]
    return _Fragments(text.encode("utf-8"), key.encode("utf-8"))


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(data_dir("templates")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(shared_filters())
    return env


@functools.cache
def stylesheet() -> str:
    """The worksheet's CSS, as it is put inline in the page (its hash is in the CSP)."""
    text = (data_dir("templates") / "worksheet.css").read_text(encoding="utf-8")
    if "</style" in text.lower():  # would end the inline element early
        raise TutorError("worksheet.css must not contain '</style'")
    return text


def content_security_policy(self_check: bool) -> str:
    """Nothing from anywhere, except our own inline style and (self-check) script, by hash."""
    rules = [
        "default-src 'none'",
        f"style-src {csp_hash(stylesheet())}",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    if self_check:
        rules.insert(2, f"script-src {csp_hash(script())}")
    return "; ".join(rules)


# Stands for the body while the page around it is rendered. Only the title, which comes
# before the body, could hold it too: the page is cut at its last occurrence.
_BODY = "\ue000body\ue000"


def _page(title: str, body: Sequence[bytes], self_check: bool) -> bytes:
    """The page around ``body`` (UTF-8 fragments, joined as they are)."""
    page = _environment().get_template("worksheet.html.j2")
    head, _, tail = page.render(
        title=title,
        csp=Markup(content_security_policy(self_check)),  # ours: letters, quotes, hashes
        css=Markup(stylesheet()),
        body=Markup(_BODY),
        script=Markup(script()) if self_check else None,
    ).rpartition(_BODY)
    return b"".join([head.encode("utf-8"), *body, tail.encode("utf-8")])


# ---------------------------------------------------------------------------------- files


def key_path(path: Path) -> Path:
    """Where ``--key separate`` writes the keys: ``sheet.html`` -> ``sheet-key.html``."""
    return path.with_name(f"{path.stem}-key{path.suffix}")


def write_worksheet(
    path: Path, pool: Sequence[Question], options: WorksheetOptions, jobs: int | None = None
) -> list[Path]:
    """Build the worksheet and write it (and its key file); return the paths written."""
    targets = [
        writable_target(t)
        for t in ((path, key_path(path)) if options.key == "separate" else (path,))
    ]
    if len(set(targets)) < len(targets):  # a link from one name to the other
        raise WorksheetError(
            f"{key_path(path)} and {path} are the same file: the key would overwrite the sheet"
        )
    worksheet = build_worksheet(pool, options, jobs)
    written = []
    if worksheet.key_bytes is not None:
        write_atomic(key_path(path), worksheet.key_bytes)
        written.append(key_path(path))
    write_atomic(path, worksheet.sheet_bytes)
    return [path, *written]
