"""Speed and memory of gradient-tutor, measured on this machine and printed as a table.

Run by hand, never by the tests:  python benchmarks/bench.py [--quick]

Start-up is measured against a bare ``python -c "import numpy"`` in the same run, because
the target is relative (the first question within 1.5x of it). Throughput is variants
generated and graded per second, per bundled question, grouped by the model it runs, in one
process; the target (10,000 scalar-chain variants a second on this machine) is then measured
with every CPU at work, as ``tutor check`` works.
"""

from __future__ import annotations

import argparse
import compileall
import functools
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.catalog import Catalog

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

Row = tuple[str, str, str]  # (measurement, result, target)


def wall(command: list[str], stdin: str = "") -> float:
    """Wall time of one run of a command, in seconds."""
    start = time.perf_counter()
    subprocess.run(command, input=stdin, capture_output=True, text=True, check=True)
    return time.perf_counter() - start


def until_first_question(command: list[str]) -> float:
    """Time from starting ``tutor quiz`` until its first answer prompt is written."""
    env = {**os.environ, "NO_COLOR": "1"}
    start = time.perf_counter()
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        seen = b""
        while b"Your answer" not in seen and b"True or false" not in seen:
            chunk = proc.stdout.read1(4096)
            if not chunk:
                raise RuntimeError("the quiz ended before asking anything")
            seen += chunk
        elapsed = time.perf_counter() - start
        proc.stdin.close()
        proc.wait()
    return elapsed


def tutor_command() -> list[str]:
    found = shutil.which("tutor", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "tutor"]


def startup_rows(runs: int) -> list[Row]:
    """Start-up times, the commands taking turns so that a busy spell hits them alike.

    The target question runs a short scalar chain, in Python floats; a second question, whose
    network model needs NumPy, shows the cost of loading it on top.
    """
    tutor = tutor_command()
    quiz = [*tutor, "quiz", "--no-record", "--seed", "1", "--question"]
    numpy_times, help_times, first_times, numpy_first_times = [], [], [], []
    for _ in range(runs):
        numpy_times.append(wall([sys.executable, "-c", "import numpy"]))
        help_times.append(wall([*tutor, "--help"]))
        first_times.append(until_first_question([*quiz, "sigmoid-chain-gradient"]))
        numpy_first_times.append(until_first_question([*quiz, NUMPY_QUESTION]))
    numpy_time = statistics.median(numpy_times)

    def against_numpy(times: list[float]) -> str:
        ratio = statistics.median(t / n for t, n in zip(times, numpy_times, strict=True))
        return f"{statistics.median(times) * 1000:.0f} ms ({ratio:.2f}x numpy)"

    return [
        ("bare python -c 'import numpy'", f"{numpy_time * 1000:.0f} ms", "reference"),
        ("tutor --help", f"{statistics.median(help_times) * 1000:.0f} ms", "well under the numpy import"),
        ("tutor quiz: start to first question (sigmoid-chain-gradient)", against_numpy(first_times),
         "<= 1.5x numpy"),
        (f"  the same, a question that loads NumPy ({NUMPY_QUESTION})",
         against_numpy(numpy_first_times), ""),
    ]  # fmt: skip


NUMPY_QUESTION = "exploding-relu"  # runs the network model


def per_second(work: Callable[[int], object], seconds: float) -> float:
    """How many calls of ``work(i)`` complete per second."""
    work(0)  # compile and warm caches outside the timing
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work(count)
        count += 1
    return count / (time.perf_counter() - start)


@functools.cache
def catalog() -> Catalog:
    from tutor.catalog import load_catalog

    return load_catalog()


def gradable_questions() -> dict[str, tuple[str, str]]:
    """Question id -> (the models it runs, an answer to grade), for every auto-graded question."""
    found = {}
    for question in catalog().questions:
        if any(p.type == "explain" for p in question.parts):
            continue
        answer = {"choice": "a", "truefalse": "true"}.get(question.parts[0].type, "0.5")
        models = sorted(
            {s.model for s in question.simulate}
            | {s.model for p in question.parts for s in p.simulate}
        )
        found[question.id] = ("+".join(models) or "formulas only", answer)
    return found


def variant_rate(question_id: str, answer: str, seconds: float, first_seed: int = 0) -> float:
    """Variants of one question generated and graded per second, in this process."""
    from tutor.grading import grade_text
    from tutor.variant import make_variant

    question = catalog().get(question_id)
    return per_second(
        lambda seed: grade_text(make_variant(question, first_seed + seed), 0, answer), seconds
    )


def all_cores_rate(question_id: str, answer: str, seconds: float) -> float:
    """The same, with one process per CPU working at once (as ``tutor check`` does)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = os.cpu_count() or 1
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        # Each process draws its own seeds; their rates add up because they run side by side.
        starts = [i * 10_000_000 for i in range(workers)]
        jobs = [pool.submit(variant_rate, question_id, answer, seconds, s) for s in starts]
        return sum(job.result() for job in jobs)


def throughput_rows(seconds: float) -> list[Row]:
    by_model: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for question_id, (models, answer) in gradable_questions().items():
        by_model[models].append((question_id, variant_rate(question_id, answer, seconds)))
    rows = []
    for model, results in sorted(by_model.items()):
        rates = [rate for _, rate in results]
        slowest = min(results, key=lambda r: r[1])
        target = "(the machine's: below)" if model == "chain" else ""
        rows.append((f"variants generated+graded/s in one process, model {model} ({len(results)} questions)",
                     f"median {statistics.median(rates):,.0f}/s, slowest {slowest[1]:,.0f}/s ({slowest[0]})",
                     target))  # fmt: skip
    chain = sorted(by_model["chain"], key=lambda r: r[1])
    median_id = chain[len(chain) // 2][0]
    answer = gradable_questions()[median_id][1]
    rows.append((f"the same on all {os.cpu_count()} CPUs, median chain question ({median_id})",
                 f"{all_cores_rate(median_id, answer, seconds):,.0f}/s",
                 ">= 10,000/s"))  # fmt: skip
    return rows


def print_table(rows: list[Row]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    header = ("measurement", "result", "target")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a rough look")
    args = parser.parse_args()
    runs, seconds = (3, 0.3) if args.quick else (11, 1.5)
    print(f"gradient-tutor benchmark on {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}\n")
    # pip writes bytecode when it installs; an editable checkout may hold stale or none.
    compileall.compile_dir(HERE.parent / "tutor", quiet=1)
    rows = startup_rows(runs) + throughput_rows(seconds)
    for section in ("bench_sim", "bench_worksheet"):
        module_file = HERE / f"{section}.py"
        if module_file.exists():
            module = __import__(section)
            rows += module.rows(quick=args.quick)
    print_table(rows)


if __name__ == "__main__":
    main()
