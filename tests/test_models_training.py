"""The training-mechanics models against closed forms, hand calculations and the engine."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_helpers import run

from tutor import sim
from tutor.errors import SimulationError
from tutor.models import MODELS

NAMES = ("quadratic", "clip", "sgd_step", "loss_net", "training")


@pytest.mark.parametrize("name", NAMES)
def test_models_are_registered_with_their_outputs(name: str) -> None:
    assert name in MODELS
    assert MODELS[name].outputs


# --- quadratic ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "lr", "w0"),
    [(2.0, 0.1, 1.0), (4.0, 0.4, -2.5), (10.0, 0.25, 3.0), (0.5, 3.0, 1.0), (1.0, 1.0, 2.0)],
)
def test_quadratic_iterates_follow_the_closed_form(a: float, lr: float, w0: float) -> None:
    out = run("quadratic", a=a, w0=w0, lr=lr, steps=8)
    expected = [w0 * (1 - lr * a) ** k for k in range(9)]
    np.testing.assert_allclose(out["w"], expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(out["loss"], [a * w * w / 2 for w in expected], rtol=1e-12)
    assert out["critical_lr"] == pytest.approx(2 / a)
    assert out["overflow_at"] == -1


def test_quadratic_reports_the_first_overflowed_step() -> None:
    out = run("quadratic", a=1.0, w0=1.0, lr=1001.0, steps=200)  # factor -1000 per step
    assert out["overflow_at"] == 103  # 1000**103 > 1.8e308 > 1000**102
    assert math.isinf(out["w"][103])


@settings(deadline=None, max_examples=40)
@given(a=st.floats(0.1, 100.0), ratio=st.floats(0.05, 1.95))
def test_quadratic_below_the_critical_rate_converges(a: float, ratio: float) -> None:
    out = run("quadratic", a=a, w0=1.0, lr=ratio / a, steps=50)  # lr below 2 / a
    assert abs(out["w"][-1]) <= 1.0


# --- clip --------------------------------------------------------------------------------------


def test_clip_by_norm_and_by_value_by_hand() -> None:
    out = run("clip", grad=[3.0, -4.0, 12.0], c=6.5)  # norm 13
    assert out["norm"] == pytest.approx(13.0)
    assert out["clipped"] is True
    np.testing.assert_allclose(out["by_norm"], [1.5, -2.0, 6.0])
    assert out["by_value"] == (3.0, -4.0, 6.5)
    assert out["scale"] == pytest.approx(0.5)
    assert out["norm_by_norm"] == pytest.approx(6.5)
    assert out["l1_norm"] == 19.0
    assert out["max_abs"] == 12.0
    assert out["count_by_value"] == 1
    assert out["angle_by_norm"] == 0.0


@given(
    grad=st.lists(st.floats(-100, 100).filter(lambda x: abs(x) > 1e-3), min_size=2, max_size=8),
    c=st.floats(0.01, 10),
)
def test_clipping_by_norm_keeps_the_direction_to_the_last_digit(
    grad: list[float], c: float
) -> None:
    """A bank may ask whether the angle is 0: rounding must not leave a millionth of a degree
    (acos of a cosine one ulp below 1 would), nor 6e-15 (comparing rounded unit vectors)."""
    assert run("clip", grad=grad, c=c)["angle_by_norm"] == 0.0


@pytest.mark.parametrize(
    ("grad", "angle"),
    [([1.0, 0.0], 0.0), ([5.0, 5.0], 0.0), ([5.0, 0.1], 45 - math.degrees(math.atan2(0.1, 5)))],
)
def test_clipping_by_value_turns_by_the_angle_between(grad: list[float], angle: float) -> None:
    out = run("clip", grad=grad, c=0.1)  # every entry cut to 0.1 in size (or left at 0)
    assert out["angle_by_value"] == pytest.approx(angle, abs=1e-12)


def test_clip_leaves_a_short_gradient_alone() -> None:
    out = run("clip", grad=[0.3, 0.4], c=1.0)
    assert out["clipped"] is False
    assert out["by_norm"] == (0.3, 0.4)
    assert out["by_value"] == (0.3, 0.4)
    assert out["scale"] == 1.0
    assert out["angle_by_value"] == 0.0


@pytest.mark.parametrize(("g1", "g2", "c"), [(4.3, 0.5, 1.5), (3.5, 1.9, 1.5), (8.0, 0.2, 0.5)])
def test_clip_by_value_turns_a_2d_gradient_by_the_angle_between_them(
    g1: float, g2: float, c: float
) -> None:
    out = run("clip", grad=[g1, g2], c=c)
    clipped = (min(g1, c), min(g2, c))
    turn = math.degrees(math.atan2(g2, g1) - math.atan2(clipped[1], clipped[0]))
    assert out["angle_by_value"] == pytest.approx(abs(turn), rel=1e-9)
    assert out["cos_by_value"] == pytest.approx(math.cos(math.radians(turn)), rel=1e-12)


def test_clip_split_clips_each_part_by_its_own_norm() -> None:
    out = run("clip", grad=[3.0, 4.0, 0.6, 0.8], c=2.0, split=2)
    assert out["layer_norms"] == pytest.approx((5.0, 1.0))
    np.testing.assert_allclose(out["by_layer"], [1.2, 1.6, 0.6, 0.8])
    scale = 2.0 / math.sqrt(26.0)
    np.testing.assert_allclose(out["by_norm"], np.array([3.0, 4.0, 0.6, 0.8]) * scale)


@pytest.mark.parametrize("bad", [{"split": 3}, {"c": 0.0}, {"grad": [1.0] * 65}])
def test_clip_rejects_bad_arguments(bad: dict[str, Any]) -> None:
    args: dict[str, Any] = {"grad": [1.0, 2.0, 3.0], "c": 1.0} | bad
    with pytest.raises(SimulationError):
        run("clip", **args)


@settings(deadline=None, max_examples=50)
@given(
    grad=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=8),
    c=st.floats(1e-3, 1e3),
)
def test_clipped_norm_is_the_smaller_of_norm_and_c(grad: list[float], c: float) -> None:
    out = run("clip", grad=grad, c=c)
    assert out["norm_by_norm"] == pytest.approx(min(out["norm"], c), rel=1e-9, abs=1e-300)
    assert max(abs(v) for v in out["by_value"]) <= c


# --- sgd_step ----------------------------------------------------------------------------------


def test_sgd_step_by_hand() -> None:
    out = run("sgd_step", w=[2.0], grad=[1.4], lr=0.1, l2=0.5)
    assert out["total_grad"] == pytest.approx((2.4,))
    assert out["w"] == pytest.approx((1.76,))
    assert out["penalty"] == pytest.approx(0.5 / 2 * 4.0)
    decayed = run("sgd_step", w=[2.0], grad=[1.4], lr=0.1, weight_decay=0.5)
    assert decayed["w"] == pytest.approx((1.76,))  # plain SGD: decay is L2


def test_clipping_separates_l2_from_weight_decay() -> None:
    l2 = run("sgd_step", w=[2.0], grad=[1.4], lr=0.1, l2=0.5, clip_norm=1.0)
    wd = run("sgd_step", w=[2.0], grad=[1.4], lr=0.1, weight_decay=0.5, clip_norm=1.0)
    assert l2["clipped_grad"] == pytest.approx((1.0,))  # 1.4 + 0.5 * 2 clipped to 1
    assert l2["w"] == pytest.approx((1.9,))
    assert wd["w"] == pytest.approx((2.0 - 0.1 * 1.0 - 0.1 * 0.5 * 2.0,))


@pytest.mark.parametrize(
    ("lr", "lam", "steps"), [(0.1, 0.01, 50), (0.5, 0.05, 14), (1.0, 1e-3, 700)]
)
def test_pure_decay_is_geometric(lr: float, lam: float, steps: int) -> None:
    out = run("sgd_step", w=[1.0, -2.0], grad=0.0, lr=lr, weight_decay=lam, steps=steps)
    factors = (1 - lr * lam) ** np.arange(steps + 1)
    np.testing.assert_allclose(out["path"], factors, rtol=1e-10)
    np.testing.assert_allclose(out["path_norm"], factors * math.sqrt(5.0), rtol=1e-10)


def test_sgd_step_matches_the_engines_training_update() -> None:
    # One step of train_sgd (no biases, so every parameter is a weight) equals sgd_step on the
    # flattened weights and gradients: the same L2, clipping and decay, in the same order.
    rng = np.random.default_rng(3)
    ws = [rng.normal(size=(3, 3)), rng.normal(size=(3, 2))]
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    grads = sim.network_gradients(x, ws, None, "tanh", loss="mse", target=y).grads.weights
    config = sim.SGDConfig(lr=0.3, steps=1, l2=0.2, weight_decay=0.1, clip_norm=0.5)
    trained = sim.train_sgd(x, y, ws, [], "tanh", config=config)
    flat_w = np.concatenate([w.ravel() for w in ws])
    flat_g = np.concatenate([g.ravel() for g in grads])
    out = run(
        "sgd_step",
        w=flat_w.tolist(),
        grad=flat_g.tolist(),
        lr=0.3,
        l2=0.2,
        weight_decay=0.1,
        clip_norm=0.5,
    )
    np.testing.assert_allclose(
        out["w"], np.concatenate([w.ravel() for w in trained.weights]), rtol=1e-12
    )
    assert out["grad_norm"] == pytest.approx(float(trained.grad_norm[0]), rel=1e-12)


def test_sgd_step_rejects_mismatched_or_double_clipping() -> None:
    with pytest.raises(SimulationError):
        run("sgd_step", w=[1.0, 2.0], grad=[1.0, 2.0, 3.0], lr=0.1)
    with pytest.raises(SimulationError):
        run("sgd_step", w=[1.0], grad=[1.0], lr=0.1, clip_norm=1.0, clip_value=1.0)


# --- loss_net ----------------------------------------------------------------------------------


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


@pytest.mark.parametrize(
    ("x", "w", "b", "t"), [(0.4, -1.1, -0.4, 1.0), (-1.7, 0.8, 0.3, 0.0), (2.0, 0.0, 0.0, 1.0)]
)
def test_loss_net_one_sigmoid_unit_by_hand(x: float, w: float, b: float, t: float) -> None:
    out = run("loss_net", x=x, target=t, weights=w, biases=b, output="sigmoid")
    z = w * x + b
    y = sigmoid(z)
    assert out["z"] == pytest.approx((z,))
    assert out["y"] == pytest.approx(y)
    assert out["loss"] == pytest.approx((y - t) ** 2)
    assert out["dloss"] == pytest.approx(2 * (y - t))
    assert out["grad_w"] == pytest.approx((2 * (y - t) * y * (1 - y) * x,))
    assert out["grad_b"] == pytest.approx((2 * (y - t) * y * (1 - y),))


def test_loss_net_two_weights_by_hand_and_by_finite_differences() -> None:
    x, w1, w2, t = 0.7, 1.3, 0.8, -0.1
    out = run("loss_net", x=x, target=t, weights=[w1, w2], activation="sigmoid")
    h = sigmoid(w1 * x)
    y = w2 * h
    assert out["h"] == pytest.approx((h, y))
    assert out["grad_w"][1] == pytest.approx(2 * (y - t) * h)
    assert out["grad_w"][0] == pytest.approx(2 * (y - t) * w2 * h * (1 - h) * x)

    def loss(v1: float, v2: float) -> float:
        return float(run("loss_net", x=x, target=t, weights=[v1, v2])["loss"])

    eps = 1e-6
    numeric = (loss(w1 + eps, w2) - loss(w1 - eps, w2)) / (2 * eps)
    assert out["grad_w"][0] == pytest.approx(numeric, rel=1e-6)


def test_loss_net_caps_its_depth() -> None:
    with pytest.raises(SimulationError):
        run("loss_net", x=1.0, target=0.0, weights=[1.0] * 7)


# --- training ----------------------------------------------------------------------------------

NET: dict[str, Any] = {
    "depth": 4,
    "width": 16,
    "activation": "linear",
    "init": "xavier-normal",
    "seed": 3,
}


def test_training_reports_loss_and_gradient_at_the_same_steps() -> None:
    out = run("training", **NET, lr=0.3, steps=12, points=5)
    engine = sim.simulate_training(
        4, 16, "linear", "xavier-normal", sim.SGDConfig(0.3, 12), seed=3, batch=32
    )
    assert len(out["loss"]) == len(out["grad_norm"]) == len(out["weight_norm"]) == 13
    np.testing.assert_allclose(out["loss"], engine.loss, rtol=1e-12)
    np.testing.assert_allclose(out["grad_norm"][:12], engine.grad_norm, rtol=1e-12)
    assert math.isfinite(out["grad_norm"][12])  # the gradient at the final weights
    assert out["diverged"] is False and out["diverged_at"] == -1
    assert out["checkpoints"] == (0, 3, 6, 9, 12)
    assert out["loss_at"] == tuple(out["loss"][k] for k in (0, 3, 6, 9, 12))
    assert out["diagnosis"]["kind"] == "healthy"


def test_the_first_gradient_does_not_depend_on_the_learning_rate() -> None:
    slow = run("training", **NET, lr=1e-4, steps=5)
    fast = run("training", **NET, lr=0.5, steps=5)
    assert slow["grad_norm"][0] == fast["grad_norm"][0]
    assert slow["loss"][5] > fast["loss"][5]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_large_learning_rate_diverges_and_clipping_rescues_it(dtype: str) -> None:
    plain = run("training", **NET, lr=3.0, steps=30, dtype=dtype)
    clipped = run("training", **NET, lr=3.0, steps=30, dtype=dtype, clip_norm=0.5)
    k = plain["diverged_at"]
    assert plain["diverged"] is True and 0 < k < 30
    assert len(plain["loss"]) == k + 1
    assert not math.isfinite(plain["loss"][k]) or not math.isfinite(plain["grad_norm"][k])
    assert plain["diagnosis"]["kind"] == "exploding"
    assert clipped["diverged"] is False
    assert clipped["final_loss"] < clipped["loss"][0]


def test_l2_and_weight_decay_train_alike_until_clipping() -> None:
    common = NET | {"activation": "tanh", "lr": 0.5, "steps": 10}
    l2 = run("training", **common, l2=0.05)
    wd = run("training", **common, weight_decay=0.05)
    assert l2["weight_norm"][-1] == pytest.approx(wd["weight_norm"][-1], rel=1e-12)
    l2c = run("training", **common, l2=0.05, clip_norm=0.1)
    wdc = run("training", **common, weight_decay=0.05, clip_norm=0.1)
    assert abs(l2c["weight_norm"][-1] - wdc["weight_norm"][-1]) > 0.01 * wdc["weight_norm"][-1]


def test_training_refuses_runs_too_large_for_a_question() -> None:
    with pytest.raises(SimulationError, match="too large"):
        run("training", **(NET | {"depth": 16, "width": 64}), batch=128, lr=0.1, steps=400)
