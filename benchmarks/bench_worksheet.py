"""Worksheet speed: 100 versions of 20 questions, with answer keys and charts.

bench.py calls ``rows(quick)``; alone: ``python benchmarks/bench_worksheet.py [--quick]``.

The headline is the ``tutor worksheet`` command end to end (start, draw, render, write the
file) over the bundled banks, with one worker process per CPU as the command uses. Then, in one process on a sample
of versions, where the time goes per question: drawing the variant (tutor.variant and the
simulations behind it), and everything else (texts, math, tables, charts and the page).
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
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
        found += _headline(label, topics, len(catalog.select(topics)), versions)
        found += _in_worker_process(_breakdown, topics, sample=2 if quick else 5)
    return found


def _in_worker_process(work: Any, *args: Any, **kwargs: Any) -> Any:
    """``work(*args, **kwargs)`` in a fresh process with one BLAS thread, as each worker of
    the command runs. (In this process NumPy may already run several: their CPU time would
    count against the draws, and the lower bound would use their combined rate.)"""
    saved = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=context) as executor:
            return executor.submit(work, *args, **kwargs).result()
    finally:
        if saved is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = saved


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


def _breakdown(topics: Sequence[str], sample: int) -> list[Row]:
    """Per-question CPU time in one process over ``sample`` versions: drawing the variants, then
    rendering them with warm caches (the variants are drawn beforehand, and ``sample`` other
    versions are rendered first, as a long worksheet mostly runs warm; rendering the same
    versions twice would find their own texts in the HTML cache); and the check of the texts of
    the questions used, which the command runs once, beside the workers."""
    from tutor import sheetdata, worksheet
    from tutor.catalog import load_catalog
    from tutor.variant import make_variant
    from tutor.worksheet import WorksheetOptions, plan_version

    pool = load_catalog().select(topics)
    options = WorksheetOptions(versions=2 * sample, count=COUNT, seed=2)
    warm_up, timed = options.numbers[sample:], options.numbers[:sample]
    drawn: dict[tuple[str, int], Any] = {}
    spent: list[float] = []
    with _ArrayWork() as work, _ModelTime() as models:
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
    cpus = os.cpu_count() or 1
    best = (draw_ms + render_ms) * 100 * COUNT / 1000 / cpus
    floor = work.seconds() / len(spent) * 100 * COUNT / cpus
    rest_ms = draw_ms + render_ms - 1000 * models.seconds / len(spent)
    rest = rest_ms * 100 * COUNT / 1000 / cpus
    return [
        ("  per question, one process: drawing the variant (tutor.variant, simulations)",
         f"{draw_ms:.1f} ms (median {1000 * statistics.median(spent):.1f} ms, max {1000 * max(spent):.0f} ms)", ""),
        ("  per question, one process: texts, math, tables, charts and page (warm)",
         f"{render_ms:.1f} ms", ""),
        ("  once: checking every text of the questions used (beside the workers)",
         f"{1000 * checking:.0f} ms", ""),
        ("  => 100 x 20 spread over all CPUs, at best", f"{best:.1f} s", f"< {TARGET_S:g} s"),
        ("  lower bound: only the networks' weight draws and matrix products, at this machine's best rates, 100 x 20 over all CPUs",
         f"{floor:.1f} s ({work.describe()})", ""),
        ("  everything but the models' runs (parameters, texts, math, tables, charts, page), 100 x 20 over all CPUs",
         f"{rest:.1f} s ({rest_ms:.1f} ms per question)", ""),
        ("  => at best, the models' runs at their lower bound and the rest as measured",
         f"{floor + rest:.1f} s", f"< {TARGET_S:g} s"),
    ]  # fmt: skip


class _ModelTime:
    """The CPU time spent in ``run_model`` (the simulations) while drawing variants."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> _ModelTime:
        from tutor import variant

        self._run = run = variant.run_model

        def timed(name: str, args: Any) -> Any:
            start = time.process_time()
            try:
                return run(name, args)
            finally:
                self.seconds += time.process_time() - start

        variant.run_model = timed
        return self

    def __exit__(self, *exc: object) -> None:
        from tutor import variant

        variant.run_model = self._run


class _ArrayWork:
    """Counts, while drawing variants, the work no Python code can avoid: the standard normals
    the network builders draw and the floating-point operations of the networks' matrix
    products. ``seconds`` prices them at the best rates this machine reaches, so it is a lower
    bound on the CPU time of the draws (other simulations' arrays are not even counted)."""

    def __init__(self) -> None:
        self.normals = 0
        self.flops = 0
        self._undo: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> _ArrayWork:
        from tutor.sim import builders, network

        matmul, draw = network.matmul, builders._draw

        def counted_matmul(a: Any, b: Any, out: Any = None) -> Any:
            product = matmul(a, b, out)
            self.flops += 2 * product.size * a.shape[-1]
            return product

        def counted_draw(seed: int, depth: int, width: int, batch: int) -> Any:
            self.normals += depth * width * width + batch * width
            return draw(seed, depth, width, batch)

        for module, name, new in ((network, "matmul", counted_matmul), (builders, "_draw", counted_draw)):  # fmt: skip
            self._undo.append((module, name, getattr(module, name)))
            setattr(module, name, new)
        return self

    def __exit__(self, *exc: object) -> None:
        for module, name, old in self._undo:
            setattr(module, name, old)

    def seconds(self) -> float:
        normal_s, flop_s = _best_rates()
        return self.normals * normal_s + self.flops * flop_s

    def describe(self) -> str:
        normal_s, flop_s = _best_rates()
        return (
            f"{self.normals / 1e6:.0f} M normals at {1e9 * normal_s:.1f} ns, "
            f"{self.flops / 1e9:.1f} GFLOP at {1e-9 / flop_s:.0f} GFLOP/s, in the sample"
        )


@functools.cache
def _best_rates() -> tuple[float, float]:
    """Seconds per standard normal drawn, and per floating-point operation of a matrix product
    the size of a wide layer's, each the best of several tries."""
    import numpy as np

    rng = np.random.default_rng(0)
    normals = min(_timed(lambda: rng.standard_normal(1 << 20)) for _ in range(7)) / (1 << 20)
    h, w = rng.standard_normal((32, 256)), rng.standard_normal((256, 256))
    out = np.empty((32, 256))
    product = min(_timed(lambda: np.matmul(h, w, out=out)) for _ in range(200))
    return normals, product / (2 * 32 * 256 * 256)


def _timed(work: Any) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 versions instead of 100")
    args = parser.parse_args()
    for row in rows(quick=args.quick):
        print("  ".join(row))


if __name__ == "__main__":
    main()
