"""HTML worksheets: planning, every question kind, keys, escaping, CSP, determinism, files."""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
import stat
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from tutor import worksheet as ws
from tutor.bank import parse_bank
from tutor.bankspec import Question
from tutor.catalog import load_catalog
from tutor.cli import main
from tutor.errors import TutorError
from tutor.files import FileWriteError, write_atomic
from tutor.present import PartView
from tutor.quiz import MAX_ATTEMPTS
from tutor.selfcheck import grading_data, script
from tutor.sheetdata import question_sheet
from tutor.variant import make_variant
from tutor.worksheet import (
    _BODY,
    WorksheetError,
    WorksheetOptions,
    build_options,
    build_worksheet,
    key_path,
    parse_version_id,
    plan_version,
    write_worksheet,
)

# A bank with every kind of question: numeric (tables and charts with the prompt and with the
# explanation), multiple choice with numbers and with written options, true/false, an explain
# card, and a chained question. test_browser.py uses it too.
KINDS_BANK = r"""
topic: kinds
questions:
  - id: kinds-numeric
    title: A numeric question with a table and a chart
    concepts: [C4]
    params:
      n: {int: [3, 6]}
    simulate:
      chain: {model: chain, depth: n, activation: sigmoid, weight: 1, z: 0}
    values:
      layers: "range(1, n + 1)"
    prompt: |
      A chain of $N = {{ n }}$ sigmoid units has $w_l = 1$ and $z_l = 0$.
      What is $\partial h_N / \partial h_0$?
    answer: chain.grad
    hints:
      - Multiply one factor $\sigma'(0) = 0.25$ per layer.
    working: The product is $0.25^{ {{ n }} }$.
    explanation: Each layer contributes $0.25$, so the gradient is ${{ answer|num }}$.
    table:
      - title: Factors by layer
        show: prompt
        columns:
          "layer $l$": layers
          "$\\sigma'(z_l)$": chain.fprime
      - title: Gradient reaching each layer
        columns:
          layer: layers
          gradient: chain.to_input
    chart:
      - title: Gradient per layer (prompt)
        values: chain.to_input
        show: prompt
      - title: Gradient per layer (key)
        values: chain.to_input
    mistakes:
      n-minus-one:
        answer: "0.25 ** (n - 1)"
        feedback: There is one factor per layer, so {{ n }} factors.
  - id: kinds-choice-numbers
    title: Multiple choice with numbers
    concepts: [C3]
    type: choice
    params:
      z: {float: [0.5, 2], round: 1}
    simulate:
      act: {model: activation, name: sigmoid, z: z}
    prompt: What is $\sigma'({{ z }})$?
    answer: act.derivative
    hints:
      - Use $\sigma'(z) = \sigma(z)(1 - \sigma(z))$.
    explanation: $\sigma'({{ z }}) = {{ answer|num }}$.
    mistakes:
      sigma-not-derivative:
        answer: act.value
        feedback: That is $\sigma(z)$, not its slope.
      quarter:
        answer: "0.25"
        feedback: 0.25 is the slope at $z = 0$ only.
  - id: kinds-choice-words
    title: Multiple choice with written options
    concepts: [C4]
    type: choice
    prompt: Which activation's slope is at most 0.25?
    options:
      - {text: The sigmoid, correct: true}
      - {text: ReLU, mistake: relu, feedback: "ReLU's slope is 1 for positive inputs."}
      - {text: "$\\tanh$", mistake: tanh, feedback: "The slope of $\\tanh$ reaches 1 at 0."}
    hints:
      - Compare the slopes at 0.
    explanation: The sigmoid's slope peaks at $\sigma'(0) = 0.25$.
  - id: kinds-truefalse
    title: True or false
    concepts: [C4]
    type: truefalse
    prompt: A deeper sigmoid chain has a smaller gradient at the input.
    answer: true
    hints:
      - Each extra layer multiplies by at most 0.25.
    explanation: Every layer multiplies the gradient by a factor below 1.
    mistakes:
      more-is-bigger:
        feedback: More layers mean more factors below 1, not more signal.
  - id: kinds-explain
    title: An explain card
    concepts: [C15]
    type: explain
    prompt: Explain why residual connections help gradients flow.
    model_answer: |
      - The skip path adds an identity term, so the local factor is $1 + f'$.
      - The gradient cannot vanish through the skip path alone.
    explanation: Compare with a plain chain, whose factors multiply.
  - id: kinds-chained
    title: A chained question
    concepts: [C2, C4]
    params:
      n: {int: [4, 8]}
    prompt: A sigmoid chain has $N = {{ n }}$ layers, every $w_l = 1$ and $z_l = 0$.
    parts:
      - prompt: What is the factor of one layer?
        answer: "0.25"
        tolerance: exact
        hints:
          - It is $\sigma'(0)$.
        explanation: $\sigma'(0) = 0.25$.
        mistakes:
          sigma:
            answer: "0.5"
            feedback: That is $\sigma(0)$.
      - prompt: What is the gradient at the input?
        answer: "0.25 ** n"
        hints:
          - Multiply the {{ n }} factors.
        explanation: $0.25^{ {{ n }} } = {{ answer|num }}$.
        mistakes:
          sum:
            answer: "0.25 * n"
            feedback: The factors multiply; they do not add.
"""

# Markup a hostile bank might carry, in every text a worksheet shows.
ATTACKS = (
    "<script>window.pwned = 1</script>",
    '<img src="x" onerror="window.pwned = 2">',
    '<a href="javascript:window.pwned = 3">click</a>',
)
ATTACK = " ".join(ATTACKS)
HOSTILE_BANK = f"""
topic: hostile
questions:
  - id: hostile-numeric
    title: '{ATTACK}'
    concepts: [C4]
    params:
      n: {{int: [2, 4]}}
    values:
      layers: "range(1, n + 1)"
    prompt: '{ATTACK} What is 2 times {{{{ n }}}}?'
    answer: 2 * n
    tolerance: exact
    hints: ['{ATTACK}']
    working: '{ATTACK}'
    explanation: '{ATTACK} It is {{{{ answer }}}}.'
    table:
      title: '{ATTACK}'
      show: prompt
      columns:
        '{ATTACK}': layers
    chart:
      title: '{ATTACK}'
      values: "[1, 2, 3]"
      labels: '[''{ATTACKS[1]}'', ''{ATTACKS[0]}'', ''c'']'
      value_label: '{ATTACK}'
      show: prompt
    mistakes:
      halved:
        answer: n / 2
        feedback: '{ATTACK}'
  - id: hostile-choice
    title: Hostile options
    concepts: [C4]
    type: choice
    prompt: Pick one.
    options:
      - {{text: '{ATTACK}', correct: true}}
      - {{text: 'plain', mistake: m, feedback: '{ATTACK}'}}
    hints: ['{ATTACK}']
    explanation: '{ATTACK}'
  - id: hostile-explain
    title: Hostile card
    concepts: [C4]
    type: explain
    prompt: '{ATTACK}'
    model_answer: '{ATTACK}'
"""


def bank_questions(text: str, tmp_path: Path, name: str) -> tuple[Question, ...]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return parse_bank(text, str(path)).questions


@pytest.fixture
def kinds(tmp_path: Path) -> tuple[Question, ...]:
    return bank_questions(KINDS_BANK, tmp_path, "kinds")


# ---------------------------------------------------------------------------------- HTML


class Page(HTMLParser):
    """Elements, attributes and script contents of a page; checks that tags balance."""

    VOID = frozenset(
        [
            "area",
            "base",
            "br",
            "col",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "source",
            "track",
            "wbr",
        ]
    )

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.open: list[str] = []
        self.problems: list[str] = []
        self._script: dict[str, str] | None = None
        self.text_parts: list[str] = []
        self.feed(text)
        self.close()
        if self.open:
            self.problems.append(f"unclosed: {self.open[-5:]}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.elements.append((tag, values))
        if tag == "script":
            self._script = values
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for t, attrs in self.elements if t == tag]


def sheet(pool: tuple[Question, ...] | list[Question], **options: object) -> str:
    return build_worksheet(pool, WorksheetOptions(**options), jobs=1).sheet  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- planning


@given(seed=st.integers(0, 2**63 - 1), version=st.integers(1, 500), count=st.integers(1, 25))
def test_a_plan_is_a_function_of_seed_version_and_pool(seed: int, version: int, count: int) -> None:
    pool = POOL[:9]
    plan = plan_version(pool, count, seed, version)
    assert plan == plan_version(pool, count, seed, version)
    assert len(plan) == count
    assert len({(q.id, s) for q, s in plan}) == count  # no variant twice
    uses = Counter(q.id for q, _ in plan)
    assert max(uses.values()) - min(uses.get(q.id, 0) for q in pool) <= 1  # rounds of the pool


POOL = load_catalog().questions


def test_a_plan_is_the_same_on_every_python_and_numpy() -> None:
    """Drawn from ``random()`` alone, whose sequence Python keeps across versions (shuffle,
    sample, randrange and NumPy's Generator methods may change theirs): pinned here."""
    pool = [SimpleNamespace(id=f"q{i}") for i in range(5)]
    plan = [(q.id, seed) for q, seed in plan_version(pool, 7, 7, 3)]  # type: ignore[arg-type]
    assert plan == [("q4", 634679), ("q0", 471517), ("q2", 365737), ("q3", 46686),
                    ("q1", 953961), ("q0", 707956), ("q1", 281187)]  # fmt: skip


def test_versions_differ() -> None:
    plans = [plan_version(POOL, 10, 7, k) for k in range(1, 6)]
    assert len({tuple((q.id, s) for q, s in plan) for plan in plans}) == 5


def test_an_empty_pool_is_an_error() -> None:
    with pytest.raises(WorksheetError, match="no questions"):
        plan_version([], 3, 1, 1)


VERSION_IDS = [("7-3", (7, 3)), (" 0-1 ", (0, 1)), ("9223372036854775807-2", (2**63 - 1, 2))]


@pytest.mark.parametrize(("text", "parsed"), VERSION_IDS)
def test_version_ids(text: str, parsed: tuple[int, int]) -> None:
    assert parse_version_id(text) == parsed


@pytest.mark.parametrize("text", ["7", "7-0", "a-1", "-1-2", "7-3-1", "9223372036854775808-1", ""])
def test_bad_version_ids(text: str) -> None:
    with pytest.raises(WorksheetError, match="is not a version id"):
        parse_version_id(text)


def test_a_version_id_stands_for_seed_and_version() -> None:
    options = build_options(
        versions=None, count=4, seed=None, version_id="7-3", title="T", key="end", self_check=False
    )
    assert (options.seed, options.numbers) == (7, [3])
    with pytest.raises(WorksheetError, match="leave out --seed and --versions"):
        build_options(
            versions=None, count=4, seed=2, version_id="7-3", title="T", key="end", self_check=False
        )


def test_one_version_regenerated_from_its_id_is_the_same(kinds: tuple[Question, ...]) -> None:
    whole = sheet(kinds, versions=3, count=5, seed=11, key="none")
    alone = sheet(kinds, versions=3, count=5, seed=11, key="none", only_version=2)
    section = re.compile(r'<section class="version[^"]*" id="v2".*?</section>', re.DOTALL)
    first, second = section.search(whole), section.search(alone)
    assert first and second
    assert first.group().replace(" new-page", "") == second.group()


# ---------------------------------------------------------------------------------- content


@pytest.mark.parametrize("question", POOL, ids=[q.id for q in POOL])
def test_every_bundled_question_renders_in_html(question: Question) -> None:
    """Everything a worksheet can show: the sheet, the key and a self-check's hidden texts."""
    q = question_sheet(question, 1, anchor="q", number=1, key=True, check=True)
    assert all(p.prompt and (p.answer or p.model_answer) for p in q.parts)
    text = sheet([question], count=1, self_check=True)
    assert Page(text).problems == []
    assert text.count('<li class="question"') == 2  # on the sheet and in the key


def test_every_kind_of_question_renders(kinds: tuple[Question, ...]) -> None:
    text = sheet(kinds, count=6, seed=3)
    page = Page(text)
    assert page.problems == []
    assert len(page.all("li")) >= 6
    assert 'class="options"' in text  # both kinds of multiple choice
    assert "The sigmoid" in text and "Circle one" in text and "answer-box" in text
    assert '<ol class="parts">' in text  # the chained question's parts
    assert text.count('<table class="gt-table">') == 2  # one with the prompt, one in the key
    assert text.count("<svg") == 2
    assert "Gradient per layer (prompt)" in text and "Gradient per layer (key)" in text
    assert "Model answer" in text and "The gradient cannot vanish" in text
    assert "<math" in text


def test_prompt_figures_are_on_the_sheet_and_explanation_figures_in_the_key(
    kinds: tuple[Question, ...],
) -> None:
    text = sheet(kinds, count=6, seed=3)
    key_starts = text.index('<section class="key')
    assert text.index("Gradient per layer (prompt)") < key_starts
    assert text.index("Gradient per layer (key)") > key_starts
    assert text.index("Factors by layer") < key_starts < text.index("Gradient reaching each layer")


def test_charts_have_a_title_and_a_text_alternative(kinds: tuple[Question, ...]) -> None:
    page = Page(sheet(kinds[:1], count=1))
    svgs = page.all("svg")
    assert svgs and all(s.get("role") == "img" for s in svgs)
    assert all(s.get("aria-labelledby") for s in svgs)
    assert "Bar chart on a log scale, one bar per label. 1: " in page.text


def test_inputs_are_labelled(kinds: tuple[Question, ...]) -> None:
    page = Page(sheet(kinds, count=6, seed=5, self_check=True))
    labelled = {attrs["for"] for attrs in page.all("label")}
    inputs = page.all("input") + page.all("textarea")
    assert inputs
    assert [i for i in inputs if i.get("id") not in labelled] == []
    assert len(page.all("fieldset")) == 3  # two multiple-choice parts and one true/false
    ids = [attrs["id"] for _, attrs in page.elements if "id" in attrs]
    assert len(ids) == len(set(ids))


def test_headings_and_lists(kinds: tuple[Question, ...]) -> None:
    page = Page(sheet(kinds, versions=2, count=6))
    assert [a.get("class") for a in page.all("ol")].count("questions") == 4  # 2 sheets, 2 keys
    assert len(page.all("h1")) == 4
    assert len(page.all("h2")) == 24


def test_the_key_gives_answers_tolerances_and_explanations(kinds: tuple[Question, ...]) -> None:
    text = sheet(kinds, count=6, seed=3)
    key = text[text.index('<section class="key') :]
    assert "Answer:</strong> C. The sigmoid" in key or "The sigmoid" in key
    assert "(within 1% of the answer)" in key and "(exactly)" in key
    assert "Every layer multiplies the gradient by a factor below 1." in key
    assert "Answer:</strong> true" in key
    assert "--version-id 3-1" in key


# ---------------------------------------------------------------------------------- keys


def test_keys_at_the_end_start_new_pages(kinds: tuple[Question, ...]) -> None:
    text = sheet(kinds, versions=3, count=3)
    sections = re.findall(r'<section class="([^"]*)" id="([^"]*)"', text)
    assert sections == [
        ("version", "v1"),
        ("version new-page", "v2"),
        ("version new-page", "v3"),
        ("key new-page", "v1-key"),
        ("key new-page", "v2-key"),
        ("key new-page", "v3-key"),
    ]


def test_keys_in_a_separate_file(kinds: tuple[Question, ...]) -> None:
    result = build_worksheet(kinds, WorksheetOptions(versions=2, count=3, key="separate"), jobs=1)
    assert result.key is not None
    assert '<section class="key' not in result.sheet
    assert re.findall(r'<section class="([^"]*)"', result.key) == ["key", "key new-page"]
    assert "<script" not in result.key


def test_no_key(kinds: tuple[Question, ...]) -> None:
    text = sheet(kinds, count=6, key="none")
    assert '<section class="key' not in text and "Model answer" not in text


def test_the_sheet_alone_gives_no_answers(kinds: tuple[Question, ...]) -> None:
    text = sheet(kinds, count=6, key="separate")
    assert "Model answer" not in text and "Every layer multiplies" not in text


# ---------------------------------------------------------------------------------- safety


def csp_of(text: str) -> str:
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', text)
    assert match
    return html.unescape(match.group(1))


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_csp_allows_only_our_style_and_no_script(kinds: tuple[Question, ...]) -> None:
    text = sheet(kinds, count=2)
    csp = csp_of(text)
    style = re.search(r"<style>(.*?)</style>", text, re.DOTALL)
    assert style
    assert csp == (
        f"default-src 'none'; style-src {sha256(style.group(1))}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    assert "<script" not in text
    assert text.index("Content-Security-Policy") < text.index("<style>")


def test_a_self_check_page_allows_its_script_by_hash(kinds: tuple[Question, ...]) -> None:
    text = sheet(kinds, count=2, self_check=True)
    scripts = Page(text).scripts
    executable = [body for attrs, body in scripts if attrs.get("type") is None]
    assert executable == [script()]
    assert f"script-src {sha256(script())}" in csp_of(text)
    assert "src" not in scripts[0][0]


@pytest.mark.parametrize("self_check", [False, True])
def test_a_hostile_bank_comes_out_inert(tmp_path: Path, self_check: bool) -> None:
    questions = bank_questions(HOSTILE_BANK, tmp_path, "hostile")
    text = sheet(questions, count=3, self_check=self_check)
    page = Page(text)
    assert page.problems == []
    assert len(page.all("script")) == (1 if self_check else 0)
    handlers = [(t, k) for t, attrs in page.elements for k in attrs if k.startswith("on")]
    assert handlers == []
    links = [v for _, attrs in page.elements for v in attrs.values() if "javascript:" in v]
    assert links == []
    assert page.all("img") == [] and page.all("a") == []
    assert text.count("&lt;script&gt;window.pwned = 1&lt;/script&gt;") >= 8
    assert "<img" not in text and "<a " not in text and "<script>window" not in text


def test_the_title_is_escaped(kinds: tuple[Question, ...]) -> None:
    text = sheet(kinds, count=1, title="<b>Quiz</b> & co")
    assert "<title>&lt;b&gt;Quiz&lt;/b&gt; &amp; co</title>" in text
    assert "<b>Quiz</b>" not in text


def test_a_title_holding_the_body_placeholder_is_only_a_title(kinds: tuple[Question, ...]) -> None:
    text = sheet(kinds, count=1, title=f"odd {_BODY} title")
    head, body = text.split("</head>")
    assert f"<title>odd {_BODY} title</title>" in head
    headers = body.count('<header class="sheet-head">')  # the version's, and its key's
    assert headers >= 1 and body.count(_BODY) == headers and body.rstrip().endswith("</html>")


# ---------------------------------------------------------------------------------- self-check


def test_grading_data_follows_the_terminal(kinds: tuple[Question, ...]) -> None:
    for question in kinds:
        variant = make_variant(question, 4)
        for i, part in enumerate(question.parts):
            data = grading_data(PartView(variant, i, "html"))
            assert data["type"] == part.type
            if part.type == "explain":
                assert data["help"] == 0
                continue
            key = variant.parts[i]
            limit = MAX_ATTEMPTS[part.type]
            if part.type == "choice":
                limit = min(limit, len(key.choices) - 1)
                assert [o["correct"] for o in data["options"]] == [c.correct for c in key.choices]
            assert data["tries"] == limit
            assert data["help"] == len(part.hints) + bool(part.working)
            if part.type == "numeric":
                assert data["expected"] == key.expected
                assert data["mistakes"] == [[n, v] for n, v in key.mistakes.items()]


def test_a_self_check_page_hides_feedback_hints_and_explanations(
    kinds: tuple[Question, ...],
) -> None:
    text = sheet(kinds, count=6, seed=2, self_check=True, key="none")
    page = Page(text)
    for cls in ("gt-feedback", "gt-help", "gt-answer", "gt-explanation"):
        found = [a for _, a in page.elements if cls in a.get("class", "").split()]
        assert found and all("hidden" in a for a in found), cls
    assert 'data-mistake="n-minus-one"' in text and 'data-option="' in text


# ---------------------------------------------------------------------------------- files


def test_the_same_options_give_the_same_bytes(kinds: tuple[Question, ...]) -> None:
    options = WorksheetOptions(versions=4, count=20, seed=5, self_check=True)
    first = build_worksheet(kinds, options, jobs=1).sheet
    assert build_worksheet(kinds, options, jobs=1).sheet == first
    assert build_worksheet(kinds, options, jobs=2).sheet == first  # worker processes


def test_a_broken_bank_in_a_worker_is_reported(tmp_path: Path) -> None:
    broken = KINDS_BANK.replace("{{ n }} factors.", "{{ missing_name }} factors.")
    questions = bank_questions(broken, tmp_path, "broken")
    with pytest.raises(TutorError, match="missing_name"):
        build_worksheet(questions, WorksheetOptions(versions=4, count=20), jobs=2)


def test_a_question_that_fails_only_when_drawn_is_reported_from_the_worker(
    tmp_path: Path,
) -> None:
    # Its texts pass the check the parent runs; drawing it fails in the worker processes.
    values = '    values:\n      layers: "range(1, n + 1)"\n'
    broken = KINDS_BANK.replace(values, '    require:\n      - "n > 100"\n' + values, 1)
    assert broken != KINDS_BANK
    questions = bank_questions(broken, tmp_path, "broken")
    with pytest.raises(TutorError, match="no valid variant in 100 draws"):
        build_worksheet(questions, WorksheetOptions(versions=4, count=20), jobs=2)


def test_write_worksheet_writes_the_key_file(tmp_path: Path, kinds: tuple[Question, ...]) -> None:
    target = tmp_path / "sheet.html"
    written = write_worksheet(target, kinds, WorksheetOptions(count=3, key="separate"), jobs=1)
    assert written == [target, tmp_path / "sheet-key.html"]
    assert key_path(target).read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "kinds.yaml",
        "sheet-key.html",
        "sheet.html",
    ]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "sheet.html"
    target.write_text("old")

    def crash(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ws.os, "fsync", crash)
    with pytest.raises(FileWriteError, match=r"cannot write .*No space left on device"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["sheet.html"]


def test_an_interrupted_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "sheet.html"

    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ws.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new")
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_place_of_the_folder_is_a_message(tmp_path: Path) -> None:
    (tmp_path / "notadir").write_text("")
    with pytest.raises(FileWriteError, match=r"cannot write .*Not a directory"):
        write_atomic(tmp_path / "notadir" / "sheet.html", "new")


def test_a_folder_is_not_a_target(tmp_path: Path, kinds: tuple[Question, ...]) -> None:
    with pytest.raises(FileWriteError, match="is a folder"):
        write_worksheet(tmp_path, kinds, WorksheetOptions(count=1))


def test_a_link_is_followed_and_kept(tmp_path: Path) -> None:
    real, link = tmp_path / "real.html", tmp_path / "link.html"
    real.write_text("old")
    link.symlink_to(real.name)
    write_atomic(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


def test_a_pipe_or_device_is_never_replaced(tmp_path: Path, kinds: tuple[Question, ...]) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for target in (pipe, Path(os.devnull)):
        with pytest.raises(FileWriteError, match="it is not a regular file"):
            write_worksheet(target, kinds, WorksheetOptions(count=1))
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)
    with pytest.raises(FileWriteError, match="File name too long"):
        write_worksheet(tmp_path / ("a" * 300), kinds, WorksheetOptions(count=1))


# ---------------------------------------------------------------------------------- CLI


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_the_command_writes_the_same_file_twice(tmp_path: Path) -> None:
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    for target in (first, second):
        code, out = run(
            "worksheet", "-o", str(target), "-n", "3", "--topic", "vanishing", "--seed", "4"
        )
        assert code == 0, out
        assert out == f"Wrote {target}\n"
    assert first.read_bytes() == second.read_bytes()
    assert "Version 4-1" in first.read_text()


def test_the_command_with_a_separate_key_and_a_bank(tmp_path: Path) -> None:
    bank = tmp_path / "kinds.yaml"
    bank.write_text(KINDS_BANK)
    target = tmp_path / "out.html"
    code, out = run(
        "worksheet", "-o", str(target), "--only-banks", "--bank", str(bank),
        "--versions", "2", "-n", "6", "--key", "separate", "--title", "Unit 3",
    )  # fmt: skip
    assert code == 0, out
    assert out.splitlines() == [f"Wrote {target}", f"Wrote {tmp_path / 'out-key.html'}"]
    assert "Unit 3" in target.read_text()


def test_a_key_file_linked_to_the_sheet_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "s.html"
    target.write_text("old")
    (tmp_path / "s-key.html").symlink_to(target)
    code, out = run("worksheet", "-o", str(target), "-n", "2", "--key", "separate")
    assert code == 1 and "are the same file: the key would overwrite the sheet" in out
    assert target.read_text() == "old"


COMMAND_ERRORS = [
    (["--topic", "nonexistent"], "unknown topic 'nonexistent'"),
    (["--versions", "500", "-n", "21"], "more than 10,000 questions in one file"),
    (["--version-id", "7-2", "--versions", "3"], "leave out --seed and --versions"),
    (["--version-id", "seven"], "'seven' is not a version id"),
    (["--key", "inline"], "Invalid value for '--key'"),
]


@pytest.mark.parametrize(("args", "message"), COMMAND_ERRORS)
def test_command_errors(tmp_path: Path, args: list[str], message: str) -> None:
    code, out = run("worksheet", "-o", str(tmp_path / "x.html"), *args)
    assert code != 0
    assert message in out
    assert not (tmp_path / "x.html").exists()
