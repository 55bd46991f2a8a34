"""Benchmark of the simulation engine (tutor.sim), with PyTorch's CPU autograd beside it.

Numbers:

* ``mlp50 numpy``: forward + backward of a depth-50, width-256 ReLU network (He init, zero
  biases) on a batch of 64 in float64, returning every gradient (weights, biases, input and
  each layer's output): the median over repeated runs, in ms.
* ``mlp50 torch`` / ``mlp50 torch +dL/dh``: the same arrays through PyTorch autograd (leaf
  gradients only / also retaining each layer's output gradient), measured in the same
  process, in rounds alternating with the NumPy runs; ``mlp50 numpy/torch`` is the ratio of
  medians against the leaf-only run (below 1 means the engine is faster). Skipped when
  ``import torch`` fails.
* ``torch agreement``: the largest relative difference, norm-wise per array, between the two
  engines' losses and gradients over several networks (ReLU, tanh + residual, sigmoid + batch
  norm, GELU with MSE, leaky ReLU + residual + batch norm). Target: below 1e-10.
* Variants per second: scalar chains (10 layers, sigmoid; forward and backward) one per call
  and 100,000 per call; small MLPs (depth 5, width 8, batch 16, tanh) one per call and 1,000
  per call.

Run alone: ``python benchmarks/bench_sim.py [--quick]`` prints a table.
``benchmarks/bench.py`` calls ``rows(quick=...)``, which returns (measurement, result, target)
rows for its table; ``run(report)`` calls ``report(name, value, unit, note)`` once per number
and returns the list of :class:`Measurement`.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tutor.sim import (
    build_network,
    chain_backward,
    chain_forward,
    network_gradients,
    relative_error,
)

Report = Callable[[str, float, str, str], object]


@dataclass(frozen=True)
class Measurement:
    """One benchmark number."""

    name: str
    value: float
    unit: str
    note: str = ""


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _rate(fn: Callable[[], object], variants: int, repeats: int) -> float:
    """Variants per second: ``fn`` simulates ``variants`` of them per call."""
    return variants / (_median_ms(fn, repeats) / 1e3)


# --------------------------------------------------------------------------- torch side


def _torch() -> Any:
    try:
        import torch  # type: ignore[import-not-found, unused-ignore]  # optional
    except ImportError:
        return None
    return torch


def _torch_activation(torch: Any, name: str) -> Callable[[Any], Any]:
    f = torch.nn.functional
    table: dict[str, Callable[[Any], Any]] = {
        "relu": torch.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "gelu": f.gelu,  # exact (erf), like the engine
        "leaky_relu": lambda z: f.leaky_relu(z, 0.01),
        "elu": f.elu,
    }
    return table[name]


def _torch_run(torch: Any, arrays: dict[str, Any], spec: dict[str, Any], retain: bool) -> Any:
    """Forward and backward in PyTorch; returns (loss, leaves, hidden) as tensors."""
    leaf = {
        k: [torch.tensor(a, requires_grad=True) for a in v]
        for k, v in arrays.items()
        if k in ("w", "b", "g", "beta")
    }
    x = torch.tensor(arrays["x"], requires_grad=True)
    act = _torch_activation(torch, spec["activation"])
    h, hidden = x, []
    for i, w in enumerate(leaf["w"]):
        z = h @ w + leaf["b"][i] if leaf.get("b") else h @ w
        if spec.get("batchnorm"):
            z = torch.nn.functional.batch_norm(
                z, None, None, leaf["g"][i], leaf["beta"][i], training=True, eps=1e-5
            )
        h = h + act(z) if spec.get("residual") else act(z)
        if retain:
            h.retain_grad()
        hidden.append(h)
    target = arrays.get("target")
    loss = h.mean() if target is None else ((h - torch.tensor(target)) ** 2).mean()
    loss.backward()
    return loss, leaf, x, hidden


# --------------------------------------------------------------------------- agreement

AGREEMENT_SPECS: tuple[dict[str, Any], ...] = (
    {"activation": "relu"},
    {"activation": "tanh", "residual": True},
    {"activation": "sigmoid", "batchnorm": True},
    {"activation": "gelu", "loss": "mse"},
    {"activation": "leaky_relu", "residual": True, "batchnorm": True},
    {"activation": "elu", "loss": "mse", "batchnorm": True},
)


def _spec_arrays(
    seed: int, depth: int, width: int, batch: int, spec: dict[str, Any]
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    net = build_network(depth, width, "he-normal", seed=rng, batch=batch)
    arrays: dict[str, Any] = {
        "x": net.x,
        "w": list(net.weights),
        "b": [rng.normal(0, 0.1, width) for _ in range(depth)],
        "g": [rng.uniform(0.5, 1.5, width) for _ in range(depth)],
        "beta": [rng.normal(0, 0.1, width) for _ in range(depth)],
    }
    if spec.get("loss") == "mse":
        arrays["target"] = rng.standard_normal(net.x.shape)
    if spec.get("batchnorm"):
        # Batch norm cancels a bias exactly, so its gradient is 0 and any comparison of two
        # rounding noises would be meaningless: those networks have no biases.
        del arrays["b"]
    return arrays


def _agreement(torch: Any, spec: dict[str, Any]) -> float:
    arrays = _spec_arrays(1, 20, 64, 32, spec)
    bn = {"gammas": arrays["g"], "betas": arrays["beta"]} if spec.get("batchnorm") else {}
    ours = network_gradients(
        arrays["x"], arrays["w"], arrays.get("b"), spec["activation"], loss=spec.get("loss", "mean"),
        target=arrays.get("target"), residual=spec.get("residual", False),
        batchnorm=spec.get("batchnorm", False), **bn,
    )  # fmt: skip
    loss, leaf, x, hidden = _torch_run(torch, arrays, spec, retain=True)
    pairs = [(ours.loss, loss.detach().numpy()), (ours.grads.x, x.grad.numpy())]
    pairs += [(a, t.grad.numpy()) for a, t in zip(ours.grads.weights, leaf["w"], strict=True)]
    pairs += [
        (a, t.grad.numpy()) for a, t in zip(ours.grads.biases, leaf.get("b", []), strict=True)
    ]
    pairs += [(a, t.grad.numpy()) for a, t in zip(ours.grads.hidden, hidden, strict=True)]
    if spec.get("batchnorm"):
        pairs += [(a, t.grad.numpy()) for a, t in zip(ours.grads.gammas, leaf["g"], strict=True)]
        pairs += [(a, t.grad.numpy()) for a, t in zip(ours.grads.betas, leaf["beta"], strict=True)]
    return max(relative_error(a, b) for a, b in pairs)


# --------------------------------------------------------------------------- measurements


BLOCK = 4
DROPPED = 2


def _mlp50(torch: Any, rounds: int) -> list[Measurement]:
    net = build_network(50, 256, "he-normal", seed=0, batch=64)
    arrays = {"x": net.x, "w": list(net.weights), "b": list(net.biases)}
    spec = {"activation": "relu"}
    runs: dict[str, Callable[[], object]] = {
        "mlp50 numpy": lambda: network_gradients(net.x, net.weights, net.biases, "relu")
    }
    if torch is not None:
        runs["mlp50 torch"] = lambda: _torch_run(torch, arrays, spec, retain=False)
        runs["mlp50 torch +dL/dh"] = lambda: _torch_run(torch, arrays, spec, retain=True)
    times: dict[str, list[float]] = {name: [] for name in runs}
    # Rounds of short blocks, engine after engine, so a busy machine slows each alike. The
    # first runs of a block are dropped: the engine that ran before leaves the allocator
    # (and the caches) in a state that costs the next one a few slow runs.
    for _ in range(rounds):
        for name, fn in runs.items():
            block = [_median_ms(fn, 1) for _ in range(BLOCK + DROPPED)]
            times[name] += block[DROPPED:]
    note = "depth 50, width 256, batch 64, float64, ReLU, every gradient"
    out = [Measurement(name, statistics.median(ts), "ms", note) for name, ts in times.items()]
    if torch is not None:
        ratio = statistics.median(times["mlp50 numpy"]) / statistics.median(times["mlp50 torch"])
        out.append(Measurement("mlp50 numpy/torch", ratio, "x", "median ratio; below 1 is faster"))
    return out


def _chain_rates(repeats: int) -> list[Measurement]:
    rng = np.random.default_rng(0)
    w, b, x0 = rng.normal(size=(1000, 10)), rng.normal(size=(1000, 10)), rng.normal(size=1000)

    def one_by_one() -> None:
        for i in range(1000):
            fwd = chain_forward(float(x0[i]), w[i], b[i], "sigmoid")
            chain_backward(w[i], fwd.z, "sigmoid")

    big_w, big_b, big_x = (
        rng.normal(size=(100_000, 10)),
        rng.normal(size=(100_000, 10)),
        rng.normal(size=100_000),
    )

    def batched() -> None:
        fwd = chain_forward(big_x, big_w, big_b, "sigmoid")
        chain_backward(big_w, fwd.z, "sigmoid")

    note = "10 layers, sigmoid, forward + backward"
    return [
        Measurement(
            "chain variants/s, one per call", _rate(one_by_one, 1000, repeats), "1/s", note
        ),
        Measurement(
            "chain variants/s, 100k per call", _rate(batched, 100_000, repeats), "1/s", note
        ),
    ]


def _small_mlp_rates(repeats: int) -> list[Measurement]:
    nets = build_network(5, 8, "xavier-normal", seed=0, batch=16, variants=(1000,))

    def one_by_one() -> None:
        for v in range(200):
            network_gradients(nets.x[v], [w[v] for w in nets.weights], None, "tanh")

    def batched() -> None:
        network_gradients(nets.x, nets.weights, None, "tanh")

    note = "depth 5, width 8, batch 16, tanh, every gradient"
    return [
        Measurement(
            "small MLP variants/s, one per call", _rate(one_by_one, 200, repeats), "1/s", note
        ),
        Measurement(
            "small MLP variants/s, 1000 per call", _rate(batched, 1000, repeats), "1/s", note
        ),
    ]


def run(report: Report | None = None, *, quick: bool = False) -> list[Measurement]:
    """Measure everything; call ``report(name, value, unit, note)`` for each number."""
    torch = _torch()
    results = _mlp50(torch, 2 if quick else 8)
    if torch is None:
        results.append(
            Measurement("torch agreement", float("nan"), "rel", "skipped: torch not importable")
        )
    else:
        worst = max(_agreement(torch, spec) for spec in AGREEMENT_SPECS)
        note = f"max over {len(AGREEMENT_SPECS)} networks of depth 20; torch {torch.__version__}"
        results.append(Measurement("torch agreement", worst, "rel", note))
    results += _chain_rates(3 if quick else 7)
    results += _small_mlp_rates(3 if quick else 7)
    for m in results:
        if report is not None:
            report(m.name, m.value, m.unit, m.note)
    return results


TARGETS = {
    "mlp50 numpy": "no slower than torch",
    "mlp50 numpy/torch": "<= 1",
    "torch agreement": "< 1e-10",
    "chain variants/s, one per call": ">= 10,000/s",
}


def rows(quick: bool = False) -> list[tuple[str, str, str]]:
    """(measurement, result, target) rows for ``benchmarks/bench.py``'s table."""
    out = []
    for m in run(quick=quick):
        value = f"{m.value:,.0f}/s" if m.unit == "1/s" else f"{m.value:.4g} {m.unit}"
        if m.note.startswith("skipped"):
            value = m.note
        out.append((f"sim: {m.name}", value, TARGETS.get(m.name, "")))
    return out


def _table(results: list[Measurement]) -> str:
    width = max(len(m.name) for m in results)
    lines = [f"{'measurement':<{width}}  {'value':>12}  unit  note"]
    for m in results:
        lines.append(f"{m.name:<{width}}  {m.value:>12.4g}  {m.unit:<4}  {m.note}")
    return "\n".join(lines)


if __name__ == "__main__":
    torch_module = _torch()
    versions = f"numpy {np.__version__}" + (
        f", torch {torch_module.__version__} ({torch_module.get_num_threads()} threads)"
        if torch_module
        else ", torch not importable"
    )
    print(f"tutor.sim benchmark ({versions}, python {sys.version.split()[0]})")
    print(_table(run(quick="--quick" in sys.argv[1:])))
