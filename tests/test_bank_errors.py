"""A broken bank names file, line and question, with a message a teacher can act on."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tutor.bank import load_bank, parse_bank
from tutor.compiled import check_texts, compile_question
from tutor.errors import BankError
from tutor.strictyaml import TEMPLATE_ADVICE
from tutor.variant import make_variant

GOOD_QUESTION = """\
  - id: q1
    title: A question
    concepts: [C3]
    params:
      z: {float: [-2, 2], round: 1}
    simulate:
      act: {model: activation, name: sigmoid, z: z}
    prompt: What is the slope at {{ z }}?
    answer: act.derivative
    hints: [Use the rule.]
    explanation: It is {{ answer|num }}.
"""


def bank(questions: str, header: str = "topic: t\nquestions:\n") -> str:
    return header + textwrap.dedent(questions) if questions.startswith("-") else header + questions


def error_of(text: str) -> str:
    with pytest.raises(BankError) as info:
        parse_bank(text, "b.yaml")
    return str(info.value)


def test_the_good_question_loads() -> None:
    loaded = parse_bank(bank(GOOD_QUESTION), "b.yaml")
    assert [q.id for q in loaded.questions] == ["q1"]
    assert make_variant(loaded.questions[0], 1).parts[0].expected > 0


# (what is wrong, bank text, exact error)
STRUCTURE_CASES = [
    ("empty file", "", "b.yaml: the bank is empty; it needs 'topic' and 'questions'"),
    ("not a mapping", "- 1\n- 2\n", "b.yaml:1: a bank is a mapping with 'topic' and 'questions'"),
    ("bad YAML", "topic: [unclosed\n", "b.yaml:2: not valid YAML: did not find expected ',' or ']'"),
    ("duplicate key", "topic: a\ntopic: b\nquestions: []\n",
     "b.yaml:2: duplicate key 'topic' (first given on line 1)"),
    ("unknown bank key", "topic: t\nquestion: []\n",
     "b.yaml:2: unknown key 'question' (did you mean 'questions'?)"),
    ("missing questions", "topic: t\n", "b.yaml:1: missing required key 'questions'"),
    ("no questions", "topic: t\nquestions: []\n", "b.yaml:2: 'questions' needs at least 1 item(s)"),
    ("alias", "topic: &a t\ntitle: *a\nquestions: []\n",
     "b.yaml:1: anchors and aliases (&name, *name) are not supported"),
    ("python tag", "topic: !!python/object:os.system t\nquestions: []\n",
     "b.yaml:1: explicit tags such as 'tag:yaml.org,2002:python/object:os.system' are not supported"),
    ("bad topic", "topic: Big Topic\nquestions: []\n",
     "b.yaml:1: topic 'Big Topic': use lower-case letters, digits and '-'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "text", "message"), STRUCTURE_CASES, ids=[c[0] for c in STRUCTURE_CASES]
)
def test_broken_bank_structure(case: str, text: str, message: str) -> None:
    assert error_of(text) == message


def broken(old: str, new: str) -> str:
    """The good question with one line changed."""
    assert old in GOOD_QUESTION, old
    return bank(GOOD_QUESTION.replace(old, new))


QUESTION_CASES = [
    ("negative minutes", "    title: A question\n", "    title: A question\n    minutes: -5\n",
     "b.yaml:5: question 'q1': 'minutes' must be above 0 and at most 120, not -5"),
    ("unknown key", "    hints:", "    hint:",
     "b.yaml:12: question 'q1': unknown key 'hint' (did you mean 'hints'?)"),
    ("missing title", "    title: A question\n", "",
     "b.yaml:3: question 'q1': missing required key 'title'"),
    ("bad id", "id: q1", "id: Q 1", "b.yaml:3: question 'Q 1': id 'Q 1': use lower-case letters, digits and '-'"),
    ("an id too long", "id: q1", "id: " + "a" * 65, "b.yaml:3: question '" + "a" * 65 + "': id 'aaaaaaaaaaaaaaaaaaaa'...: at most 64 characters"),
    ("unknown concept", "[C3]", "[C99]", "b.yaml:5: question 'q1': unknown concept 'C99'; use C1 to C16"),
    ("difficulty as text", "    concepts: [C3]\n", "    concepts: [C3]\n    difficulty: hard\n",
     "b.yaml:6: question 'q1': 'difficulty' must be a whole number, not text ('hard')"),
    ("difficulty too high", "    concepts: [C3]\n", "    concepts: [C3]\n    difficulty: 4\n",
     "b.yaml:6: question 'q1': 'difficulty' must be between 1 and 3, not 4"),
    ("empty range", "[-2, 2]", "[2, -2]", "b.yaml:7: question 'q1': the range [2, -2] is empty"),
    ("range of text", "[-2, 2]", "[low, 2]", "b.yaml:7: question 'q1': item 1 must be a number, not text ('low')"),
    ("yes is not a number", "[-2, 2]", "[yes, 2]", "b.yaml:7: question 'q1': item 1 must be a number, not text ('yes')"),
    ("two kinds", "{float: [-2, 2], round: 1}", "{float: [-2, 2], int: [1, 2]}",
     "b.yaml:7: question 'q1': parameter 'z' needs exactly one of int, float, choice, expr"),
    ("step and round", "round: 1}", "round: 1, step: 0.5}", "b.yaml:7: question 'q1': use only one of step, round and sig"),
    ("log below zero", "round: 1}", "log: true}", "b.yaml:7: question 'q1': a log-uniform range must be above zero"),
    ("bad tolerance kind", "    hints:", "    tolerance: {percent: 1}\n    hints:",
     "b.yaml:12: question 'q1': unknown key 'percent'"),
    ("zero relative tolerance", "    hints:", "    tolerance: {relative: 0}\n    hints:",
     "b.yaml:12: question 'q1': a relative tolerance of 0 is not usable (between 0 and 1, e.g. 0.01 for 1%)"),
    ("fractional sigfigs", "    hints:", "    tolerance: {sigfigs: 2.5}\n    hints:",
     "b.yaml:12: question 'q1': a sigfigs tolerance of 2.5 is not usable (a whole number from 1 to 15)"),
    ("whole relative tolerance", "    hints:", "    tolerance: {relative: 1}\n    hints:",
     "b.yaml:12: question 'q1': a relative tolerance of 1 is not usable (between 0 and 1, e.g. 0.01 for 1%)"),
    ("no hints", "    hints: [Use the rule.]\n", "",
     "b.yaml:3: question 'q1': every question part needs at least one hint"),
    ("no answer", "    answer: act.derivative\n", "",
     "b.yaml:3: question 'q1': a numeric question needs an 'answer'"),
    ("mistake without feedback", "    hints:", "    mistakes:\n      slip: {answer: act.value}\n    hints:",
     "b.yaml:13: question 'q1': missing required key 'feedback'"),
    ("bad mistake name", "    hints:", "    mistakes:\n      Slip Up: {answer: '1', feedback: x}\n    hints:",
     "b.yaml:13: question 'q1': mistake name 'Slip Up': use lower-case letters, digits and '-'"),
    ("reserved name", "      z: {float", "      answer: {float", "b.yaml:7: question 'q1': 'answer' is a name every text already has: choose another"),
    ("a constant's name", "      z: {float", "      e: {float", "b.yaml:7: question 'q1': 'e' is a constant, function or word of formulas: choose another name"),
    ("a function's name", "      z: {float", "      sqrt: {float", "b.yaml:7: question 'q1': 'sqrt' is a constant, function or word of formulas: choose another name"),
    ("a 5000-digit number", "    concepts: [C3]\n", "    concepts: [C3]\n    difficulty: " + "9" * 5000 + "\n",
     "b.yaml:6: question 'q1': 'difficulty' must be a whole number, not a number (inf)"),
    ("an int too big for a float", "[-2, 2]", "[-2, 1" + "0" * 400 + "]",
     "b.yaml:7: question 'q1': item 2 must be a finite number"),
    ("a step too fine", "round: 1}", "step: 1e-300}",
     "b.yaml:7: question 'q1': 'step' divides the range into more than 1,000,000,000 steps"),
    ("a control character in a title", "title: A question", "title: \"A \\u202equestion\"",
     "b.yaml:4: question 'q1': 'title' must be one line of printable text"),
    ("a blank prompt", "    prompt: What is the slope at {{ z }}?", "    prompt: '  '",
     "b.yaml:10: question 'q1': 'prompt' is blank"),
    ("a blank hint", "[Use the rule.]", "[Use the rule., '']",
     "b.yaml:12: question 'q1': item 2 of 'hints' is blank"),
    ("a blank mistake feedback", "    hints:", "    mistakes:\n      slip: {answer: act.value, feedback: ' '}\n    hints:",
     "b.yaml:13: question 'q1': 'feedback' is blank"),
    ("an unquoted template at a value's start", "What is the slope at {{ z }}?", "{{ z }} is where? Give the slope.",
     "b.yaml:10: " + TEMPLATE_ADVICE),
    ("an unquoted template alone", "What is the slope at {{ z }}?", "{{ z }}",
     "b.yaml:10: " + TEMPLATE_ADVICE),
    ("an unquoted template tag in a hint", "[Use the rule.]", "\n      - {% if z > 0 %}Positive.{% endif %}",
     "b.yaml:13: " + TEMPLATE_ADVICE),
    ("a block text's line that begins with a template is no cause", "    prompt: What is the slope at {{ z }}?\n",
     "    prompt: |\n      {{ z }} is where.\n   title: misplaced\n",
     "b.yaml:12: not valid YAML: did not find expected '-' indicator"),
    ("a block text's list item that begins with a template is no cause", "    prompt: What is the slope at {{ z }}?\n",
     "    prompt: |\n      - {{ z }} is where.\n      key: {{ z }}\n   title: misplaced\n",
     "b.yaml:13: not valid YAML: did not find expected '-' indicator"),
    ("a tab in the indentation", "    title: A question\n", "    title: A question\n\t   difficulty: 1\n",
     "b.yaml:5: indent with spaces: YAML does not allow tabs"),
    ("a control character after other non-ASCII text", "title: A question", "title: σ′ × — \x01",
     "b.yaml:4: character U+0001 (column 19) is not allowed in YAML; remove it"),
    ("a control character", "title: A question", "title: A \x01question",
     "b.yaml:4: character U+0001 (column 14) is not allowed in YAML; remove it"),
    ("27 mistakes", "    hints:", "    mistakes:\n" + "".join(f"      m{i}: {{answer: '{i}', feedback: x}}\n" for i in range(27)) + "    hints:",
     "b.yaml:12: question 'q1': a part names at most 26 mistakes"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "old", "new", "message"), QUESTION_CASES, ids=[c[0] for c in QUESTION_CASES]
)
def test_broken_question(case: str, old: str, new: str, message: str) -> None:
    assert error_of(broken(old, new)) == message


# Problems only visible once formulas and texts are compiled (tutor check, or first use).
COMPILE_CASES = [
    ("unknown name in answer", "answer: act.derivative", "answer: act.derivative * zz",
     "b.yaml:11: question 'q1': answer: unknown name 'zz' (did you mean 'z'?) in 'act.derivative * zz'"),
    ("formula syntax", "answer: act.derivative", "answer: act.derivative *",
     "b.yaml:11: question 'q1': answer: missing a value after '*' at position 16 in 'act.derivative *'"),
    ("unknown model", "model: activation", "model: activations",
     "b.yaml:9: question 'q1': unknown model 'activations' (did you mean 'activation'?)"),
    ("unknown model argument", "name: sigmoid, z: z", "name: sigmoid, zz: z",
     "b.yaml:9: question 'q1': model 'activation' has no argument 'zz' (did you mean 'z'?)"),
    ("misspelt option", "name: sigmoid", "name: sigmiod",
     "b.yaml:9: question 'q1': model 'activation', argument 'name': 'sigmiod' is not one of "
     "sigmoid, tanh, relu, leaky_relu, elu, gelu, softplus, linear, nor a name defined before this simulation (did you mean 'sigmoid'?)"),
    ("misspelt name for an option", "name: sigmoid", "name: zz",
     "b.yaml:9: question 'q1': model 'activation', argument 'name': 'zz' is not one of "
     "sigmoid, tanh, relu, leaky_relu, elu, gelu, softplus, linear, nor a name defined before this simulation (did you mean 'z'?)"),
    ("missing model argument", "name: sigmoid, z: z", "name: sigmoid",
     "b.yaml:9: question 'q1': model 'activation' needs the argument 'z'"),
    ("unknown name in a text", "{{ z }}?", "{{ zed }}?",
     "b.yaml:10: question 'q1': text uses the unknown name 'zed'"),
    ("template syntax", "{{ z }}?", "{{ z }?",
     "b.yaml:10: question 'q1': text does not parse: unexpected '}' (line 1 of the text)"),
    ("code in a text", "{{ z }}?", "{{ z.__class__.__mro__ }}{{ cycler() }}?",
     "b.yaml:10: question 'q1': texts cannot use call"),
    ("power in a text", "{{ z }}?", "{{ 9 ** 9 }}?",
     "b.yaml:10: question 'q1': texts cannot use '**' (compute powers in 'values')"),
    ("include in a text", "{{ z }}?", "{% include '/etc/passwd' %}",
     "b.yaml:10: question 'q1': texts cannot use include"),
    ("a filter outside the sandbox's", "{{ z }}?", "{{ z|safe }}?",
     "b.yaml:10: question 'q1': text does not parse: No filter named 'safe'. (line 1 of the text)"),
    ("a text nested too deeply", "{{ z }}?", "{{ " + "(" * 70 + "z" + ")" * 70 + " }}?",
     "b.yaml:10: question 'q1': text nested too deeply"),
    ("a chain of filters too long to check", "{{ z }}?", "{{ z" + "|abs" * 1000 + " }}?",
     "b.yaml:10: question 'q1': text nested too deeply"),
    ("a number too large for a float", "{{ z }}?", "{{ z * 1e400 }}{% if z < -1e999 %}{% endif %}",
     "b.yaml:10: question 'q1': a number in the text is too large for a float (at most about 1.8e308)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "old", "new", "message"), COMPILE_CASES, ids=[c[0] for c in COMPILE_CASES]
)
def test_broken_formula_or_text(case: str, old: str, new: str, message: str) -> None:
    question = parse_bank(broken(old, new), "b.yaml").questions[0]
    with pytest.raises(BankError) as info:
        compile_question(question)
        check_texts(question)
    assert str(info.value) == message


def test_a_forbidden_text_is_refused_when_rendered_even_without_a_check() -> None:
    from tutor.present import PartView

    question = parse_bank(broken("{{ z }}?", "{% include '/etc/passwd' %}"), "b.yaml").questions[0]
    view = PartView(make_variant(question, 0), 0, "terminal")
    with pytest.raises(BankError, match="texts cannot use include"):
        _ = view.prompt


def test_a_text_too_deep_to_compile_is_refused_when_rendered() -> None:
    from tutor.present import PartView

    deep = "{% if z %}" * 100 + "x" + "{% endif %}" * 100  # parses, but Python cannot compile it
    question = parse_bank(broken("{{ z }}?", deep), "b.yaml").questions[0]
    view = PartView(make_variant(question, 0), 0, "terminal")
    with pytest.raises(BankError, match=r"b\.yaml:3: question 'q1': text nested too deeply"):
        _ = view.prompt


def test_a_model_argument_out_of_range_is_located() -> None:
    text = broken(
        "model: activation, name: sigmoid, z: z", "model: chain, depth: 5000, activation: sigmoid"
    )
    question = parse_bank(text.replace("act.derivative", "act.grad"), "b.yaml").questions[0]
    with pytest.raises(
        BankError,
        match=r"b.yaml:9: question 'q1': model 'chain', argument 'depth': 5000 is outside \[1, 1000\]",
    ):
        make_variant(question, 0)


def test_an_impossible_require_rule_is_reported() -> None:
    text = broken("    prompt:", "    require: ['z > 5']\n    prompt:")
    question = parse_bank(text, "b.yaml").questions[0]
    with pytest.raises(
        BankError,
        match=r"b\.yaml:10: question 'q1': no valid variant in 100 draws: the rule 'z > 5' is never met",
    ):
        make_variant(question, 3)


# Problems a variant's own numbers cause, each located at the line of the field at fault.
DRAW_CASES = [
    ("answer", "    answer: act.derivative", "    answer: act.derivative / (z - z)",
     "b.yaml:11: question 'q1': division by zero in 'act.derivative / (z - z)'"),
    ("named value", "    answer: act.derivative", "    values:\n      slope: 1 / (z - z)\n    answer: slope",
     "b.yaml:12: question 'q1': division by zero in '1 / (z - z)'"),
    ("mistake", "    hints:", "    mistakes:\n      slip:\n        answer: 1 / (z - z)\n        feedback: x\n    hints:",
     "b.yaml:14: question 'q1': division by zero in '1 / (z - z)'"),
    ("second require rule", "    prompt:", "    require:\n      - 'z > -5'\n      - 'z > 5'\n    prompt:",
     "b.yaml:12: question 'q1': no valid variant in 100 draws: the rule 'z > 5' is never met"),
    ("mistake equal to the answer", "    hints:", "    mistakes:\n      same:\n        answer: act.derivative\n        feedback: x\n    hints:",
     "b.yaml:14: question 'q1': no valid variant in 100 draws: mistake 'same' always grades the same as the answer"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "old", "new", "message"), DRAW_CASES, ids=[c[0] for c in DRAW_CASES]
)
def test_a_failing_formula_is_located_at_its_field(
    case: str, old: str, new: str, message: str
) -> None:
    question = parse_bank(broken(old, new), "b.yaml").questions[0]
    with pytest.raises(BankError) as info:
        make_variant(question, 0)
    assert str(info.value).startswith(message)


def test_a_failing_option_is_located_at_the_option() -> None:
    options = """\
  - id: q1
    title: A question
    concepts: [C3]
    type: choice
    params:
      z: {float: [-2, 2], round: 1}
    prompt: Which?
    options:
      - {text: Big, correct: "z > 0"}
      - {text: Small, correct: "1 / (z - z) > 0"}
    hints: [Look.]
    explanation: It is so.
"""
    question = parse_bank(bank(options), "b.yaml").questions[0]
    with pytest.raises(
        BankError, match=r"b\.yaml:12: question 'q1': division by zero in '1 / \(z - z\) > 0'"
    ):
        make_variant(question, 0)


def test_a_control_character_after_a_byte_order_mark_is_at_column_1() -> None:
    assert error_of("\ufeff\x01topic: t\n") == (
        "b.yaml:1: character U+0001 (column 1) is not allowed in YAML; remove it"
    )


def test_lines_ending_in_a_carriage_return_alone_are_lines_too() -> None:
    text = "topic: t\rquestions:\r  - id: q1\r    prompt: {{ z }} is where\r    title: x\r"
    assert error_of(text) == "b.yaml:4: " + TEMPLATE_ADVICE


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"topic: t\n\xff\xfe")
    with pytest.raises(BankError, match=r"binary.yaml:2: not UTF-8 text \(byte 9 of the file\)"):
        load_bank(binary)
    with pytest.raises(BankError, match="cannot read the file"):
        load_bank(tmp_path / "missing.yaml")


def test_size_and_nesting_are_capped() -> None:
    deep = "topic: t\nquestions:\n" + "".join("  " * i + "- \n" for i in range(1, 40))
    assert "nested more than 24 levels deep" in error_of(deep)
    # Deep enough to overflow the YAML parser's own stack, were it not counted first.
    flow = "topic: t\nquestions:\n  - " + "[" * 60_000 + "]" * 60_000 + "\n"
    assert error_of(flow) == "b.yaml:3: nested more than 24 levels deep"
    compact = "topic: t\nquestions:\n" + "- " * 50_000 + "a\n"  # crashed the parser (C stack)
    assert error_of(compact) == "b.yaml:3: nested more than 24 levels deep"
    indented = "topic: t\nquestions:\n" + "".join(" " * i + f"k{i}:\n" for i in range(0, 2100, 3))
    assert error_of(indented).endswith("nested more than 24 levels deep")
    huge = "topic: t\nquestions:\n" + "  - id: x\n" * 120_000
    assert error_of(huge) == "b.yaml: file is larger than 1000 kB"


def test_a_file_too_large_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    sparse = tmp_path / "huge.yaml"
    with sparse.open("wb") as handle:
        handle.truncate(4 * 10**9)  # 4 GB of holes: reading it whole would take as much memory
    for path in (sparse, Path("/dev/zero")):
        with pytest.raises(BankError, match="file is larger than 1000 kB"):
            load_bank(path)


def test_numbers_are_read_as_people_write_them() -> None:
    text = broken("{float: [-2, 2], round: 1}", "{float: [-1e-1, 1E1]}")
    spec = parse_bank(text, "b.yaml").questions[0].params[0]
    assert (spec.low, spec.high) == (-0.1, 10.0)


def test_duplicate_question_ids() -> None:
    text = bank(GOOD_QUESTION + GOOD_QUESTION.replace("title: A question", "title: Another"))
    assert error_of(text) == "b.yaml:14: duplicate question id 'q1'"


def test_a_right_option_that_names_a_mistake_reports_no_mistake() -> None:
    from tutor.grading import grade_text
    from tutor.present import LETTERS

    text = bank("""\
  - id: pick
    title: Pick
    concepts: [C14]
    type: choice
    params:
      k: {choice: [1, 2]}
    prompt: Which?
    options:
      - {text: One, correct: "k == 1", mistake: said-one, feedback: Not one.}
      - {text: Two, correct: "k == 2", mistake: said-two, feedback: Not two.}
    hints: [Look.]
    explanation: It is {{ k }}.
""")
    question = parse_bank(text, "b.yaml").questions[0]
    for seed in range(6):
        variant = make_variant(question, seed)
        right = next(i for i, c in enumerate(variant.parts[0].choices) if c.correct)
        verdict = grade_text(variant, 0, LETTERS[right])
        assert verdict.correct and verdict.mistake is None
        wrong = grade_text(variant, 0, LETTERS[1 - right])
        assert not wrong.correct and wrong.mistake in ("said-one", "said-two")


def test_a_chart_needs_one_label_per_value() -> None:
    from tutor.present import PartView

    chart = "    chart: {title: Bars, values: '[1, 2, 3]', labels: \"['a']\"}\n    hints:"
    question = parse_bank(broken("    hints:", chart), "b.yaml").questions[0]
    view = PartView(make_variant(question, 0), 0, "html")
    with pytest.raises(BankError, match="chart 'Bars': 1 labels for 3 values"):
        view.charts("explanation")


def test_batch_norm_of_equal_values_needs_a_positive_eps() -> None:
    model = "model: batch_norm, z: [1, 1], gamma: 1, beta: 0, eps: 0"
    text = broken("model: activation, name: sigmoid, z: z", model)
    question = parse_bank(text.replace("act.derivative", "act.out[0]"), "b.yaml").questions[0]
    with pytest.raises(BankError, match="a batch of equal values has variance 0: it needs eps > 0"):
        make_variant(question, 0)


def test_one_significant_figure_is_a_usable_tolerance() -> None:
    text = broken("    hints:", "    tolerance: {sigfigs: 1}\n    hints:")
    (question,) = parse_bank(text, "b.yaml").questions
    assert question.parts[0].tolerance.describe() == "to 1 significant figure"


def test_a_question_runs_at_most_eight_simulations_per_table() -> None:
    many = "".join(f"      r{i}: {{model: activation, name: sigmoid, z: z}}\n" for i in range(9))
    text = broken("      act: {model: activation, name: sigmoid, z: z}\n", many)
    assert error_of(text) == "b.yaml:8: question 'q1': at most 8 simulations, not 9"


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("answer: z > 0", "answer must be a number, not true or false"),
        ("answer: '[z, z]'", "answer must be a number, not a list"),
    ],
)
def test_an_answer_of_the_wrong_kind_is_described_as_written(new: str, message: str) -> None:
    question = parse_bank(broken("answer: act.derivative", new), "b.yaml").questions[0]
    with pytest.raises(BankError, match=message):
        make_variant(question, 0)


def test_a_misspelt_result_in_a_text_is_named_with_a_suggestion() -> None:
    from tutor.present import PartView

    question = parse_bank(broken("{{ z }}?", "{{ act.derivativ }}?"), "b.yaml").questions[0]
    view = PartView(make_variant(question, 0), 0, "terminal")
    with pytest.raises(
        BankError, match=r"the results have no field 'derivativ' \(did you mean 'derivative'\?\)"
    ):
        _ = view.prompt
