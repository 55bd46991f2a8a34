"""The fully connected network: every gradient against central differences in float64."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tutor.errors import SimulationError
from tutor.sim import (
    ACTIVATION_NAMES,
    batchnorm_forward,
    build_network,
    builders,
    dense_backward,
    gradient_step,
    layer_stats,
    loss_forward,
    mlp_backward,
    mlp_forward,
    network_gradients,
    numerical_gradient,
    relative_error,
    stats,
)
from tutor.sim.stats import _block_of

KINKED = {"relu", "leaky_relu", "elu"}
TOL = 1e-6


def _draw(seed: int, depth: int, width: int, batch: int, residual: bool) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    widths = [width] * (depth + 1) if residual else list(rng.integers(1, 5, depth + 1))
    return {
        "x": rng.normal(size=(batch, widths[0])),
        "weights": [rng.normal(size=(a, b)) for a, b in itertools.pairwise(widths)],
        "biases": [rng.normal(size=b) for b in widths[1:]],
        "gammas": [rng.uniform(0.5, 1.5, b) for b in widths[1:]],
        "betas": [rng.normal(size=b) for b in widths[1:]],
        "target": rng.normal(size=(batch, widths[-1])),
    }


def _loss(arrays: dict[str, Any], opts: dict[str, Any]) -> float:
    bn = {"gammas": arrays["gammas"], "betas": arrays["betas"]} if opts["batchnorm"] else {}
    target = arrays["target"] if opts["loss"] == "mse" else None
    result = network_gradients(
        arrays["x"], arrays["weights"], arrays["biases"], opts["activation"], loss=opts["loss"],
        target=target, residual=opts["residual"], batchnorm=opts["batchnorm"], **bn,
    )  # fmt: skip
    return float(result.loss)


def _check_against_fd(arrays: dict[str, Any], opts: dict[str, Any], *, drawn: bool = True) -> None:
    bn = {"gammas": arrays["gammas"], "betas": arrays["betas"]} if opts["batchnorm"] else {}
    target = arrays["target"] if opts["loss"] == "mse" else None
    result = network_gradients(
        arrays["x"], arrays["weights"], arrays["biases"], opts["activation"], loss=opts["loss"],
        target=target, residual=opts["residual"], batchnorm=opts["batchnorm"], **bn,
    )  # fmt: skip
    if opts["activation"] in KINKED:  # finite differences do not apply across a kink
        clear = min(float(np.abs(a).min()) for a in result.cache.preacts) > 1e-4
        assume(clear) if drawn else None
        assert clear, "pick a seed whose pre-activations stay away from the kink"

    pairs: list[tuple[str, int | None, np.ndarray]] = [("x", None, result.grads.x)]
    pairs += [("weights", i, g) for i, g in enumerate(result.grads.weights)]
    pairs += [("biases", i, g) for i, g in enumerate(result.grads.biases)]
    if opts["batchnorm"]:
        pairs += [("gammas", i, g) for i, g in enumerate(result.grads.gammas)]
        pairs += [("betas", i, g) for i, g in enumerate(result.grads.betas)]
    exact, numeric = [], []
    for key, index, grad in pairs:

        def f(v: np.ndarray, key: str = key, index: int | None = index) -> float:
            changed = dict(arrays)
            if index is None:
                changed[key] = v
            else:
                changed[key] = [v if i == index else a for i, a in enumerate(arrays[key])]
            return _loss(changed, opts)

        point = arrays[key] if index is None else arrays[key][index]
        exact.append(grad.ravel())
        numeric.append(numerical_gradient(f, point).ravel())
    # Relative to the whole gradient: with batch norm a bias gradient is exactly 0 and its
    # finite difference is rounding noise, which no per-array relative error can accept.
    assert relative_error(np.concatenate(exact), np.concatenate(numeric)) < TOL
    # Each array on its own too, down to the rounding noise of a central difference
    # (about 1e-16 * |intermediate values| / h per entry, up to ~1e-9 here).
    noise = 1e-8 * max(1.0, abs(float(result.loss)))
    for e, n in zip(exact, numeric, strict=True):
        assert float(np.linalg.norm(e - n)) < TOL * float(np.linalg.norm(e)) + noise * np.sqrt(
            e.size
        )


@settings(deadline=None, max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    activation=st.sampled_from(ACTIVATION_NAMES),
    depth=st.integers(1, 3),
    width=st.integers(1, 4),
    batch=st.integers(2, 5),
    residual=st.booleans(),
    batchnorm=st.booleans(),
    loss=st.sampled_from(["mean", "mse"]),
)
def test_every_gradient_matches_finite_differences(
    seed: int, activation: str, depth: int, width: int, batch: int,
    residual: bool, batchnorm: bool, loss: str,
) -> None:  # fmt: skip
    arrays = _draw(seed, depth, width, batch, residual)
    opts = {"activation": activation, "residual": residual, "batchnorm": batchnorm, "loss": loss}
    _check_against_fd(arrays, opts)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize(
    ("residual", "batchnorm"), [(False, False), (True, False), (False, True), (True, True)]
)
@pytest.mark.parametrize("loss", ["mean", "mse"])
def test_each_option_and_activation_at_a_fixed_seed(
    activation: str, residual: bool, batchnorm: bool, loss: str
) -> None:
    arrays = _draw(11, 2, 3, 4, residual)
    opts = {"activation": activation, "residual": residual, "batchnorm": batchnorm, "loss": loss}
    _check_against_fd(arrays, opts, drawn=False)


@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**32 - 1), residual=st.booleans(), batchnorm=st.booleans())
def test_hidden_gradients_are_the_input_gradients_of_the_rest(
    seed: int, residual: bool, batchnorm: bool
) -> None:
    # dL/dh_l is the input gradient of the network made of layers l+1..D fed with h_l.
    a = _draw(seed, 3, 3, 4, True)
    bn = {"gammas": a["gammas"], "betas": a["betas"]} if batchnorm else {}
    opts: dict[str, Any] = {"residual": residual, "batchnorm": batchnorm}
    full = network_gradients(a["x"], a["weights"], a["biases"], "tanh", **opts, **bn)
    for layer in range(1, 3):
        rest_bn = {k: v[layer:] for k, v in bn.items()}
        rest = network_gradients(
            full.cache.hidden[layer - 1],
            a["weights"][layer:],
            a["biases"][layer:],
            "tanh",
            **opts,
            **rest_bn,
        )
        np.testing.assert_allclose(
            full.grads.hidden[layer - 1], rest.grads.x, rtol=1e-12, atol=1e-15
        )
    np.testing.assert_allclose(full.grads.hidden[-1], 1.0 / full.output.size)


def test_variants_at_once_equal_one_by_one() -> None:
    rng = np.random.default_rng(5)
    ws = [rng.normal(size=(6, 4, 4)) for _ in range(3)]
    x = rng.normal(size=(6, 5, 4))
    many = network_gradients(x, ws, None, "tanh", batchnorm=True, residual=True)
    assert many.loss.shape == (6,)
    for v in range(6):
        one = network_gradients(
            x[v], [w[v] for w in ws], None, "tanh", batchnorm=True, residual=True
        )
        assert float(one.loss) == pytest.approx(float(many.loss[v]), rel=1e-14)
        for g_many, g_one in zip(many.grads.weights, one.grads.weights, strict=True):
            np.testing.assert_allclose(g_many[v], g_one, rtol=1e-12, atol=1e-300)


def test_shared_weights_sum_their_gradients_over_variants() -> None:
    rng = np.random.default_rng(6)
    w = [rng.normal(size=(3, 3))]
    x = rng.normal(size=(2, 4, 3))
    both = network_gradients(x, w, None, "tanh").grads.weights[0]
    parts = sum(network_gradients(x[v], w, None, "tanh").grads.weights[0] for v in range(2))
    np.testing.assert_allclose(both, parts, rtol=1e-13)


def test_batchnorm_normalizes_each_unit_over_the_batch() -> None:
    z = np.random.default_rng(7).normal(3.0, 5.0, size=(64, 8))
    out, _ = batchnorm_forward(z, np.ones(8), np.zeros(8), eps=0.0)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-12)
    scaled, _ = batchnorm_forward(z, np.full(8, 2.0), np.full(8, -1.0), eps=0.0)
    np.testing.assert_allclose(scaled, 2 * out - 1, rtol=1e-12)


def test_losses_and_their_gradients() -> None:
    out = np.array([[1.0, 2.0], [3.0, 6.0]])
    value, grad = loss_forward(out, "mean")
    assert value == 3.0
    assert (grad == 0.25).all()
    value, grad = loss_forward(out, "mse", np.zeros((2, 2)))
    assert value == (1 + 4 + 9 + 36) / 4
    np.testing.assert_array_equal(grad, out / 2)


def test_forward_and_backward_separately_match_the_one_call() -> None:
    a = _draw(8, 3, 3, 4, True)
    out, cache = mlp_forward(a["x"], a["weights"], a["biases"], ["relu", "tanh", "linear"])
    grads = mlp_backward(np.full(out.shape, 1 / out.size), cache)
    one = network_gradients(a["x"], a["weights"], a["biases"], ["relu", "tanh", "linear"])
    for g1, g2 in zip(grads.weights, one.grads.weights, strict=True):
        np.testing.assert_array_equal(g1, g2)


@pytest.mark.parametrize("batchnorm", [False, True])
def test_a_gradient_step_follows_parameters_changed_in_place(batchnorm: bool) -> None:
    a = _draw(10, 3, 3, 4, True)
    params = [*a["weights"], *a["biases"], *(a["gammas"] + a["betas"] if batchnorm else [])]
    bn = {"gammas": a["gammas"], "betas": a["betas"]} if batchnorm else {}
    options: dict[str, Any] = {
        "loss": "mse", "target": a["target"], "residual": True, "batchnorm": batchnorm, **bn,
    }  # fmt: skip
    step = gradient_step(a["x"], a["weights"], a["biases"], "tanh", **options)
    for _ in range(3):
        fresh = network_gradients(a["x"], a["weights"], a["biases"], "tanh", **options)
        reused = step()
        assert float(reused.loss) == float(fresh.loss)
        grads = [*reused.grads.weights, *reused.grads.biases]
        grads += [*reused.grads.gammas, *reused.grads.betas]
        expected = [*fresh.grads.weights, *fresh.grads.biases]
        expected += [*fresh.grads.gammas, *fresh.grads.betas]
        for g1, g2 in zip(grads, expected, strict=True):
            np.testing.assert_array_equal(g1, g2)
        for param, grad in zip(params, grads, strict=True):
            np.subtract(param, 0.1 * grad, out=param)  # in place, as a training loop updates


def test_a_gradient_step_refuses_parameters_it_would_have_to_copy() -> None:
    a = _draw(11, 2, 3, 4, True)
    halves = [w.astype(np.float32) for w in a["weights"]]  # promoted to float64 with x: copies
    with pytest.raises(SimulationError, match="one floating dtype"):
        gradient_step(a["x"], halves, a["biases"], "relu")
    with pytest.raises(TypeError, match="unexpected keyword argument 'momentum'"):
        gradient_step(a["x"], a["weights"], a["biases"], "relu", momentum=0.9)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_dtype_runs_in_that_precision(dtype: str) -> None:
    a = _draw(9, 2, 3, 4, True)
    result = network_gradients(a["x"], a["weights"], a["biases"], "tanh", dtype=dtype)
    assert result.output.dtype == np.dtype(dtype)
    assert all(g.dtype == np.dtype(dtype) for g in result.grads.weights)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": []}, "at least one weight"),
        ({"x": np.ones(3)}, "batch, units"),
        ({"weights": [np.ones((3, 3)), np.ones((4, 2))]}, "layer 2"),
        ({"biases": [np.ones(2), np.ones(3)]}, "layer 1: bias"),
        ({"activation": ["relu"]}, "1 activations given for 2 layers"),
        ({"weights": [np.ones((3, 2)), np.ones((2, 2))], "residual": True}, "square"),
        ({"loss": "mae"}, "mean, mse"),
        ({"loss": "mse"}, "target"),
        ({"gammas": [np.ones(3)] * 2}, "batchnorm=True"),
    ],
)
def test_errors(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {
        "x": np.ones((2, 3)), "weights": [np.ones((3, 3)), np.ones((3, 3))], "biases": None,
        "activation": "relu", **kwargs,
    }  # fmt: skip
    with pytest.raises(SimulationError, match=message):
        network_gradients(**args)


def test_dense_backward_is_one_linear_layer() -> None:
    rng = np.random.default_rng(10)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    result = network_gradients(x, [w], [b], "linear")
    dz = np.full((5, 4), 1 / 20)
    dw, db, dx = dense_backward(dz, x, w)
    np.testing.assert_allclose(dw, result.grads.weights[0], rtol=1e-14)
    np.testing.assert_allclose(db, result.grads.biases[0], rtol=1e-14)
    np.testing.assert_allclose(dx, result.grads.x, rtol=1e-14)


@pytest.mark.parametrize("variants", [(), (3,)])
def test_layer_stats_read_layers_in_one_block_as_they_would_read_them_apart(
    variants: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine allocates same-shape layers as slices of one block, and the statistics use
    # the block without copying (here even for small layers); copied layers (no block) must
    # give the same numbers.
    monkeypatch.setattr(stats, "_BLOCK_FROM", 0)
    net = build_network(6, 5, "xavier-normal", seed=4, batch=7, variants=variants)
    result = network_gradients(net.x, net.weights, net.biases, "tanh")

    def apart(arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        return tuple(np.array(a) for a in arrays)

    cache, grads = result.cache, result.grads
    copied = dataclasses.replace(
        result,
        cache=dataclasses.replace(
            cache, weights=apart(cache.weights), preacts=apart(cache.preacts),
            hidden=apart(cache.hidden),
        ),
        grads=dataclasses.replace(grads, weights=apart(grads.weights), hidden=apart(grads.hidden)),
    )  # fmt: skip
    assert _block_of(cache.hidden) is not None and _block_of(copied.cache.hidden) is None
    together, separately = layer_stats(result), layer_stats(copied)
    for field in dataclasses.fields(together):
        np.testing.assert_array_equal(
            getattr(together, field.name), getattr(separately, field.name)
        )


@pytest.mark.parametrize("init", ["normal", "xavier-normal", "he-normal", "lecun-normal", "orthogonal", "he-uniform"])  # fmt: skip
def test_seeded_arrays_are_build_networks_draws_and_its_generator_goes_on_from_them(
    init: str,
) -> None:
    std = 0.3 if init == "normal" else None
    for _ in range(2):  # drawn, then (for the normal schemes) taken from the recent draws
        net, rng = builders.seeded_arrays(5, 6, init, seed=41, std=std, gain=1.5, batch=3)
        drawn = np.random.default_rng(41)
        expected = build_network(5, 6, init, seed=drawn, std=std, gain=1.5, batch=3)
        for got, want in zip((*net.weights, *net.biases, net.x), (*expected.weights, *expected.biases, expected.x), strict=True):  # fmt: skip
            np.testing.assert_array_equal(got, want)  # the same numbers, bit for bit
        np.testing.assert_array_equal(rng.standard_normal(4), drawn.standard_normal(4))


def test_networks_sharing_a_draw_own_their_weights_and_cannot_change_it() -> None:
    small, _ = builders.seeded_arrays(3, 4, "normal", seed=7, std=0.1, batch=2)
    large, _ = builders.seeded_arrays(3, 4, "normal", seed=7, std=10.0, batch=2)
    np.testing.assert_allclose(large.weights[1], 100 * small.weights[1], rtol=1e-15)
    small.weights[1][...] = 0.0  # a network's own arrays, not the kept draw
    again, _ = builders.seeded_arrays(3, 4, "normal", seed=7, std=10.0, batch=2)
    np.testing.assert_array_equal(again.weights[1], large.weights[1])
    with pytest.raises(ValueError, match="read-only"):
        again.x[0, 0] = 1.0


def test_recent_draws_stay_within_their_budget() -> None:
    recent = builders._RecentDraws(budget=3 * 4 * 4 + 2 * 4)  # one draw of depth 3, width 4
    first = recent.get(1, 3, 4, 2)
    assert recent.get(1, 3, 4, 2) is first
    recent.get(2, 3, 4, 2)  # a second draw passes the budget: the first is dropped
    assert recent.get(1, 3, 4, 2) is not first
    recent.get(3, 9, 9, 9)  # larger than the whole budget: kept alone
    assert list(recent._kept) == [(3, 9, 9, 9)]


def test_a_network_too_large_for_memory_is_refused_before_drawing() -> None:
    # 100 layers of 1000 x 1000 with a batch of 1000 took 7.9 GB; the bound keeps a run near
    # ten arrays of 64 MB.
    with pytest.raises(SimulationError, match="too large to simulate"):
        builders.simulate_network(100, 1000, "tanh", "he-normal", seed=1, batch=1000)
    with pytest.raises(SimulationError, match="too large to simulate"):
        builders.simulate_network(200, 256, "tanh", "he-normal", seed=1, batch=32)
