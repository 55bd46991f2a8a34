"""Terminal input and output for the interactive front ends.

Colour only on a TTY and never with NO_COLOR set; every string is stripped of control
characters before it is written, so nothing from a bank can move the cursor or recolour the
terminal. Answers may come from a pipe: then each answer read is echoed, so a transcript reads
like the interactive session, and the end of input is reported as ``None``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterable
from typing import Literal, TextIO

import click

from tutor.bankspec import Show
from tutor.present import PartView
from tutor.render import WIDTH, strip_controls, wrap
from tutor.variant import Variant

Style = Literal["title", "ok", "bad", "hint", "dim", "bold", "warn"]
_STYLES: dict[str, dict[str, object]] = {
    "title": {"bold": True, "fg": "cyan"},
    "ok": {"bold": True, "fg": "green"},
    "bad": {"bold": True, "fg": "red"},
    "hint": {"fg": "yellow"},
    "warn": {"fg": "magenta"},
    "dim": {"dim": True},
    "bold": {"bold": True},
}


_ECHO = 200  # characters of a piped answer echoed; longer answers are refused anyway


def wants_color(stream: TextIO) -> bool:
    """Colour on a terminal, unless the NO_COLOR convention asks for none."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


class Console:
    """Reads answers and writes sanitized, optionally coloured, text."""

    def __init__(
        self, stdin: TextIO | None = None, stdout: TextIO | None = None, color: bool | None = None
    ) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.color = wants_color(self.stdout) if color is None else color
        self.echo_input = not _isatty(self.stdin)
        self.width = text_width(self.stdout)

    def say(self, text: str = "", style: Style | None = None) -> None:
        """Write a line (or block) of text as it is."""
        self.write(text + "\n", style)

    def prose(self, text: str, style: Style | None = None, hang: str = "") -> None:
        """Write running text (a rendered bank text, a message), wrapped to the width;
        ``hang`` indents its continuation lines."""
        self.say(wrap(text, self.width, hang), style)

    def write(self, text: str, style: Style | None = None) -> None:
        clean = strip_controls(text)
        if style and self.color:
            clean = click.style(clean, **_STYLES[style])  # type: ignore[arg-type]
        click.echo(clean, file=self.stdout, nl=False, color=self.color)

    def ask(self, prompt: str, before_reading: Callable[[], None] | None = None) -> str | None:
        """Show ``prompt`` and read one line; None when input has ended.

        ``before_reading`` runs once the prompt is on screen, while the learner starts typing.
        """
        self.write(prompt, "bold")
        self.stdout.flush()
        if before_reading is not None:
            before_reading()
        line = self.stdin.readline()
        if not line:
            self.say()
            return None
        if self.echo_input:  # enough of it to read what was answered
            shown = line.rstrip("\n")
            self.say(strip_controls(shown if len(shown) <= _ECHO else shown[:_ECHO] + "…"))
        return line.rstrip("\r\n")

    def figures(self, view: PartView, show: Show) -> None:
        """Draw the part's tables and charts meant for the prompt or the explanation."""
        tables, charts = view.tables(show), view.charts(show)
        if not tables and not charts:
            return
        from tutor.charts import text_bar_chart, text_table  # only for questions that have them

        for table in tables:
            if table.title:
                self.prose(table.title)
            self.say(text_table(table.headers, table.rows))
        for chart in charts:
            self.prose(f"{chart.title} ({chart.value_label})" if chart.value_label else chart.title)
            self.say(text_bar_chart(chart.labels, chart.values))

    def variant_in_full(self, variant: Variant) -> None:
        """A variant with everything: prompt, figures, options, answer, explanation."""
        self.say(f"{variant.question.title}  [{variant.id}]", "title")
        for i in range(len(variant.parts)):
            view = PartView(variant, i, "terminal")
            if view.stem:
                self.prose(view.stem)
            if len(variant.parts) > 1:
                self.say(f"Part {i + 1}", "bold")
            self.prose(view.prompt)
            self.figures(view, "prompt")
            self.options(view.options())
            if view.part.type == "explain":
                self.say("Model answer:", "ok")
                self.prose(view.model_answer)
            else:
                numeric = view.part.type == "numeric"
                tolerance = f"  ({view.tolerance_text()})" if numeric else ""
                self.prose(f"Answer: {view.answer_text()}{tolerance}", "ok")
            if view.explanation:
                self.prose(view.explanation)
            self.figures(view, "explanation")

    def lines(self, items: Iterable[str]) -> None:
        for item in items:
            self.say(item)

    def options(self, items: Iterable[str]) -> None:
        """Lettered options ("A. text"), each wrapped under its own text."""
        for item in items:
            self.prose(item, hang="   ")


def text_width(stream: TextIO) -> int:
    """Columns for running text: the terminal's width (less one, as some terminals wrap a
    full line early) up to :data:`WIDTH`; :data:`WIDTH` when writing to a pipe or file."""
    if not _isatty(stream):
        return WIDTH
    return max(40, min(WIDTH, shutil.get_terminal_size((WIDTH + 1, 24)).columns - 1))


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except ValueError:  # a closed stream
        return False
