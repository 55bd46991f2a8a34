"""Load a YAML question bank into frozen dataclasses, rejecting anything malformed.

A bank is untrusted input: it is read with :mod:`tutor.strictyaml`, every key is known, every
value has the right type and a sensible range, and every error names file, line and question.
Formulas and Jinja texts are only stored here; :mod:`tutor.compiled` checks them when the
question is first used (and ``tutor check`` forces that for every question).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from tutor.answers import DEFAULT_TOLERANCE, Tolerance
from tutor.bankcache import read_bank_bytes
from tutor.bankspec import (
    PART_TYPES,
    Bank,
    ChartSpec,
    MistakeSpec,
    OptionSpec,
    ParamSpec,
    Part,
    Question,
    Scalar,
    SimSpec,
    Source,
    TableSpec,
)
from tutor.concepts import CLAIMS, CONCEPTS
from tutor.errors import BankError
from tutor.expr_functions import RESERVED_NAMES
from tutor.fields import FieldReader
from tutor.strictyaml import YamlList, YamlMap, load_yaml

F = TypeVar("F", TableSpec, ChartSpec)
MAX_QUESTIONS = 500
MAX_PARAMS = 40
MAX_LIST = 200
MAX_OPTIONS = 26  # lettered A to Z; also the most parts and the most mistakes per part
MAX_STEPS = 10**9  # the most steps a float range may have: more is not a step, it is a typo
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
RESERVED = frozenset(
    {"answer", "mistakes", "tolerance", "seed", "question", "part", "true", "false"}
)

BANK_KEYS = ("topic", "title", "description", "questions")
QUESTION_KEYS = (
    "id",
    "title",
    "topic",
    "concepts",
    "difficulty",
    "tags",
    "claim",
    "minutes",
    "params",
    "simulate",
    "values",
    "require",
    "prompt",
    "parts",
)
PART_KEYS = (
    "type",
    "prompt",
    "answer",
    "tolerance",
    "allow_nonfinite",
    "mistakes",
    "options",
    "shuffle",
    "hints",
    "working",
    "explanation",
    "model_answer",
    "simulate",
    "values",
    "table",
    "chart",
)
TOLERANCE_LIMITS = {"relative": (0.0, 1.0), "sigfigs": (1, 15), "decades": (0.0, 3.0)}


def load_bank(path: Path) -> Bank:
    """Read and validate one bank file; raise BankError at the first problem."""
    return parse_bytes(read_bank_bytes(path), str(path))


def parse_bytes(data: bytes, path: str) -> Bank:
    """Validate the bytes of a bank file read from ``path``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8 text (byte {exc.start} of the file); save it as UTF-8"
        raise BankError(message, path=path, line=line) from None
    return parse_bank(text, path, hashlib.sha256(data).hexdigest()[:16])


def parse_bank(text: str, path: str, content_hash: str = "") -> Bank:
    """Validate bank text already read from ``path``."""
    root = load_yaml(text, path)
    reader = FieldReader(path)
    if root is None:
        raise BankError("the bank is empty; it needs 'topic' and 'questions'", path=path)
    if not isinstance(root, YamlMap):
        raise BankError("a bank is a mapping with 'topic' and 'questions'", path=path, line=1)
    top = root
    reader.keys(top, BANK_KEYS, required=("topic", "questions"))
    topic = _slug(reader, top, "topic")
    items = reader.sequence(top, "questions", min_items=1)
    if len(items) > MAX_QUESTIONS:
        reader.fail(top, "questions", f"more than {MAX_QUESTIONS} questions in one bank")
    questions = tuple(
        _question(reader, items, i, topic, Source(path, items.item_lines[i], content_hash))
        for i in range(len(items))
    )
    _unique([q.id for q in questions], reader, items, "question id")
    title = _line_text(reader, top, "title", topic.replace("-", " ").capitalize())
    return Bank(path, topic, title, content_hash, questions)


def _question(
    reader: FieldReader, items: YamlList, index: int, topic: str, source: Source
) -> Question:
    q = reader.mapping(items, index, items[index])
    qid = q.get("id")
    reader = FieldReader(reader.path, qid if isinstance(qid, str) else f"#{index + 1}")
    has_parts = "parts" in q
    reader.keys(q, QUESTION_KEYS if has_parts else QUESTION_KEYS + PART_KEYS, ("id", "title"))
    parts = _parts(reader, q) if has_parts else (_part(reader, q, nested=False),)
    return Question(
        id=_slug(reader, q, "id"),
        title=_line_text(reader, q, "title"),
        topic=_slug(reader, q, "topic") if "topic" in q else topic,
        concepts=_concepts(reader, q),
        difficulty=reader.integer(q, "difficulty", 1, 3, default=1),
        parts=parts,
        source=source,
        tags=reader.texts(q, "tags"),
        claim=_claim(reader, q),
        stem=reader.text(q, "prompt", "") if has_parts else "",
        params=_params(reader, q),
        simulate=_simulate(reader, q),
        values=_values(reader, q),
        require=reader.texts(q, "require"),
        minutes=_minutes(reader, q),
        lines=_lines(q),
    )


MAX_MINUTES = 120.0
"""The longest time a question may set for itself (a timed session counts on it)."""


def _minutes(reader: FieldReader, q: YamlMap) -> float:
    minutes = reader.number(q, "minutes", 2.0)
    if not 0 < minutes <= MAX_MINUTES:
        reader.fail(
            q, "minutes", f"'minutes' must be above 0 and at most {MAX_MINUTES:g}, not {minutes:g}"
        )
    return minutes


def _line_text(reader: FieldReader, m: YamlMap, key: str, default: str | None = None) -> str:
    """A one-line text shown as it is (a title): no control, format or bidi characters."""
    text = reader.text(m, key, default)
    if not text.isprintable():
        reader.fail(m, key, f"{key!r} must be one line of printable text")
    return text


def _parts(reader: FieldReader, q: YamlMap) -> tuple[Part, ...]:
    items = reader.sequence(q, "parts", min_items=1)
    if len(items) > MAX_OPTIONS:
        reader.fail(q, "parts", f"a question has at most {MAX_OPTIONS} parts")
    return tuple(
        _part(reader, reader.mapping(items, i, item), nested=True) for i, item in enumerate(items)
    )


def _part(reader: FieldReader, m: YamlMap, *, nested: bool) -> Part:
    """Read a part: an item of 'parts', or the question itself when it has no parts."""
    if nested:
        reader.keys(m, PART_KEYS)
    kind = reader.choice(m, "type", PART_TYPES, "numeric")
    part = Part(
        type=kind,  # type: ignore[arg-type]
        prompt=reader.text(m, "prompt"),
        line=m.line,
        explanation=reader.text(m, "explanation", ""),
        answer=_answer(reader, m, kind),
        tolerance=_tolerance(reader, m),
        allow_nonfinite=reader.flag(m, "allow_nonfinite"),
        mistakes=_mistakes(reader, m, kind),
        options=_options(reader, m),
        shuffle=reader.flag(m, "shuffle", True),
        hints=reader.texts(m, "hints"),
        working=reader.optional_text(m, "working"),
        model_answer=reader.optional_text(m, "model_answer"),
        simulate=_simulate(reader, m) if nested else (),
        values=_values(reader, m) if nested else (),
        tables=_figures(reader, m, "table", _table),
        charts=_figures(reader, m, "chart", _chart),
        lines=_lines(m),
    )
    _check_part(reader, m, part)
    return part


def _lines(m: YamlMap) -> tuple[tuple[str, int], ...]:
    """Where each field of a question or part is written, each of its named values and each
    of its ``require`` rules (``require.0`` ...)."""
    lines = list(m.key_lines.items())
    values, rules = m.get("values"), m.get("require")
    if isinstance(values, YamlMap):
        lines += [(f"values.{name}", line) for name, line in values.key_lines.items()]
    if isinstance(rules, YamlList):
        lines += [(f"require.{i}", line) for i, line in enumerate(rules.item_lines)]
    return tuple(lines)


def _check_part(reader: FieldReader, m: YamlMap, part: Part) -> None:
    """Rules that tie fields of one part together."""
    if part.type != "explain" and not part.hints:
        reader.fail(m, "hints", "every question part needs at least one hint")
    if part.type != "explain" and not part.explanation.strip():
        reader.fail(m, "explanation", "every question part needs an explanation")
    if part.type == "explain" and not part.model_answer:
        reader.fail(m, "model_answer", "an explain card needs a 'model_answer'")
    if part.type in ("numeric", "truefalse") and part.answer is None:
        reader.fail(m, "answer", f"a {part.type} question needs an 'answer'")
    if part.type == "choice":
        _check_choice(reader, m, part)
    elif part.options:
        reader.fail(m, "options", "only multiple-choice parts (type: choice) have 'options'")
    if part.type == "truefalse" and len(part.mistakes) > 1:
        reader.fail(m, "mistakes", "a true/false part has one wrong answer, so one mistake at most")
    if part.type in ("numeric", "choice") and not part.options:
        for mistake in part.mistakes:
            if mistake.answer is None:
                reader.fail(m, "mistakes", f"mistake {mistake.name!r} needs an 'answer' formula")


def _check_choice(reader: FieldReader, m: YamlMap, part: Part) -> None:
    if part.options and part.answer is not None:
        reader.fail(m, "answer", "written options mark the right one with 'correct'; drop 'answer'")
    if not part.options and part.answer is None:
        reader.fail(m, "options", "a choice part needs 'options', or an 'answer' and 'mistakes'")
    if not part.options and len(part.mistakes) < 1:
        reader.fail(m, "mistakes", "numeric options come from mistakes: give at least one")
    names = {mk.name for mk in part.mistakes}
    for option in part.options:
        if option.mistake and option.mistake not in names and option.feedback is None:
            reader.fail(m, "options", f"option's mistake {option.mistake!r} needs a 'feedback'")


def _answer(reader: FieldReader, m: YamlMap, kind: str) -> str | bool | None:
    value = m.get("answer")
    if value is None:
        return None
    if kind == "truefalse" and isinstance(value, bool):
        return value
    if isinstance(value, bool):
        reader.fail(m, "answer", "only true/false questions have a true/false answer")
    if isinstance(value, int | float):
        return repr(value)
    return reader.text(m, "answer")


def _tolerance(reader: FieldReader, m: YamlMap) -> Tolerance:
    value = m.get("tolerance")
    if value is None:
        return DEFAULT_TOLERANCE
    if value == "exact":
        return Tolerance("absolute", 0.0)
    spec = reader.mapping(m, "tolerance", value)
    kinds = (*TOLERANCE_LIMITS, "absolute")
    reader.keys(spec, kinds)
    if len(spec) != 1:
        reader.fail(m, "tolerance", f"give exactly one of {', '.join(kinds)} (or 'exact')")
    ((kind, _),) = spec.items()
    amount = reader.number(spec, kind)
    if not _usable_tolerance(kind, amount):
        reader.fail(spec, kind, f"a {kind} tolerance of {amount:g} is not usable ({_range(kind)})")
    try:
        return Tolerance(kind, amount)  # type: ignore[arg-type]
    except BankError as exc:  # a rule of Tolerance's own that the check above missed
        reader.fail(spec, kind, exc.message)


def _usable_tolerance(kind: str, amount: float) -> bool:
    low, high = TOLERANCE_LIMITS.get(kind, (0.0, float("inf")))
    if kind == "sigfigs":
        return low <= amount <= high and amount == int(amount)
    if kind == "relative":
        return low < amount < high  # 100% would accept any answer of the right sign
    if kind == "decades":
        return low < amount <= high
    return low <= amount <= high  # absolute: 0 is an exact match


def _range(kind: str) -> str:
    return {
        "relative": "between 0 and 1, e.g. 0.01 for 1%",
        "sigfigs": "a whole number from 1 to 15",
        "decades": "between 0 and 3, e.g. 0.3 for a factor of 2",
    }.get(kind, "zero or more")


def _mistakes(reader: FieldReader, m: YamlMap, kind: str) -> tuple[MistakeSpec, ...]:
    if m.get("mistakes") is None:
        return ()
    table = reader.mapping(m, "mistakes", m["mistakes"])
    if len(table) > MAX_OPTIONS:
        reader.fail(m, "mistakes", f"a part names at most {MAX_OPTIONS} mistakes")
    result = []
    for name, value in table.items():
        _check_slug(reader, table, name, "mistake name")
        spec = reader.mapping(table, name, value)
        reader.keys(spec, ("answer", "feedback"), required=("feedback",))
        answer = spec.get("answer")
        if isinstance(answer, int | float) and not isinstance(answer, bool):
            answer = repr(answer)
        elif answer is not None:
            answer = reader.text(spec, "answer")
        if kind in ("truefalse", "explain") and answer is not None:
            reader.fail(spec, "answer", f"a mistake of a {kind} part has no 'answer'")
        result.append(MistakeSpec(name, reader.text(spec, "feedback"), spec.line, answer))
    return tuple(result)


def _options(reader: FieldReader, m: YamlMap) -> tuple[OptionSpec, ...]:
    items = reader.sequence(m, "options")
    if len(items) > MAX_OPTIONS:
        reader.fail(m, "options", f"a multiple-choice part has at most {MAX_OPTIONS} options")
    options = []
    for i, item in enumerate(items):
        spec = reader.mapping(items, i, item)
        reader.keys(spec, ("text", "correct", "mistake", "feedback"), required=("text",))
        correct = spec.get("correct", False)
        if not isinstance(correct, bool):
            correct = reader.text(spec, "correct")
        mistake = spec.get("mistake")
        if mistake is not None:
            mistake = _slug(reader, spec, "mistake")
        feedback = reader.optional_text(spec, "feedback")
        options.append(OptionSpec(reader.text(spec, "text"), correct, spec.line, mistake, feedback))
    if options and len(options) < 2:
        reader.fail(m, "options", "a multiple-choice part needs at least two options")
    _unique([o.text for o in options], reader, items, "option text")
    return tuple(options)


def _params(reader: FieldReader, q: YamlMap) -> tuple[ParamSpec, ...]:
    if q.get("params") is None:
        return ()
    table = reader.mapping(q, "params", q["params"])
    if len(table) > MAX_PARAMS:
        reader.fail(q, "params", f"more than {MAX_PARAMS} parameters")
    return tuple(_param(reader, table, name) for name in table)


def _param(reader: FieldReader, table: YamlMap, name: str) -> ParamSpec:
    _check_name(reader, table, name)
    value, line = table[name], table.key_lines[name]
    if isinstance(value, bool | int | float | str):
        return ParamSpec(name, "const", line, value=value)
    spec = reader.mapping(table, name, value)
    kinds = [k for k in ("int", "float", "choice", "expr") if k in spec]
    if len(kinds) != 1:
        reader.fail(
            table, name, f"parameter {name!r} needs exactly one of int, float, choice, expr"
        )
    kind = kinds[0]
    modifiers = {
        "int": ("step", "size"),
        "float": ("step", "log", "round", "sig", "size"),
        "choice": ("size",),
    }.get(kind, ())
    reader.keys(spec, (kind, *modifiers))
    if kind == "expr":
        return ParamSpec(name, "expr", line, expr=reader.text(spec, "expr"))
    size = _size(reader, spec)
    if kind == "choice":
        return ParamSpec(name, "choice", line, choices=_choices(reader, spec), size=size)
    return replace(_range_param(reader, spec, name, kind, line), size=size)


def _size(reader: FieldReader, spec: YamlMap) -> int | str | None:
    """A list parameter's length: a number, or the name of an int parameter drawn before."""
    size = spec.get("size")
    if size is None or isinstance(size, str):
        return size
    return reader.integer(spec, "size", 1, MAX_LIST)


def _range_param(reader: FieldReader, spec: YamlMap, name: str, kind: str, line: int) -> ParamSpec:
    bounds = spec[kind]
    if not isinstance(bounds, YamlList) or len(bounds) != 2:
        reader.fail(spec, kind, f"{kind!r} takes a range [low, high]")
    low, high = (reader.number_value(bounds, i, bounds[i]) for i in range(2))
    if kind == "int" and not (low == int(low) and high == int(high)):
        reader.fail(spec, kind, "an int range needs whole-number bounds")
    if low > high or (kind == "float" and low == high):
        reader.fail(spec, kind, f"the range [{low:g}, {high:g}] is empty")
    step = reader.number(spec, "step") if "step" in spec else None
    if step is not None and (step <= 0 or (kind == "int" and step != int(step))):
        reader.fail(spec, "step", "'step' must be a positive number (whole, for int ranges)")
    if step is not None and not (high - low) / step <= MAX_STEPS:
        reader.fail(spec, "step", f"'step' divides the range into more than {MAX_STEPS:,} steps")
    log = reader.flag(spec, "log")
    if log and low <= 0:
        reader.fail(spec, "log", "a log-uniform range must be above zero")
    rounding = [k for k in ("step", "round", "sig") if k in spec]
    if len(rounding) > 1:
        reader.fail(spec, rounding[1], "use only one of step, round and sig")
    digits = reader.integer(spec, "round", 0, 12) if "round" in spec else None
    sig = reader.integer(spec, "sig", 1, 15) if "sig" in spec else None
    return ParamSpec(name, kind, line, low, high, step, log, digits, sig)  # type: ignore[arg-type]


def _choices(reader: FieldReader, spec: YamlMap) -> tuple[Scalar, ...]:
    items = spec["choice"]
    if not isinstance(items, YamlList) or not items:
        reader.fail(spec, "choice", "'choice' takes a non-empty list")
    if len(items) > MAX_LIST:
        reader.fail(spec, "choice", f"more than {MAX_LIST} choices")
    for i, item in enumerate(items):
        if not isinstance(item, bool | int | float | str):
            reader.fail(items, i, "choices must be numbers, text or true/false")
    _unique(list(items), reader, items, "choice")
    return tuple(items)


MAX_SIMULATIONS = 8
"""Simulations one ``simulate`` table may run for each draw (the bundled banks use 5 at most)."""


def _simulate(reader: FieldReader, m: YamlMap) -> tuple[SimSpec, ...]:
    if m.get("simulate") is None:
        return ()
    table = reader.mapping(m, "simulate", m["simulate"])
    if len(table) > MAX_SIMULATIONS:
        reader.fail(m, "simulate", f"at most {MAX_SIMULATIONS} simulations, not {len(table)}")
    runs = []
    for name, value in table.items():
        _check_name(reader, table, name)
        spec = reader.mapping(table, name, value)
        model = reader.text(spec, "model")
        args = tuple((k, _arg(reader, spec, k)) for k in spec if k != "model")
        runs.append(SimSpec(name, model, args, table.key_lines[name]))
    return tuple(runs)


def _arg(reader: FieldReader, spec: YamlMap, key: str) -> Scalar | tuple[Scalar, ...]:
    value = spec[key]
    if isinstance(value, YamlList):
        if len(value) > MAX_LIST or not all(isinstance(v, int | float | str) for v in value):
            reader.fail(spec, key, f"argument {key!r}: a list of at most {MAX_LIST} numbers")
        return tuple(value)
    if not isinstance(value, bool | int | float | str):
        reader.fail(spec, key, f"argument {key!r} must be a number, text, true/false or a list")
    return value


def _values(reader: FieldReader, m: YamlMap) -> tuple[tuple[str, str], ...]:
    if m.get("values") is None:
        return ()
    table = reader.mapping(m, "values", m["values"])
    result = []
    for name, value in table.items():
        _check_name(reader, table, name)
        formula = (
            repr(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )
        if not isinstance(formula, str):
            reader.fail(table, name, f"value {name!r} must be a formula (text) or a number")
        result.append((name, formula))
    return tuple(result)


def _figures(
    reader: FieldReader, m: YamlMap, key: str, build: Callable[[FieldReader, YamlMap], F]
) -> tuple[F, ...]:
    """A 'table' or 'chart' entry: one mapping, or a list of them."""
    value = m.get(key)
    if value is None:
        return ()
    if isinstance(value, YamlList):
        return tuple(build(reader, reader.mapping(value, i, item)) for i, item in enumerate(value))
    return (build(reader, reader.mapping(m, key, value)),)


def _table(reader: FieldReader, spec: YamlMap) -> TableSpec:
    reader.keys(spec, ("title", "columns", "show"), required=("title", "columns"))
    columns = reader.mapping(spec, "columns", spec["columns"])
    for header, formula in columns.items():
        if not isinstance(formula, str):
            reader.fail(columns, header, f"column {header!r} needs a formula giving a list")
    show = reader.choice(spec, "show", ("prompt", "explanation"), "explanation")
    cols = tuple(columns.items())
    return TableSpec(reader.text(spec, "title"), cols, show, spec.line)  # type: ignore[arg-type]


def _chart(reader: FieldReader, spec: YamlMap) -> ChartSpec:
    reader.keys(spec, ("title", "values", "labels", "show", "value_label"), ("title", "values"))
    show = reader.choice(spec, "show", ("prompt", "explanation"), "explanation")
    return ChartSpec(
        reader.text(spec, "title"),
        reader.text(spec, "values"),
        show,  # type: ignore[arg-type]
        spec.line,
        reader.optional_text(spec, "labels"),
        reader.text(spec, "value_label", ""),
    )


def _concepts(reader: FieldReader, q: YamlMap) -> tuple[str, ...]:
    concepts = reader.texts(q, "concepts", min_items=1)
    for concept in concepts:
        if concept not in CONCEPTS:
            reader.fail(q, "concepts", f"unknown concept {concept!r}; use C1 to C{len(CONCEPTS)}")
    return concepts


def _claim(reader: FieldReader, q: YamlMap) -> str | None:
    claim = reader.optional_text(q, "claim")
    if claim is not None and claim not in CLAIMS:
        reader.fail(q, "claim", f"unknown claim {claim!r}; known: {', '.join(CLAIMS)}")
    return claim


def _slug(reader: FieldReader, m: YamlMap, key: str) -> str:
    value = reader.text(m, key)
    _check_slug(reader, m, value, key, at=key)
    return value


def _check_slug(
    reader: FieldReader, m: YamlMap, value: str, what: str, at: str | None = None
) -> None:
    if not SLUG.match(value):
        reader.fail(m, at or value, f"{what} {value!r}: use lower-case letters, digits and '-'")
    if len(value) > 64:
        reader.fail(m, at or value, f"{what} {value[:20]!r}...: at most 64 characters")


def _check_name(reader: FieldReader, table: YamlMap, name: str) -> None:
    if not NAME.match(name):
        reader.fail(table, name, f"{name!r} cannot be a name: use letters, digits and '_'")
    if name in RESERVED:
        reader.fail(table, name, f"{name!r} is a name every text already has: choose another")
    if name in RESERVED_NAMES:  # a parameter 'e' would lose to the constant in formulas
        reader.fail(table, name, f"{name!r} is a constant, function or word of formulas: "
                    "choose another name")  # fmt: skip


def _unique(items: list[Any], reader: FieldReader, where: YamlList, what: str) -> None:
    seen: set[Any] = set()
    for i, item in enumerate(items):
        key = (type(item), item)
        if key in seen:
            reader.fail(where, i, f"duplicate {what} {item!r}")
        seen.add(key)
