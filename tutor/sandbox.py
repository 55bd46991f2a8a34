"""Jinja's sandbox for bank texts: the environment, its rules, and checking a text's names.

Only :mod:`tutor.render` (for texts that are more than simple substitutions) and the bank
checks import this module, so Jinja is loaded only when a text needs it. Every template is
checked against the rules below when it is compiled, whether or not ``tutor check`` ran.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tutor.errors import close_matches
from tutor.render import (
    MAX_SOURCE,
    RenderError,
    clean,
    finalize,
    join_filter,
    number_marker,
    percent_marker,
)

_SAFE_FILTERS = (
    "abs",
    "capitalize",
    "default",
    "first",
    "float",
    "int",
    "last",
    "length",
    "lower",
    "max",
    "min",
    "round",
    "sum",
    "title",
    "trim",
    "upper",
)
_FORBIDDEN = (
    nodes.Macro,
    nodes.CallBlock,
    nodes.Call,
    nodes.Include,
    nodes.Import,
    nodes.FromImport,
    nodes.Extends,
    nodes.Block,
    nodes.Pow,
    nodes.FilterBlock,
)


class _BankSandbox(ImmutableSandboxedEnvironment):
    """The sandbox for bank texts; it refuses operations that could build huge strings."""

    intercepted_binops = frozenset({"*", "%"})

    def getitem(self, obj: Any, argument: Any) -> Any:
        """``xs[answer - 1]`` works: answers are floats, but a whole float indexes a list."""
        if isinstance(argument, float) and argument.is_integer() and isinstance(obj, tuple | list):
            argument = int(argument)
        return super().getitem(obj, argument)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``run.gradd`` on a model's results names the field, not a Python class."""
        value = super().getattr(obj, attribute)
        if isinstance(value, Undefined) and isinstance(obj, Mapping):
            hint = close_matches(str(attribute), sorted(map(str, obj)), n=1)
            more = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise UndefinedError(f"the results have no field {attribute!r}{more}")
        return value

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if not all(isinstance(v, int | float) for v in (left, right)):
            raise SecurityError(f"'{operator}' works on numbers only in bank texts")
        return super().call_binop(context, operator, left, right)


@functools.cache
def _environment() -> _BankSandbox:
    env = _BankSandbox(undefined=StrictUndefined, finalize=finalize, autoescape=False)
    env.filters = {name: env.filters[name] for name in _SAFE_FILTERS}
    env.filters.update(num=number_marker, pct=percent_marker, join=join_filter)
    env.globals.clear()
    return env


@functools.lru_cache(maxsize=4096)
def compile_template(source: str) -> Any:
    """A bank text compiled in the sandbox, after checking it obeys the rules."""
    tree = _checked_tree(source)
    with _compiling():
        return _environment().from_string(tree)


def render_template(source: str, context: Mapping[str, Any]) -> str:
    """Render a bank text (already cleaned of markers) to marked text."""
    try:
        text: str = compile_template(source).render(context)
    except TemplateError as exc:
        raise RenderError(f"text does not render: {exc.message or exc}") from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise RenderError(f"text does not render: {exc}") from None
    except RecursionError:
        raise RenderError(_TOO_DEEP) from None
    return text


_TOO_DEEP = "text nested too deeply"


def _checked_tree(source: str) -> nodes.Template:
    """The parsed text, if it is short enough, parses, and uses nothing forbidden."""
    if len(source) > MAX_SOURCE:
        raise RenderError(f"a text is longer than {MAX_SOURCE} characters")
    with _compiling():  # the rules walk the tree too, as deep as the parser went
        tree = _environment().parse(source)
        problem = _forbidden_node(tree) or _unwritable_number(tree)
    if problem:
        raise RenderError(problem)
    return tree


@contextlib.contextmanager
def _compiling() -> Iterator[None]:
    """Jinja's errors, and Python's limits on nesting, as RenderErrors: an unknown filter
    shows when a text compiles, and deep nesting exhausts the parser's or the compiler's."""
    try:
        yield
    except TemplateError as exc:
        raise RenderError(_syntax_message(exc)) from None
    except (RecursionError, SyntaxError, MemoryError):  # SyntaxError: too many nested blocks
        raise RenderError(_TOO_DEEP) from None


def _syntax_message(exc: TemplateError) -> str:
    return f"text does not parse: {exc.message} (line {getattr(exc, 'lineno', '?')} of the text)"


def template_problem(source: str, names: Iterable[str]) -> str | None:
    """Why a bank text cannot be used with these names, or None if it can."""
    try:
        tree = _checked_tree(clean(source))
        with _compiling():
            undeclared = meta.find_undeclared_variables(tree)
            # Jinja counts a name set inside an ``if`` as undeclared, since the other branch
            # leaves it unset; it is not a typo, and rendering (which tutor check does)
            # catches a use where unset.
            stored = {node.name for node in tree.find_all(nodes.Name) if node.ctx == "store"}
    except RenderError as exc:
        return str(exc)
    known = set(names) | stored
    for name in sorted(undeclared - known):
        hint = close_matches(name, sorted(known), n=1)
        more = f" (did you mean {hint[0]!r}?)" if hint else ""
        return f"text uses the unknown name {name!r}{more}"
    return None


def _forbidden_node(tree: nodes.Template) -> str | None:
    for node in tree.find_all(_FORBIDDEN):
        what = (
            "'**' (compute powers in 'values')"
            if isinstance(node, nodes.Pow)
            else type(node).__name__.lower()
        )
        return f"texts cannot use {what}"
    for loop in tree.find_all(nodes.For):
        if any(True for _ in loop.find_all(nodes.For)):
            return "texts cannot nest loops"
    return _set_from_set(tree)


def _unwritable_number(tree: nodes.Template) -> str | None:
    """A number too large for a float (``1e400``) in a text: Jinja would write it into the
    compiled template as ``inf``, which Python cannot read back."""
    for const in tree.find_all(nodes.Const):
        if isinstance(const.value, float) and not math.isfinite(const.value):
            return "a number in the text is too large for a float (at most about 1.8e308)"
    return None


def _set_from_set(tree: nodes.Template) -> str | None:
    """A ``set`` may use the question's names, not a name the text sets itself: feeding set
    values into one another (``{% set a = a ~ a %}`` thirty times) doubles them each time,
    past any memory, while each text stays a few lines long."""
    values: list[nodes.Node] = []
    assigned: set[str] = set()
    for node in tree.find_all((nodes.Assign, nodes.AssignBlock)):
        if isinstance(node, nodes.Assign):
            target, value = node.target, node.node
        elif isinstance(node, nodes.AssignBlock):
            target, value = node.target, nodes.Output(node.body)
        else:  # pragma: no cover - find_all gives only the two kinds asked for
            continue
        names = (target, *target.find_all(nodes.Name))  # a tuple target holds several
        assigned |= {name.name for name in names if isinstance(name, nodes.Name)}
        values.append(value)
    for value in values:
        for used in value.find_all(nodes.Name):
            if used.ctx == "load" and used.name in assigned:
                return (
                    f"a set cannot use {used.name!r}, which the text sets itself: build it "
                    "from the question's names"
                )
    return None
