"""Typed, located reads from strict-YAML mappings, for the bank loader.

Every failed read raises a BankError naming the file, the line of the offending value and the
question being read, so a teacher can go straight to the mistake.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, NoReturn

from tutor.errors import BankError, close_matches
from tutor.strictyaml import YamlList, YamlMap, line_of


class FieldReader:
    """Reads the fields of one question (or the bank header) with located errors."""

    def __init__(self, path: str, question: str | None = None) -> None:
        self.path = path
        self.question = question

    def fail(self, container: Any, key: str | int | None, message: str) -> NoReturn:
        raise BankError(
            message, path=self.path, line=line_of(container, key), question=self.question
        )

    def mapping(self, container: Any, key: str | int | None, value: Any) -> YamlMap:
        if not isinstance(value, YamlMap):
            self.fail(container, key, f"{_label(key)} must be a mapping (key: value lines)")
        return value

    def keys(self, m: YamlMap, allowed: Iterable[str], required: Iterable[str] = ()) -> None:
        """Reject unknown keys (suggesting the closest known one) and missing ones."""
        allowed = tuple(allowed)
        for key in m:
            if key not in allowed:
                hint = close_matches(key, allowed, n=1)
                more = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.fail(m, key, f"unknown key {key!r}{more}")
        for key in required:
            if key not in m:
                self.fail(m, None, f"missing required key {key!r}")

    def text(self, m: YamlMap, key: str, default: str | None = None) -> str:
        """A text; one that may be left out (``default`` given) may also be left blank."""
        value = m.get(key, default)
        if not isinstance(value, str):
            if value is None:
                self.fail(m, key, f"missing required key {key!r}")
            self.fail(m, key, f"{key!r} must be text, not {_kind(value)}")
        if default is None and not value.strip():
            self.fail(m, key, f"{key!r} is blank")
        return value

    def optional_text(self, m: YamlMap, key: str) -> str | None:
        return self.text(m, key) if m.get(key) is not None else None

    def integer(self, m: YamlMap, key: str, low: int, high: int, default: int | None = None) -> int:
        value = m.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(m, key, f"{key!r} must be a whole number, not {_kind(value)}")
        if not low <= value <= high:
            self.fail(m, key, f"{key!r} must be between {low} and {high}, not {value}")
        return value

    def number(self, m: YamlMap, key: str, default: float | None = None) -> float:
        return self.number_value(m, key, m.get(key, default))

    def number_value(self, container: Any, key: str | int, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(container, key, f"{_label(key)} must be a number, not {_kind(value)}")
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            number = math.inf
        if not math.isfinite(number):
            self.fail(container, key, f"{_label(key)} must be a finite number")
        return number

    def flag(self, m: YamlMap, key: str, default: bool = False) -> bool:
        value = m.get(key, default)
        if not isinstance(value, bool):
            self.fail(m, key, f"{key!r} must be true or false, not {_kind(value)}")
        return value

    def sequence(self, m: YamlMap, key: str, *, min_items: int = 0) -> YamlList:
        value = m.get(key)
        if value is None:
            value = YamlList()
            value.line, value.item_lines = m.line, []
        if not isinstance(value, YamlList):
            self.fail(m, key, f"{key!r} must be a list, not {_kind(value)}")
        if len(value) < min_items:
            self.fail(m, key, f"{key!r} needs at least {min_items} item(s)")
        return value

    def texts(self, m: YamlMap, key: str, *, min_items: int = 0) -> tuple[str, ...]:
        items = self.sequence(m, key, min_items=min_items)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                self.fail(items, i, f"items of {key!r} must be text, not {_kind(item)}")
            if not item.strip():
                self.fail(items, i, f"item {i + 1} of {key!r} is blank")
        return tuple(items)

    def choice(self, m: YamlMap, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(m, key, default)
        if value not in options:
            self.fail(m, key, f"{key!r} must be one of {', '.join(options)}; not {value!r}")
        return value


def _label(key: str | int | None) -> str:
    if isinstance(key, int):
        return f"item {key + 1}"
    return repr(key) if key else "this value"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:17] + "..."
        return f"text ({shown!r})"
    if isinstance(value, list):
        return "a list"
    return "a mapping"
