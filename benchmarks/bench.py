"""Speed and memory of gradient-tutor, measured on this machine and printed as a table.

Run by hand, never by the tests:  python benchmarks/bench.py [--quick]

Start-up is measured against a bare ``python -c "import numpy"`` in the same run, because
the target is relative (the first question within 1.5x of it). Throughput is variants
generated and graded per second, per bundled question, grouped by the model it runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

Row = tuple[str, str, str]  # (measurement, result, target)


def wall(command: list[str], runs: int, stdin: str = "") -> float:
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, input=stdin, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def until_first_question(command: list[str], runs: int) -> float:
    """Median time from starting ``tutor quiz`` until its first answer prompt is written."""
    times = []
    env = {**os.environ, "NO_COLOR": "1"}
    for _ in range(runs):
        start = time.perf_counter()
        with subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        ) as proc:
            assert proc.stdout is not None and proc.stdin is not None
            seen = b""
            while b"Your answer" not in seen and b"True or false" not in seen:
                chunk = proc.stdout.read1(4096)
                if not chunk:
                    raise RuntimeError("the quiz ended before asking anything")
                seen += chunk
            times.append(time.perf_counter() - start)
            proc.stdin.close()
            proc.wait()
    return statistics.median(times)


def tutor_command() -> list[str]:
    found = shutil.which("tutor", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "tutor"]


def startup_rows(runs: int) -> list[Row]:
    python = sys.executable
    tutor = tutor_command()
    numpy_time = wall([python, "-c", "import numpy"], runs)
    help_time = wall([*tutor, "--help"], runs)
    quiz = [*tutor, "quiz", "--question", "sigmoid-chain-gradient", "--seed", "1"]
    first = until_first_question(quiz, runs)
    return [
        ("bare python -c 'import numpy'", f"{numpy_time * 1000:.0f} ms", "reference"),
        ("tutor --help", f"{help_time * 1000:.0f} ms", "well under the numpy import"),
        ("tutor quiz: start to first question", f"{first * 1000:.0f} ms ({first / numpy_time:.2f}x numpy)",
         "<= 1.5x numpy"),
    ]  # fmt: skip


def per_second(work: Callable[[int], object], seconds: float) -> float:
    """How many calls of ``work(i)`` complete per second."""
    work(0)  # compile and warm caches outside the timing
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work(count)
        count += 1
    return count / (time.perf_counter() - start)


def throughput_rows(seconds: float) -> list[Row]:
    from tutor.catalog import load_catalog
    from tutor.grading import grade_text
    from tutor.variant import make_variant

    by_model: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for question in load_catalog().questions:
        if any(p.type == "explain" for p in question.parts):
            continue
        answer = "a" if question.parts[0].type == "choice" else "0.5"
        if question.parts[0].type == "truefalse":
            answer = "true"

        def work(seed: int, q: object = question, text: str = answer) -> object:
            return grade_text(make_variant(q, seed), 0, text)  # type: ignore[arg-type]

        models = sorted(
            {s.model for s in question.simulate}
            | {s.model for p in question.parts for s in p.simulate}
        )
        by_model["+".join(models) or "formulas only"].append(
            (question.id, per_second(work, seconds))
        )
    rows = []
    for model, results in sorted(by_model.items()):
        rates = [rate for _, rate in results]
        slowest = min(results, key=lambda r: r[1])
        target = ">= 10,000/s" if model == "chain" else ""
        rows.append((f"variants generated+graded/s, model {model} ({len(results)} questions)",
                     f"median {statistics.median(rates):,.0f}/s, slowest {slowest[1]:,.0f}/s ({slowest[0]})",
                     target))  # fmt: skip
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
    rows = startup_rows(runs) + throughput_rows(seconds)
    for section in ("bench_sim", "bench_worksheet"):
        module_file = HERE / f"{section}.py"
        if module_file.exists():
            module = __import__(section)
            rows += module.rows(quick=args.quick)
    print_table(rows)


if __name__ == "__main__":
    main()
