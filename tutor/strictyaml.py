"""Strict YAML for untrusted banks: plain data with the line of every value.

PyYAML's safe loader still follows YAML 1.1, where ``1e-3`` is a string and ``no`` is False.
Banks are written by people, so we resolve scalars the way people write them, refuse anchors,
aliases, merge keys, explicit tags and duplicate keys, cap size and nesting, and remember the
line of every mapping key and list item so that errors can point at it.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml

from tutor.bankspec import MAX_BANK_BYTES
from tutor.errors import BankError

MAX_BYTES = MAX_BANK_BYTES
MAX_DEPTH = 24
MAX_STRING = 20_000
MAX_DIGITS = 300

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Composes nodes only; with no implicit resolvers every plain scalar stays text."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[object]]] = {}


class YamlMap(dict[str, Any]):
    """A mapping that remembers its own line and the line of each key (1-based)."""

    line: int
    key_lines: dict[str, int]


class YamlList(list[Any]):
    """A list that remembers its own line and the line of each item (1-based)."""

    line: int
    item_lines: list[int]


def load_yaml(text: str, path: str) -> Any:
    """Parse one YAML document into YamlMap / YamlList / scalars, or raise BankError."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise BankError(f"file is larger than {MAX_BYTES // 1000} kB", path=path)
    deep = _too_deep_at(text)
    if deep is not None:
        raise BankError(f"nested more than {MAX_DEPTH} levels deep", path=path, line=deep)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, path) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow anywhere
        # exc.position counts bytes under libyaml and characters under PyYAML; the reader
        # stops at the first such character, which is this one's first occurrence.
        body = text.removeprefix("\ufeff")  # a byte-order mark is no column in an editor
        line, column = _line_and_column(body, body.find(chr(exc.character)))
        message = f"character U+{exc.character:04X} (column {column}) is not allowed in YAML"
        raise BankError(f"{message}; remove it", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise BankError(f"not valid YAML: {exc}", path=path) from None
    if node is None:
        return None
    return _Converter(path).convert(node, depth=0)


# A value that begins with a Jinja tag right after its key or list dash, where YAML sees a flow
# mapping: "key: {{ x }}", "- {% if a %}". (A line of a block text may begin with one.)
_TEMPLATE_START = re.compile(r"[ \t]*(?:-[ \t]+)*(?:[\w.-]+:[ \t]+|-[ \t]+)\{[{%]")
TEMPLATE_ADVICE = (
    "a value that begins with '{{' or '{%' must be in quotes, or written as a block after '|'"
    " on lines of its own: unquoted, YAML reads the braces as a mapping"
)


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, path: str) -> BankError:
    """The parser's complaint, or advice when the cause is an unquoted template tag or a tab.

    Only the lines the parser points at are read: the lines between them may be a block text,
    whose lines may begin with anything.
    """
    problem = exc.problem_mark or exc.context_mark
    if problem is None:
        return BankError(f"not valid YAML: {exc.problem or exc}", path=path)
    lines = text.splitlines()  # YAML's line breaks: \n, \r\n and \r alike
    marked = sorted({mark.line for mark in (problem, exc.context_mark) if mark is not None})
    for number in marked:
        if number < len(lines) and _TEMPLATE_START.match(lines[number]):
            return BankError(TEMPLATE_ADVICE, path=path, line=number + 1)
    line = lines[problem.line] if problem.line < len(lines) else ""
    if "\t" in line[: len(line) - len(line.lstrip())]:
        return BankError(
            "indent with spaces: YAML does not allow tabs", path=path, line=problem.line + 1
        )
    return BankError(f"not valid YAML: {exc.problem or exc}", path=path, line=problem.line + 1)


def _line_and_column(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of ``text[index]``."""
    before = text[:index].splitlines(keepends=True) or [""]
    if before[-1].endswith(("\n", "\r")):
        return len(before) + 1, 1
    return len(before), len(before[-1]) + 1


_BRACKETS = re.compile(r"[][{}]")
# The YAML parser nests [ and { recursively, and tens of thousands of them overflow its C
# stack before the depth check sees the result: count them first. Brackets in texts count
# too, so the bound is loose; a real bank never comes near it.
_MAX_BRACKETS = 1000


# Block collections nest by indentation and by indicators on one line (``- - - a``): a line
# whose content starts this far in is nested too deep for any bank, and the parser would
# overflow its stack on it (at about 50,000 levels) just the same.
_MAX_INDENT = 2000
_LONG_LINE = re.compile(rf"^[^\n]{{{_MAX_INDENT + 1}}}", re.MULTILINE)
_BLOCK_START = re.compile(r"^(?:[ \t]*[-?:](?=[ \t]|$))*[ \t]*", re.MULTILINE)


def _too_deep_at(text: str) -> int | None:
    """The line where ``[`` and ``{`` are open more than ``_MAX_BRACKETS`` deep, or where a
    line's content starts after more than ``_MAX_INDENT`` columns of indentation and block
    indicators, if any."""
    long_line = _LONG_LINE.search(text)  # the usual bank has none: nothing to count
    for start in _BLOCK_START.finditer(text, long_line.start() if long_line else len(text)):
        if start.end() - start.start() > _MAX_INDENT:
            return text.count("\n", 0, start.start()) + 1
    if text.count("[") + text.count("{") <= _MAX_BRACKETS:
        return None
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > _MAX_BRACKETS:
            return text.count("\n", 0, match.start()) + 1
    return None


class _Converter:
    """Turns composed YAML nodes into plain data, enforcing the strict rules."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: set[int] = set()

    def fail(self, node: yaml.Node, message: str) -> BankError:
        return BankError(message, path=self.path, line=node.start_mark.line + 1)

    def convert(self, node: yaml.Node, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nested more than {MAX_DEPTH} levels deep")
        if id(node) in self.seen:
            raise self.fail(node, "anchors and aliases (&name, *name) are not supported")
        self.seen.add(id(node))
        if node.tag not in _PLAIN_TAGS:
            raise self.fail(node, f"explicit tags such as {node.tag!r} are not supported")
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            return self.sequence(node, depth)
        return self.scalar(node)  # type: ignore[arg-type]

    def mapping(self, node: yaml.MappingNode, depth: int) -> YamlMap:
        result = YamlMap()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.convert(key_node, depth + 1)
            if key_node.tag == "tag:yaml.org,2002:merge" or key == "<<":
                raise self.fail(key_node, "merge keys (<<) are not supported")
            if node.flow_style and isinstance(key_node, yaml.MappingNode) and key_node.flow_style:
                raise self.fail(key_node, TEMPLATE_ADVICE)  # "prompt: {{ x }}" and nothing more
            if not isinstance(key, str):
                raise self.fail(key_node, f"keys must be text, not {key!r}")
            if key in result:
                first = result.key_lines[key]
                raise self.fail(key_node, f"duplicate key {key!r} (first given on line {first})")
            result[key] = self.convert(value_node, depth + 1)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result

    def sequence(self, node: yaml.SequenceNode, depth: int) -> YamlList:
        result = YamlList(self.convert(item, depth + 1) for item in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [item.start_mark.line + 1 for item in node.value]
        return result

    def scalar(self, node: yaml.ScalarNode) -> Any:
        text = node.value
        if len(text) > MAX_STRING:
            raise self.fail(node, f"text longer than {MAX_STRING} characters")
        if node.style:  # quoted or block scalars are always text (plain style is None or "")
            return text
        return resolve_plain_scalar(text)


def resolve_plain_scalar(text: str) -> Any:
    """Read an unquoted scalar the way people write it: 1e-3 is a number, 'no' is text."""
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        # Past a few hundred digits an int is no count or index: read it as the float it is
        # (Python refuses to convert very long digit strings to int at all).
        return int(text) if len(text) <= MAX_DIGITS else float(text)
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        return float(text)
    return text


def line_of(container: Any, key: str | int | None = None) -> int | None:
    """The line of ``container[key]`` (or of the container itself), when known."""
    if isinstance(container, YamlMap):
        return (
            container.key_lines.get(key, container.line) if isinstance(key, str) else container.line
        )
    if isinstance(container, YamlList):
        if isinstance(key, int) and 0 <= key < len(container.item_lines):
            return container.item_lines[key]
        return container.line
    return None
