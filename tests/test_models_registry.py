"""The model registry (every model by name, its module imported only when asked for) and the
checks of the arguments a bank gives a model."""

from __future__ import annotations

import importlib
import math
import pkgutil
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tutor.models
from tutor.errors import SimulationError
from tutor.models import (
    _MODULES,
    MODELS,
    Arg,
    Results,
    _number,
    basic,
    check_arg,
    exact_key,
    plain,
    run_model,
)


def test_the_registry_names_what_each_module_defines() -> None:
    found = {}
    for info in pkgutil.iter_modules(tutor.models.__path__):
        module = importlib.import_module(f"tutor.models.{info.name}")
        found[info.name] = tuple(model.name for model in module.MODELS)
    assert found == _MODULES


def test_model_names_are_unique_and_each_model_is_found_by_its_name() -> None:
    names = [name for names in _MODULES.values() for name in names]
    assert len(names) == len(set(names)) == len(MODELS)
    assert all(MODELS[name].name == name for name in names)


def test_an_unknown_model_is_not_in_the_registry() -> None:
    assert "no_such_model" not in MODELS
    assert MODELS.get("no_such_model") is None


def test_asking_for_one_model_imports_only_its_module() -> None:
    code = (
        "import sys; from tutor.models import MODELS; MODELS['chain'];"
        "print(sorted(m for m in sys.modules if m.startswith('tutor.models.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "['tutor.models.basic']"


_VALUES = st.one_of(st.floats(), st.integers(-5, 5), st.booleans(), st.text(max_size=2), st.none())


@given(values=st.lists(_VALUES, max_size=6), low=st.floats(-3, 0), high=st.floats(0, 3))
def test_a_list_argument_is_checked_as_each_number_would_be(
    values: list[object], low: float, high: float
) -> None:
    arg = Arg("numbers", low=low, high=high)
    where = "model 'chain', argument 'z'"
    try:
        expected: object = tuple(_number(where, arg, v) for v in values)
    except SimulationError as exc:
        with pytest.raises(SimulationError) as caught:
            check_arg("chain", "z", arg, values)
        assert str(caught.value) == str(exc)
    else:
        assert check_arg("chain", "z", arg, values) == expected


def test_results_are_made_plain_when_read_and_equal_the_plain_dict() -> None:
    depth = 70  # longer than SCALAR_DEPTH: a NumPy chain, whose results are arrays
    args = {"depth": depth, "activation": "sigmoid", "weight": 2.0, "z": 0.0, "x": None}
    results = run_model("chain", {**args, "bias": 0.0})
    assert isinstance(results, Results)
    assert "factors" in results and not results._plain  # nothing converted before it is read
    assert results["factors"] == (0.5,) * depth and type(results["grad"]) is float
    assert results["factors"] is results["factors"]  # converted once
    assert set(results) == set(MODELS["chain"].outputs) - {"h"}
    everything = plain(results)
    assert type(everything) is dict and everything == results
    assert everything["to_input"][-3:] == (0.125, 0.25, 0.5)


def test_a_short_chain_is_plain_from_the_start() -> None:
    args = {"depth": 3, "activation": "sigmoid", "weight": 2.0, "z": 0.0, "x": None, "bias": 0.0}
    results = run_model("chain", args)
    assert isinstance(results, Results) and results._plain == dict(results)
    assert results["to_input"] == (0.125, 0.25, 0.5)


def _chain_args(**given: object) -> dict[str, object]:
    args = {"depth": 6, "activation": "tanh", "weight": 1.5, "z": 0.3, "x": None, "bias": 0.0}
    return {**args, **given}


def test_a_chain_run_again_is_the_one_kept() -> None:
    first = run_model("chain", _chain_args(depth=7))
    assert run_model("chain", _chain_args(depth=7)) is first
    fresh = basic._chain(_chain_args(depth=7))
    assert dict(first) == dict(fresh)
    assert run_model("chain", _chain_args(depth=8)) is not first


def test_a_kept_chain_tells_negative_zero_from_zero() -> None:
    plus = run_model("chain", _chain_args(depth=5, weight=0.0))["grad"]
    minus = run_model("chain", _chain_args(depth=5, weight=-0.0))["grad"]  # five -0.0 factors
    assert (math.copysign(1, plus), math.copysign(1, minus)) == (1, -1)


def test_a_chain_given_per_layer_lists_is_not_kept() -> None:
    listed = _chain_args(depth=2, weight=(1.0, -0.0))
    first = run_model("chain", listed)
    assert math.copysign(1, first["factors"][1]) == -1
    assert run_model("chain", listed) is not first
    assert dict(run_model("chain", listed)) == dict(first)


def test_kept_chains_stay_within_their_layer_budget() -> None:
    cache = basic._LayerBoundedCache(budget=100)
    results = [Results({"n": i}) for i in range(5)]
    for i, kept in enumerate(results):
        cache.keep((i,), kept, 40)
    assert list(cache) == [(3,), (4,)]  # 80 layers; a third chain of 40 would pass 100
    cache.keep(("long",), results[0], 500)  # larger than the budget: kept alone
    assert list(cache) == [("long",)]


def _network_args(**given: object) -> dict[str, object]:
    args = {"depth": 3, "width": 4, "activation": "tanh", "init": "he-normal", "std": None}
    args |= {"seed": 5, "batch": 2, "residual": False, "batchnorm": False, "loss": "mean"}
    return {**args, **given}


def test_a_numpy_model_run_again_is_the_one_kept_read_only() -> None:
    first = run_model("propagation", _network_args())
    assert run_model("propagation", _network_args()) is first
    assert not isinstance(first, dict)  # a Mapping no one can change under the next reader
    fresh = MODELS["propagation"].run(_network_args())
    assert dict(first) == dict(fresh)
    assert run_model("propagation", _network_args(seed=6)) is not first


@pytest.mark.parametrize(
    ("one", "other"), [(1, 1.0), (1, True), (0.0, -0.0), ((1.0, 0.0), (1.0, -0.0))]
)
def test_kept_runs_are_found_only_by_the_same_value_of_the_same_type(
    one: object, other: object
) -> None:
    assert one == other
    assert exact_key(one) != exact_key(other)
    assert exact_key(one) == exact_key(one)


def test_kept_runs_are_bounded() -> None:
    recent = tutor.models._RecentResults(size=2)
    for i in range(3):
        recent.keep((i,), {"n": i})
    assert list(recent) == [(1,), (2,)]
    assert dict(recent[(2,)]) == {"n": 2}


_NETWORK_MODELS = {
    "network": {},
    "propagation": {},
    "diagnosis_net": {},
    "training": {"lr": 0.1, "steps": 2},
    "diagnosis_training": {"lr": 0.1, "steps": 2},
}


@pytest.mark.parametrize("name", sorted(_NETWORK_MODELS))
def test_init_constant_takes_its_value_and_needs_one(name: str) -> None:
    from model_helpers import run

    base = {"depth": 3, "width": 4, "activation": "tanh", "seed": 1, **_NETWORK_MODELS[name]}
    with pytest.raises(SimulationError, match="init constant needs value"):
        run(name, init="constant", **base)
    with pytest.raises(SimulationError, match="value applies to init constant"):
        run(name, init="normal", value=0.5, **base)
    half, quarter = (run(name, init="constant", value=v, **base) for v in (0.5, 0.25))
    assert half["loss" if "training" in name else "grad_norm"] != pytest.approx(
        quarter["loss" if "training" in name else "grad_norm"]
    )


def test_a_constant_network_is_built_and_trained_from_its_value() -> None:
    from model_helpers import run

    shape = {"depth": 3, "width": 4, "activation": "tanh", "init": "constant", "seed": 1}
    net = run("network", value=0.5, **shape)
    assert net["weight_norm"] == pytest.approx((0.5 * 4,) * 3)  # every entry 0.5, 4 x 4
    trained = run("training", value=-0.5, lr=0.1, steps=2, **shape)
    assert trained["weight_norm"][0] == pytest.approx(math.sqrt(3) * 0.5 * 4)
