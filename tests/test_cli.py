"""The commands end to end: through click's CliRunner and as the installed program."""

from __future__ import annotations

import gc
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tutor.catalog import data_dir
from tutor.cli import main

runner = CliRunner()
GOOD_BANK = """\
topic: my-topic
questions:
  - id: my-question
    title: Double it
    concepts: [C1]
    params:
      x: {int: [2, 9]}
    prompt: What is twice {{ x }}?
    answer: 2 * x
    tolerance: exact
    hints: [Add it to itself.]
    explanation: Twice {{ x }} is {{ answer }}.
    mistakes:
      halved: {answer: x / 2, feedback: That is half of it.}
"""


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(main, list(args), input=stdin)
    return result.exit_code, result.output


def test_help_lists_every_command() -> None:
    code, out = run("--help")
    assert code == 0
    for command in ("quiz", "list", "explain", "grade", "check"):
        assert command in out


def test_list_json_reports_each_question() -> None:
    code, out = run("list", "--json")
    data = json.loads(out)
    assert code == 0
    chain = next(q for q in data["questions"] if q["id"] == "sigmoid-chain-gradient")
    assert chain["concepts"] == ["C2", "C4"]
    assert chain["topic"] == "vanishing"
    assert "n-minus-one" in chain["mistakes"]


def test_list_text() -> None:
    code, out = run("list")
    assert code == 0
    assert "sigmoid-chain-gradient" in out
    assert "topics: " in out


def test_explain_json_names_the_variant() -> None:
    code, out = run("explain", "sigmoid-chain-gradient", "--seed", "12", "--json")
    data = json.loads(out)
    assert code == 0
    assert {"id", "seed", "params", "answer", "tolerance", "prompt"} <= set(data)
    assert data["params"] == {"n": 16}
    assert data["answer"] == pytest.approx(0.25**16)
    assert data["tolerance"]["kind"] == "relative"
    assert "\n" not in data["prompt"]  # one paragraph: JSON text is not wrapped for a terminal


def test_explain_text() -> None:
    code, out = run("explain", "sigmoid-chain-gradient", "--seed", "12")
    assert code == 0
    assert "Answer: 2.328 × 10⁻¹⁰" in out


@pytest.mark.parametrize(
    ("answer", "correct", "mistake", "format_error"),
    [
        ("0.25^16", True, None, None),
        ("2.3283e-10", True, None, None),
        ("0.25^15", False, "n-minus-one", None),
        ("0.5^16", False, "sigma-not-derivative", None),
        ("0", False, None, None),
        ("about 1e-10", False, None, "'about' is not allowed"),
    ],
)
def test_grade_json(
    answer: str, correct: bool, mistake: str | None, format_error: str | None
) -> None:
    code, out = run("grade", "sigmoid-chain-gradient", "--seed", "12", answer, "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["correct"], data["mistake"]) == (correct, mistake)
    assert data["score"] == (1.0 if correct else 0.0)
    if format_error:
        assert data["format_error"].startswith(format_error)
    else:
        assert data["format_error"] is None
    assert bool(data["feedback"]) == (mistake is not None)
    assert data["expected_value"] == 0.25**16  # the number, beside the printed "2.328 × 10⁻¹⁰"


def test_grade_takes_a_negative_answer_as_typed() -> None:
    assert run("grade", "chain-weight-gradient@682554", "-0.01048") == (0, "correct\n")
    code, out = run("grade", "chain-weight-gradient@682554", "-0.01048", "--json")
    assert (code, json.loads(out)["value"]) == (0, -0.01048)


def test_grade_text_output() -> None:
    assert run("grade", "sigmoid-chain-gradient", "--seed", "12", "0.25^16") == (0, "correct\n")
    _, out = run("grade", "sigmoid-chain-gradient", "--seed", "12", "0.25^15")
    assert out.startswith("incorrect\nThat is 0.25¹⁵.")


def test_quiz_replays_one_variant_from_piped_answers() -> None:
    code, out = run(
        "quiz", "--question", "sigmoid-chain-gradient", "--seed", "12", stdin="0.25^16\n"
    )
    assert code == 0
    assert "Question 1 of 1" in out
    assert "✓ Correct." in out
    assert "Score: 1 / 1 (100%)" in out


def test_quiz_by_topic_and_count() -> None:
    code, out = run("quiz", "--topic", "vanishing", "-n", "2", "--seed", "3", stdin="")
    assert code == 0
    assert "Quiz seed 3 (replay with: tutor quiz --seed 3 -n 2 --topic vanishing)" in out
    assert "Question 1 of 2  ·  vanishing" in out
    assert "Quiz ended early." in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("explain", "no-such-question", "--seed", "1"), "Error: no question with id 'no-such-question'"),
        (("explain", "sigmoid-chain-gradien", "--seed", "1"),
         "Error: no question with id 'sigmoid-chain-gradien' (did you mean sigmoid-chain-gradient"),
        (("quiz", "--topic", "nope"), "Error: unknown topic 'nope'; topics: "),
        (("quiz", "--bank", "missing.yaml"), "Error: missing.yaml: no such bank file or folder"),
        (("grade", "sigmoid-chain-gradient", "1", "--seed", "1", "--part", "2"),
         "Error: sigmoid-chain-gradient has 1 part(s); --part 2 is too big"),
        (("quiz", "-n", "0"), "Error: Invalid value for '-n'"),
        (("quiz", "--question", "sigmoid-chain-gradient", "--topic", "clipping", "-n", "3"),
         "Error: --question asks one question; leave out --topic, -n"),
        (("quiz", "--question", " "), "Error: Invalid value for --question: needs a question id"),
        (("explain", ""), "Error: Invalid value: '' names no question (see tutor list)."),
        (("quiz", "--db", ""), "Error: Invalid value for '--db': needs a path, not an empty name."),
        (("list", "--bank", ""), "Error: Invalid value for '--bank': needs a path"),
        (("worksheet", "-o", ""), "Error: Invalid value for '-o' / '--output': needs a path"),
        (("import", ""), "Error: Invalid value for 'FILE': needs a path"),
        (("check", "--only-banks"), "Error: --only-banks is for the banks you give: add a PATH"),
    ],
)  # fmt: skip
def test_user_errors_are_one_line_without_a_traceback(args: tuple[str, ...], message: str) -> None:
    code, out = run(*args)
    assert code != 0
    assert message in out
    assert "Traceback" not in out


def test_a_quiz_says_when_fewer_questions_match_than_asked_for() -> None:
    _, out = run("quiz", "--topic", "precision", "--difficulty", "3", "--no-record", stdin="")
    assert "These options match only 2 questions." in out


def test_a_broken_text_in_a_bank_is_reported_before_the_question_is_asked(tmp_path: Path) -> None:
    bank = tmp_path / "broken.yaml"
    bank.write_text(GOOD_BANK.replace("is {{ answer }}.", "is {{ answer|num ."))
    for args in (("quiz", "--no-record"), ("explain", "my-question@3")):
        code, out = run(*args, "--bank", str(bank), "--only-banks", stdin="6\n")
        assert code == 1
        assert f"Error: {bank}:12: question 'my-question': text does not parse" in out
        assert "twice" not in out  # the prompt was never shown


def test_a_hint_that_cannot_render_is_reported_before_the_question_is_asked(
    tmp_path: Path,
) -> None:
    bank = tmp_path / "late.yaml"
    bank.write_text(GOOD_BANK.replace("hints: [Add it to itself.]", "hints: ['Add {{ x.nope }}.']"))
    code, out = run("quiz", "--bank", str(bank), "--only-banks", "--no-record", stdin="1\n")
    assert code == 1
    assert f"Error: {bank}:" in out and "text does not render" in out
    assert "twice" not in out  # the prompt was never shown


def test_a_missed_question_of_ones_own_bank_is_tried_again_with_that_bank(
    tmp_path: Path,
) -> None:
    bank = tmp_path / "mine.yaml"
    bank.write_text(GOOD_BANK)
    _, out = run("quiz", "--bank", str(bank), "--only-banks", "--no-record", "--seed", "4",
                 stdin="1\n1\n1\n")  # fmt: skip
    again = "try again: tutor quiz --question my-question --seed "
    line = next(line for line in out.splitlines() if again in line)
    assert line.endswith(f" --bank {bank} --only-banks")
    code, replayed = run(*line.split("tutor ", 1)[1].split(), "--no-record", stdin="")
    assert code == 0 and "Double it" in replayed


def test_command_summaries_are_whole_sentences() -> None:
    _, out = run("--help")
    commands = out.split("Commands:")[1].strip().splitlines()
    assert len(commands) == 10
    assert all(
        line.rstrip().endswith(".") and not line.rstrip().endswith("...") for line in commands
    )


def test_a_teachers_bank_is_added_or_used_alone(tmp_path: Path) -> None:
    bank = tmp_path / "mine.yaml"
    bank.write_text(GOOD_BANK)
    _, out = run("list", "--json", "--bank", str(bank))
    ids = [q["id"] for q in json.loads(out)["questions"]]
    assert "my-question" in ids and "sigmoid-chain-gradient" in ids
    _, out = run("list", "--json", "--bank", str(tmp_path), "--only-banks")
    assert [q["id"] for q in json.loads(out)["questions"]] == ["my-question"]
    _, out = run("grade", "my-question", "--seed", "5", "3", "--bank", str(bank), "--json")
    assert json.loads(out)["correct"] is False


def test_check_passes_on_the_bundled_banks() -> None:
    code, out = run("check", "--seeds", "20")
    assert code == 0, out
    assert out.strip().endswith("no problems.")


def test_check_lists_every_problem_with_its_location(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD_BANK.replace("answer: 2 * x", "answer: 2 * xx"))
    (tmp_path / "b.yaml").write_text(GOOD_BANK.replace("id: my-question", "id: other")
                                     .replace("x / 2", "x * 2"))  # fmt: skip
    (tmp_path / "c.yaml").write_text("topic: t\nquestions: [\n")
    code, out = run("check", str(tmp_path), "--seeds", "5")
    assert code == 1
    lines = out.strip().splitlines()
    assert f"{tmp_path / 'a.yaml'}:9: question 'my-question': answer: unknown name 'xx'" in out
    assert (
        f"{tmp_path / 'b.yaml'}:14: question 'other': no valid variant in 100 draws: "
        "mistake 'halved' always grades the same as the answer (seed 0)"
    ) in out
    assert f"{tmp_path / 'c.yaml'}:3: not valid YAML" in out
    assert lines[-1].endswith("3 problem(s).")


def test_check_finds_options_a_learner_cannot_tell_apart(tmp_path: Path) -> None:
    choice = GOOD_BANK.replace("    answer: 2 * x\n    tolerance: exact\n", "    type: choice\n")
    choice = choice.split("    mistakes:")[0] + (
        "    options:\n"
        "      - {text: '{{ x }}', correct: true}\n"
        "      - {text: '{{ x + 0 }}'}\n"
        "      - {text: '{% if x > 99 %}never{% endif %}'}\n"
    )
    (tmp_path / "same.yaml").write_text(choice)
    code, out = run("check", str(tmp_path / "same.yaml"), "--only-banks", "--seeds", "1")
    assert code == 1
    assert "question 'my-question': an option shows no text (seed 0)" in out
    assert "question 'my-question': two options show the same text" in out


def test_check_finds_ids_the_bundled_banks_already_use(tmp_path: Path) -> None:
    bank = tmp_path / "mine.yaml"
    bank.write_text(GOOD_BANK.replace("id: my-question", "id: sigmoid-chain-gradient"))
    code, out = run("check", str(bank), "--seeds", "5")
    assert code == 1
    assert (
        f"{bank}:3: question 'sigmoid-chain-gradient': question id already used by the bundled"
        in out
    )
    assert "vanishing.yaml:8; rename it, or give this bank only with --only-banks" in out
    assert run("check", str(bank), "--seeds", "5", "--only-banks")[0] == 0


@pytest.mark.parametrize("command", ["explain", "grade"])
def test_a_variant_id_names_the_variant(command: str) -> None:
    answer = ["0.25^16"] if command == "grade" else []
    by_id = run(command, "sigmoid-chain-gradient@12", *answer, "--json")
    by_seed = run(command, "sigmoid-chain-gradient", "--seed", "12", *answer, "--json")
    assert by_id == by_seed
    assert json.loads(by_id[1])["seed"] == 12
    code, out = run(command, "sigmoid-chain-gradient@12", *answer, "--seed", "13")
    assert code == 2
    assert "sigmoid-chain-gradient@12 names seed 12, but --seed is 13" in out
    code, out = run(command, "sigmoid-chain-gradient", *answer)
    assert code == 2
    assert "give --seed, or a variant id such as sigmoid-chain-gradient@42" in out
    assert "is not a variant id" in run(command, "sigmoid-chain-gradient@1e3", *answer)[1]


def installed_tutor() -> str:
    found = shutil.which("tutor", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("the tutor command is not installed next to this Python")
    return found


def test_the_installed_command_from_another_directory(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [installed_tutor(), "quiz", "--question", "tanh-derivative", "--seed", "2"],
        input="1\n", capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Question 1 of 1" in result.stdout
    assert "Summary" in result.stdout
    assert result.stderr == ""


def test_python_dash_m(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tutor", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "Usage: python -m tutor" in result.stdout or "Usage: tutor" in result.stdout


def test_a_closed_stdout_is_not_a_traceback(tmp_path: Path) -> None:
    """`tutor list | head -1` must not print a BrokenPipeError."""
    shell = f"{installed_tutor()} list | head -1"
    result = subprocess.run(
        shell, shell=True, capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("closed", ["<&-", ">&-"])
def test_a_closed_standard_stream_is_the_end_of_input(tmp_path: Path, closed: str) -> None:
    """`tutor quiz <&-`: Python's sys.stdin is None; the quiz ends as on end of input."""
    env = {**os.environ, "NO_COLOR": "1", "TUTOR_DB": str(tmp_path / "p.sqlite3")}
    shell = f"{installed_tutor()} quiz -n 1 --seed 3 {closed}"
    result = subprocess.run(
        shell, shell=True, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    if closed == "<&-":
        assert "Quiz ended early." in result.stdout


# The installed command pauses cycle collection for start-up (tutor.__main__.run); every
# command must resume it before its real work, and leave collection alone where it was on.
RESUMING = [
    ["list"],
    ["explain", "sigmoid-derivative", "--seed", "1"],
    ["check", "--seeds", "1", "--jobs", "1", str(data_dir("questions") / "activations.yaml")],
    ["simulate", "--depth", "3", "--width", "4", "--activation", "tanh", "--init", "he-normal"],
    ["stats", "--export", "{tmp}/exported.json"],
    ["import", "{tmp}/progress.json"],
]


@pytest.mark.parametrize("args", RESUMING, ids=lambda args: args[0])
def test_every_command_resumes_the_cycle_collection_start_up_paused(
    args: list[str], tmp_path: Path
) -> None:
    args = [arg.format(tmp=tmp_path) for arg in args]
    env = {"TUTOR_DB": str(tmp_path / "progress.sqlite3")}
    answered = ["quiz", "--question", "sigmoid-derivative", "--seed", "1"]
    assert runner.invoke(main, answered, input="0.25\n", env=env).exit_code == 0
    export = ["stats", "--export", str(tmp_path / "progress.json")]
    assert runner.invoke(main, export, env=env).exit_code == 0
    gc.disable()
    try:
        result = runner.invoke(main, args, env=env)
        resumed, froze = gc.isenabled(), gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
    assert result.exit_code == 0, result.output
    assert resumed and froze

    result = runner.invoke(main, args, env=env)  # collection was on: left alone, nothing frozen
    assert result.exit_code == 0, result.output
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_scalar_chain_question_is_asked_and_graded_without_numpy() -> None:
    """Start-up pays only for what the question uses: this one runs in Python floats."""
    script = (
        "import sys\n"
        "from tutor.cli import main\n"
        "main(sys.argv[1:], standalone_mode=False)\n"
        "print('numpy loaded:', 'numpy' in sys.modules)\n"
    )
    args = ["quiz", "--question", "sigmoid-chain-gradient@12", "--no-record"]
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        input="0.25^16\n", capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Correct" in done.stdout
    assert "numpy loaded: False" in done.stdout


@pytest.mark.parametrize("command", [["quiz", "--question", "sigmoid-chain-gradient@12"], ["practice"]])  # fmt: skip
def test_ctrl_c_at_a_question_prints_the_summary_and_exits_130(
    command: list[str], tmp_path: Path
) -> None:
    env = {**os.environ, "TUTOR_DB": str(tmp_path / "progress.sqlite3"), "NO_COLOR": "1"}
    shown = _until_asked([sys.executable, "-m", "tutor", *command], env, signal.SIGINT)
    assert shown.returncode == 130, shown.stdout
    assert "ended early." in shown.stdout
    assert "Traceback" not in shown.stdout + shown.stderr


def _until_asked(
    command: list[str], env: dict[str, str], sig: signal.Signals
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` until it asks for an answer, then send it ``sig``."""
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdout is not None and process.stderr is not None
    seen = b""
    deadline = time.monotonic() + 60
    while b"Your answer" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 1.0)
        if ready:
            seen += os.read(process.stdout.fileno(), 4096)
    process.send_signal(sig)
    rest, errors = process.communicate(timeout=60)
    return subprocess.CompletedProcess(
        command, process.returncode, (seen + rest).decode(), errors.decode()
    )


def test_messages_quoting_banks_or_answers_reach_the_terminal_without_control_characters(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "banks"
    folder.mkdir()
    (folder / "y\x1b[2J\u202e.yaml").write_text("topic: t\nquestions: 3\n", encoding="utf-8")
    code, out = run("list", "--bank", str(folder))
    assert code == 1 and "y[2J.yaml" in out
    code, out = run("grade", "sigmoid-chain-gradient@12", "1 '\x1b[31m\u202e'")
    assert code == 0 and out.startswith("format error: ")
    for text in (out, run("list", "--bank", str(folder))[1]):
        assert "\x1b" not in text and "\u202e" not in text


@pytest.mark.parametrize(
    ("stdin", "encoding"), [(b"0.25^16\n", "latin-1"), (b"\xff\n0.25^16\n", "utf-8:strict")]
)
def test_a_terminal_that_cannot_show_or_send_utf8_gets_no_traceback(
    stdin: bytes, encoding: str
) -> None:
    command = [sys.executable, "-m", "tutor", "quiz", "--question", "sigmoid-chain-gradient@12"]
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    command.append("--no-record")
    done = subprocess.run(command, input=stdin, capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Score: 1 / 1" in done.stdout and b"Traceback" not in done.stderr
