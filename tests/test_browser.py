"""Worksheets in a real browser: Debian's Chromium driven by Playwright.

They render (MathML with a size, SVG charts visible), make no network request, print with
each answer key on pages of its own (A4 and Letter), and a self-check page grades typed
answers exactly as the terminal does: the answer-spelling and tolerance tables of
test_answers.py run through the page's script and are compared with tutor.answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_answers import ACCEPTED, CLOSE, GRADES, MISTAKES, NONFINITE, REJECTED
from test_worksheet import HOSTILE_BANK, KINDS_BANK, bank_questions

from tutor.answers import Tolerance, parse_answer
from tutor.bankspec import Question
from tutor.catalog import load_catalog
from tutor.errors import AnswerFormatError
from tutor.grading import grade_report
from tutor.numfmt import format_number
from tutor.present import json_number
from tutor.variant import make_variant
from tutor.worksheet import WorksheetOptions, build_worksheet, plan_version

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium; "
        "./scripts/test installs it)",
    ),
]
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ORIGIN = "http://worksheet.test"
SEED = 3


@dataclass
class Opened:
    """A page with everything it asked for and complained about."""

    page: Any
    requests: list[str]
    errors: list[str]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Question, ...]:
    return bank_questions(KINDS_BANK, tmp_path_factory.mktemp("banks"), "kinds")


def open_page(browser: Any, html: str) -> Opened:
    """Serve ``html`` as the only resource of a made-up origin; every other request is refused
    and counted (routes see every request the page makes, whatever its host)."""
    page = browser.new_page(viewport={"width": 900, "height": 1200})
    opened = Opened(page, [], [])
    document = f"{ORIGIN}/worksheet.html"

    def route(route: Any) -> None:
        if route.request.url == document:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            opened.requests.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    page.on("dialog", lambda d: (opened.errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(document)
    return opened


@pytest.fixture(scope="module")
def printed(browser: Any, kinds: tuple[Question, ...]) -> Iterator[Opened]:
    options = WorksheetOptions(versions=2, count=6, seed=SEED, key="end")
    opened = open_page(browser, build_worksheet(kinds, options, jobs=1).sheet)
    yield opened
    opened.page.close()


@pytest.fixture(scope="module")
def self_check_page(kinds: tuple[Question, ...]) -> str:
    options = WorksheetOptions(count=6, seed=SEED, key="none", self_check=True)
    return build_worksheet(kinds, options, jobs=1).sheet


@pytest.fixture(scope="module")
def checking(browser: Any, self_check_page: str) -> Iterator[Opened]:
    """A self-check page for the script's functions (no answers are typed into it)."""
    opened = open_page(browser, self_check_page)
    yield opened
    opened.page.close()


@pytest.fixture
def answering(browser: Any, self_check_page: str) -> Iterator[Opened]:
    """A fresh self-check page to type answers into; it must not report any error."""
    opened = open_page(browser, self_check_page)
    yield opened
    assert opened.errors == [] and opened.requests == []
    opened.page.close()


# ---------------------------------------------------------------------------------- rendering


def test_the_worksheet_renders_without_errors(printed: Opened) -> None:
    page = printed.page
    assert printed.errors == []  # a style or script blocked by the CSP would be reported here
    assert page.locator("h1").count() == 4
    assert page.locator("li.question").count() == 24
    border = page.evaluate(
        "getComputedStyle(document.querySelector('.sheet-head')).borderBottomWidth"
    )
    assert border == "2px"  # the inline stylesheet applies


def test_mathml_lays_out_with_a_size(printed: Opened) -> None:
    sizes = printed.page.evaluate(
        "Array.from(document.querySelectorAll('math'), m => {"
        " const r = m.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert len(sizes) > 20
    assert all(w > 0 and h > 0 for w, h in sizes)


def test_svg_charts_are_visible(printed: Opened) -> None:
    charts = printed.page.locator("figure.chart svg")
    assert charts.count() == 4  # one with the prompt and one in the key, per version
    for i in range(charts.count()):
        chart = charts.nth(i)
        box = chart.bounding_box()
        assert chart.is_visible() and box is not None and box["width"] > 300 and box["height"] > 100
        assert chart.locator("title").count() == 1 and chart.locator("desc").count() == 1
        assert chart.locator("rect").count() >= 3
    name = printed.page.evaluate(
        "document.getElementById(document.querySelector('figure.chart svg')"
        ".getAttribute('aria-labelledby').split(' ')[0]).textContent"
    )
    assert name == "Gradient per layer (prompt)"


def test_the_page_makes_no_network_request(printed: Opened, checking: Opened) -> None:
    assert printed.requests == [] and checking.requests == []
    verdict = printed.page.evaluate(
        "fetch('https://example.com/x').then(() => 'fetched', () => 'blocked')"
    )
    assert verdict == "blocked"  # the CSP forbids connections to any host
    assert printed.requests == []


# ---------------------------------------------------------------------------------- printing


@dataclass(frozen=True)
class Heading:
    title: str
    page: int
    top: float  # distance of the heading's top from the top of its page, in points


def pdf_headings(pdf: bytes) -> tuple[list[Heading], int]:
    """The PDF's outline (Chromium makes one from the headings) and its number of pages."""
    objects = {int(n): body for n, body in re.findall(rb"(\d+) 0 obj\s*(.*?)\s*endobj", pdf, re.S)}
    root = next(b for b in objects.values() if b"/Type /Catalog" in b)
    pages = page_list(objects, int(found(rb"/Pages (\d+) 0 R", root)))
    heights = {n: float(found(rb"/MediaBox \[0 0 [\d.]+ ([\d.]+)\]", objects[n])) for n in pages}
    headings = []
    for body in objects.values():
        dest = re.search(rb"/Dest \[(\d+) 0 R /XYZ [-\d.]+ ([-\d.]+)", body)
        title = re.search(rb"/Title (\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f]*>)", body)
        if dest and title:
            page = int(dest.group(1))
            top = heights[page] - float(dest.group(2))
            headings.append(Heading(pdf_text(title.group(1)), pages.index(page), top))
    return sorted(headings, key=lambda h: (h.page, h.top)), len(pages)


def found(pattern: bytes, body: bytes) -> bytes:
    match = re.search(pattern, body)
    assert match, pattern
    return match.group(1)


def page_list(objects: dict[int, bytes], node: int) -> list[int]:
    body = objects[node]
    if b"/Type /Pages" not in body:
        return [node]
    kids = re.search(rb"/Kids \[([^\]]*)\]", body)
    assert kids
    return [
        p for ref in re.findall(rb"(\d+) 0 R", kids.group(1)) for p in page_list(objects, int(ref))
    ]


def pdf_text(raw: bytes) -> str:
    if raw.startswith(b"<"):
        return bytes.fromhex(raw[1:-1].decode()).decode("utf-16")
    text = re.sub(rb"\\([0-7]{1,3})", lambda m: bytes([int(m.group(1), 8)]), raw[1:-1])
    return re.sub(rb"\\(.)", rb"\1", text).decode("latin-1")


@pytest.mark.parametrize(("paper", "height"), [("A4", 842), ("Letter", 792)])
def test_printing_puts_each_version_and_each_key_on_pages_of_its_own(
    printed: Opened, paper: str, height: int
) -> None:
    pdf = printed.page.pdf(format=paper, outline=True, tagged=True, print_background=True)
    headings, pages = pdf_headings(pdf)
    margin = 16 / 25.4 * 72  # @page margin: 16 mm
    starts = [h for h in headings if h.title.startswith(("Answer key", "Worksheet Version"))]
    assert [h.title for h in starts] == [
        f"Worksheet Version {SEED}-1",
        f"Worksheet Version {SEED}-2",
        f"Answer key Worksheet, version {SEED}-1",
        f"Answer key Worksheet, version {SEED}-2",
    ]
    for start in starts:
        assert start.top < margin + 12, f"{start.title} is not at the top of page {start.page}"
        before = headings[: headings.index(start)]
        assert all(h.page < start.page for h in before), f"{start.title} shares its page"
    assert starts[-1].page < pages
    assert 4 <= pages <= 30


def test_print_media_breaks_before_keys(printed: Opened) -> None:
    page = printed.page
    page.emulate_media(media="print")
    try:
        breaks = page.evaluate(
            "Array.from(document.querySelectorAll('section'), s => [s.id, getComputedStyle(s).breakBefore])"
        )
        assert breaks == [
            ["v1", "auto"], ["v2", "page"], ["v1-key", "page"], ["v2-key", "page"],
        ]  # fmt: skip
        inside = page.evaluate(
            "getComputedStyle(document.querySelector('li.question')).breakInside"
        )
        assert inside == "avoid"
    finally:
        page.emulate_media(media="screen")


def test_a_chart_taller_than_a_page_shrinks_to_fit_one_when_printed(browser: Any) -> None:
    pool = [load_catalog().get("rnn-long-range")]  # seed 1, version 1: T = 50, so 51 bars
    html = build_worksheet(pool, WorksheetOptions(count=1, seed=1, key="none"), jobs=1).sheet
    opened = open_page(browser, html)
    page = opened.page
    try:
        tallest = "Math.max(...Array.from(document.querySelectorAll('figure.chart svg'), s => s.getBoundingClientRect().height))"
        assert page.evaluate(tallest) > 200 / 25.4 * 96  # on screen it is taller than 200 mm
        page.emulate_media(media="print")
        assert page.evaluate(tallest) <= 200 / 25.4 * 96 + 1
    finally:
        page.close()


# ---------------------------------------------------------------------------------- self-check


def part_of(kinds: tuple[Question, ...], question_id: str) -> tuple[str, Any]:
    """The element id of the first part of ``question_id`` on the self-check page, and its variant."""
    plan = plan_version(kinds, 6, SEED, 1)
    index, (question, seed) = next((i, qs) for i, qs in enumerate(plan) if qs[0].id == question_id)
    return f"v1-q{index + 1}-p1", make_variant(question, seed)


def visible(form: Any, selector: str) -> list[str]:
    items = form.locator(selector)
    return [items.nth(i).inner_text() for i in range(items.count()) if items.nth(i).is_visible()]


def test_self_check_grades_garbled_wrong_and_right_answers_as_the_terminal(
    answering: Opened, kinds: tuple[Question, ...]
) -> None:
    anchor, variant = part_of(kinds, "kinds-numeric")
    form = answering.page.locator(f"#{anchor}")
    key = variant.parts[0]
    answers = {
        "garbled": "1,000",
        "wrong": format_number(key.mistakes["n-minus-one"], 10, "plain"),
        "right": format_number(key.expected, 10, "plain"),
    }
    reports = {name: grade_report(variant, 0, text) for name, text in answers.items()}
    assert not form.locator(".gt-explanation").is_visible()

    form.locator("input.gt-input").fill(answers["garbled"])
    form.locator("button").click()
    status = form.locator(".gt-status").inner_text()
    assert status == f"{reports['garbled']['format_error']} (This try did not count.)"
    assert visible(form, ".gt-help") == []  # not counted, so no hint

    form.locator("input.gt-input").fill(answers["wrong"])
    form.locator("button").click()
    assert reports["wrong"]["mistake"] == "n-minus-one" and not reports["wrong"]["correct"]
    assert form.locator(".gt-status").inner_text() == "✗ Not quite."
    assert visible(form, ".gt-feedback") == [reports["wrong"]["feedback"]]
    assert len(visible(form, ".gt-help")) == 1  # the first hint after the first wrong try
    assert not form.locator(".gt-explanation").is_visible()

    form.locator("input.gt-input").fill(answers["right"])
    form.locator("button").click()
    assert reports["right"]["correct"]
    assert form.locator(".gt-status").inner_text() == "✓ Correct."
    assert form.locator(".gt-explanation").is_visible()
    assert visible(form, ".gt-feedback") == []
    assert form.locator("input.gt-input").is_disabled()
    score = answering.page.locator(".gt-score").inner_text()
    assert score == "Score so far: 0.5 of 6."  # right on the second try, as in the quiz


def test_self_check_multiple_choice(answering: Opened, kinds: tuple[Question, ...]) -> None:
    anchor, variant = part_of(kinds, "kinds-choice-words")
    form = answering.page.locator(f"#{anchor}")
    choices = variant.parts[0].choices
    wrong = next(i for i, c in enumerate(choices) if c.mistake == "relu")
    right = next(i for i, c in enumerate(choices) if c.correct)
    form.locator("button").click()
    assert (
        form.locator(".gt-status").inner_text()
        == "Choose one of the options. (This try did not count.)"
    )
    form.locator(f"#{anchor}-o{wrong}").check()
    form.locator("button").click()
    assert form.locator(".gt-status").inner_text() == "✗ Not quite."
    assert visible(form, ".gt-feedback") == ["ReLU's slope is 1 for positive inputs."]
    form.locator(f"#{anchor}-o{right}").check()
    form.locator("button").click()
    assert form.locator(".gt-status").inner_text() == "✓ Correct."
    assert form.locator(".gt-explanation").is_visible()


def test_self_check_true_false_has_one_try(answering: Opened, kinds: tuple[Question, ...]) -> None:
    anchor, _ = part_of(kinds, "kinds-truefalse")
    form = answering.page.locator(f"#{anchor}")
    form.locator(f"#{anchor}-o1").check()  # "False"; the answer is true
    form.locator("button").click()
    assert form.locator(".gt-status").inner_text() == "✗ Not quite."
    assert visible(form, ".gt-feedback") == [
        "More layers mean more factors below 1, not more signal."
    ]
    assert form.locator(".gt-answer").inner_text() == "The answer: true"
    assert form.locator(".gt-explanation").is_visible()
    assert form.locator(f"#{anchor}-o0").is_disabled()


def test_self_check_explain_card(answering: Opened, kinds: tuple[Question, ...]) -> None:
    anchor, _ = part_of(kinds, "kinds-explain")
    form = answering.page.locator(f"#{anchor}")
    form.locator("textarea").fill("Skips add an identity path.")
    form.locator("button[type=submit]").click()
    assert "The gradient cannot vanish" in form.locator(".gt-explanation").inner_text()
    form.locator(".gt-rate button[value=yes]").click()
    assert form.locator("textarea").is_disabled()
    assert answering.page.locator(".gt-score").inner_text() == "Score so far: 1 of 6."


def test_the_self_check_page_had_no_errors(checking: Opened) -> None:
    assert checking.errors == []


# ---------------------------------------------------------------------------------- same rules


def python_parse(text: str, allow: bool) -> dict[str, Any] | None:
    """parse_answer's result as the page reports it; None where the core itself fails."""
    try:
        value = parse_answer(text, allow_nonfinite=allow)
    except AnswerFormatError as exc:
        return {"error": str(exc)}
    except ValueError:  # a crash in tutor.expr for a few sign/exponent spellings (reported)
        return None
    return {"value": value, "negativeZero": value == 0 and math.copysign(1, value) < 0}


def same(python: dict[str, Any], page: dict[str, Any]) -> bool:
    if "error" in python:
        return page.get("error") == python["error"]
    if "value" not in page:
        return False
    value, expected = float(page["value"]), python["value"]  # large whole numbers come as ints
    both_nan = math.isnan(value) and math.isnan(expected)
    return (both_nan or value == expected) and page["negativeZero"] == python["negativeZero"]


def compare(page: Any, texts: list[str]) -> list[tuple[str, bool, Any, Any]]:
    """Every text through the page's parser and Python's, with and without inf/nan allowed."""
    differences = []
    for allow in (False, True):
        results = page.evaluate(
            "([texts, allow]) => texts.map(t => window.gradientTutor.parseAnswer(t, allow))",
            [texts, allow],
        )
        for text, result in zip(texts, results, strict=True):
            expected = python_parse(text, allow)
            if expected is not None and not same(expected, result):
                differences.append((text, allow, expected, result))
    return differences


# The edge cases test_answers.py gives Hypothesis, and more limits.
EDGES = [
    "9" * 200, "(" * 100, "(" * 39 + "1" + ")" * 39, "-" * 199 + "1", "1e" + "9" * 150,
    "0x" + "f" * 190, "1," * 99 + "1", "\x00", "2^1000001", "0.5^2000000", "(-2)^0.5",
    "(-2)^1000000.5", "(-0.5)^1000000.5", "0^-1", "(-0.0)^-0.5", "-0", "-(0)", "0*-1", "-0.0",
    "min(0, -0.0)", "max(-0.0, 0)", "abs(-0)", "10^-400", "10^400", "1e308*10", "2 x 3",
    "2x", "2 xy", "(2)x(3)", "0b101x", "2²³", "10⁻⁴⁰⁰", "×", "sqrt()", "min()", "max(1,)",
    "SQRT(4)", "Sqr(2)", "PI", "Pi", "ee", "p", "floor(2)", "sum", "e(1)", "inf*2", "1 2 3",
    "12.5 %", "+5%", "5.%", "%", "1 000 000", "1\u00a0000", "0,5e3", "0X1F", "-0x10", "0x1_0",
    "0x_10", "0x10_", "0b", "1/-0.0", "1e-320", "4.9e-324", "2.5e-324", "1.8e308",
]  # fmt: skip


def test_the_spelling_tables_parse_the_same_in_the_page(checking: Opened) -> None:
    texts = [t for t, _ in ACCEPTED] + [t for t, _ in REJECTED] + [t for t, _ in NONFINITE]
    assert compare(checking.page, texts + EDGES) == []


PIECES = [
    *"0123456789.eE+-*/^() xX,%_", "**", "−", "–", "×", "·", "÷", "⁻", "⁴", "²", "sqrt(", "ln(",
    "log10(", "log2(", "exp(", "min(", "max(", "abs(", "floor(", "pi", "e", "10^", "inf", "nan",
    "∞", "0x", "0b1", "1e999", "1e-999", "'", '"', "=", "<", "$", "٣", "😀", "sq", "pie", "exq(",
    " 000", "\u00a0", "\u2009", "[", ".5", "and", "ı",
]  # fmt: skip


def test_random_spellings_parse_the_same_in_the_page(checking: Opened) -> None:
    rng = np.random.default_rng(20240)
    texts = ["".join(rng.choice(PIECES, size=int(rng.integers(1, 10)))) for _ in range(4000)]
    assert compare(checking.page, texts) == []


SPELLINGS = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
    # Any character Python's Unicode database knows (newer ones may differ in the browser's).
    st.text(st.characters(max_codepoint=0x2FFF, exclude_categories=("Cs", "Cn")), max_size=8),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(SPELLINGS, min_size=1, max_size=40))
def test_any_spelling_parses_the_same_in_the_page(checking: Opened, texts: list[str]) -> None:
    assert compare(checking.page, texts) == []


def tolerance(tol: Tolerance) -> dict[str, Any]:
    return {"kind": tol.kind, "value": tol.value}


def test_the_tolerance_table_grades_the_same_in_the_page(checking: Opened) -> None:
    cases = [[json_number(v), json_number(e), tolerance(t)] for v, e, t, _ in CLOSE]
    results = checking.page.evaluate(
        "cases => cases.map(([v, e, t]) => window.gradientTutor.isClose(v, e, t))", cases
    )
    assert results == [close for *_, close in CLOSE]


def test_misconceptions_are_matched_the_same_in_the_page(checking: Opened) -> None:
    expected = 0.25**10 * 1.5
    mistakes = [[name, value] for name, value in MISTAKES.items()]
    cases = [[value, tolerance(t)] for value, t, _, _ in GRADES]
    results = checking.page.evaluate(
        "([cases, expected, mistakes]) => cases.map(([v, t]) =>"
        " window.gradientTutor.grade(v, expected, t, mistakes))",
        [cases, expected, mistakes],
    )
    assert results == [
        {"correct": correct, "mistake": mistake} for _, _, mistake, correct in GRADES
    ]


# ---------------------------------------------------------------------------------- hostile


@pytest.mark.parametrize("self_check", [False, True])
def test_a_hostile_bank_does_nothing_in_the_browser(
    browser: Any, tmp_path: Path, self_check: bool
) -> None:
    questions = bank_questions(HOSTILE_BANK, tmp_path, "hostile")
    options = WorksheetOptions(count=3, self_check=self_check)
    opened = open_page(browser, build_worksheet(questions, options, jobs=1).sheet)
    try:
        page = opened.page
        if self_check:
            for button in page.locator("form.gt-part button[type=submit]").all():
                button.click()
        assert page.evaluate("typeof window.pwned") == "undefined"
        assert page.evaluate("document.images.length + document.links.length") == 0
        assert page.evaluate("document.scripts.length") == (1 if self_check else 0)
        assert opened.requests == [] and opened.errors == []
        titles = page.locator("h2").all_inner_texts()
        assert any("<script>window.pwned = 1</script>" in title for title in titles)
    finally:
        opened.page.close()
