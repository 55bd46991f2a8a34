"""Worksheet speed: 100 versions of 20 questions, with answer keys and charts.

bench.py calls ``rows(quick)``; alone: ``python benchmarks/bench_worksheet.py [--quick]``.

The headline is the ``tutor worksheet`` command end to end (start, draw, render, write the
file) over the bundled banks, with one worker process per CPU as the command uses. Then, in one process on a sample
of versions, where the time goes per question: drawing the variant (tutor.variant and the
simulations behind it), and everything else (texts, math, tables, charts and the page).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

Row = tuple[str, str, str]  # (measurement, result, target)
COUNT = 20
TARGET_S = 3.0


def rows(quick: bool) -> list[Row]:
    """Benchmark rows; ``quick`` runs 10 versions instead of 100 (target scaled to match)."""
    from tutor.catalog import load_catalog

    catalog = load_catalog()
    versions = 10 if quick else 100
    found: list[Row] = []
    for label, topics in (("all banks", []), ("topic vanishing", ["vanishing"])):
        pool = catalog.select(topics)
        found += _headline(label, topics, len(pool), versions)
        found += _breakdown(pool, sample=2 if quick else 5)
    return found


def _headline(label: str, topics: Sequence[str], pool_size: int, versions: int) -> list[Row]:
    """The ``tutor worksheet`` command end to end, start-up included, as a user runs it."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "worksheet.html"
        command = [*_tutor(), "worksheet", "-o", str(target), "--versions", str(versions)]
        command += ["-n", str(COUNT), "--seed", "1", "--key", "end"]
        command += [arg for topic in topics for arg in ("--topic", topic)]
        cpu_before = _cpu_seconds()
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before
        size = target.stat().st_size / 1e6
    target_s = TARGET_S * versions / 100
    return [(
        f"tutor worksheet, {versions} versions x {COUNT} questions, keys+charts ({label}, {pool_size} questions, {os.cpu_count()} CPUs)",
        f"{seconds:.1f} s wall, {cpu:.1f} s CPU, {size:.1f} MB (load average {os.getloadavg()[0]:.1f})",
        f"< {target_s:g} s",
    )]  # fmt: skip


def _tutor() -> list[str]:
    found = shutil.which("tutor", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "tutor"]


def _cpu_seconds() -> float:
    """CPU time of this process and its finished worker processes: other programs running at
    the same time slow the wall clock down, not this."""
    own, workers = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _breakdown(pool: Sequence[Any], sample: int) -> list[Row]:
    """Per-question CPU time in one process over ``sample`` versions: drawing the variants, then
    rendering them with warm caches (the variants are drawn beforehand, and ``sample`` other
    versions are rendered first, as a long worksheet mostly runs warm; rendering the same
    versions twice would find their own texts in the HTML cache); and the check of the texts of
    the questions used, which the command runs once, beside the workers."""
    from tutor import sheetdata, worksheet
    from tutor.variant import make_variant
    from tutor.worksheet import WorksheetOptions, plan_version

    options = WorksheetOptions(versions=2 * sample, count=COUNT, seed=2)
    warm_up, timed = options.numbers[sample:], options.numbers[:sample]
    drawn: dict[tuple[str, int], Any] = {}
    spent: list[float] = []
    for version in options.numbers:
        for question, seed in plan_version(pool, COUNT, options.seed, version):
            start = time.process_time()
            drawn[question.id, seed] = make_variant(question, seed)
            spent.append(time.process_time() - start)
    sheetdata.make_variant = lambda question, seed: drawn[question.id, seed]  # type: ignore[assignment]
    try:
        for version in warm_up:
            worksheet._render_version(pool, options, version)
        start = time.process_time()
        for version in timed:
            worksheet._render_version(pool, options, version)
        rendering = time.process_time() - start
    finally:
        sheetdata.make_variant = make_variant
    start = time.process_time()
    worksheet._check_texts(pool, WorksheetOptions(versions=100, count=COUNT, seed=2))
    checking = time.process_time() - start
    draw_ms = 1000 * statistics.mean(spent)
    render_ms = 1000 * rendering / (sample * COUNT)
    best = (draw_ms + render_ms) * 100 * COUNT / 1000 / (os.cpu_count() or 1)
    return [
        ("  per question, one process: drawing the variant (tutor.variant, simulations)",
         f"{draw_ms:.1f} ms (median {1000 * statistics.median(spent):.1f} ms, max {1000 * max(spent):.0f} ms)", ""),
        ("  per question, one process: texts, math, tables, charts and page (warm)",
         f"{render_ms:.1f} ms", ""),
        ("  once: checking every text of the questions used (beside the workers)",
         f"{1000 * checking:.0f} ms", ""),
        ("  => 100 x 20 spread over all CPUs, at best", f"{best:.1f} s", f"< {TARGET_S:g} s"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 versions instead of 100")
    args = parser.parse_args()
    for row in rows(quick=args.quick):
        print("  ".join(row))


if __name__ == "__main__":
    main()
