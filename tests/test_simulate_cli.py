"""``tutor simulate`` end to end through click's CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from tutor import cli
from tutor.cli import main
from tutor.sim import ACTIVATION_NAMES, INIT_NAMES, diagnose, simulate_network
from tutor.simulate import SimulateOptions, slow_run_note

BASE = ["simulate", "--depth", "8", "--width", "32", "--activation", "relu"]


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def as_json(*args: str) -> dict[str, Any]:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_cli_choices_are_the_engine_names() -> None:
    assert cli.SIM_ACTIVATIONS == ACTIVATION_NAMES
    assert cli.SIM_INITS == INIT_NAMES


def test_help_shows_examples_and_cli_import_does_not_load_numpy() -> None:
    result = invoke("simulate", "--help")
    assert "tutor simulate --depth 30 --width 256 --activation sigmoid" in result.output
    assert "--compare KEY=V1,V2" in result.output
    code = "import sys, tutor.cli; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_text_report_has_table_charts_and_diagnosis() -> None:
    result = invoke(*BASE, "--init", "normal", "--std", "1")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Network: 8 layers x 32 units, relu, normal (std 1), batch 64")
    header = next(line for line in out.splitlines() if line.startswith("layer  "))
    assert header.split() == ["layer", "‖dL/dW‖", "‖dL/dh‖", "‖dL/dW‖/‖W‖", "‖W‖", "std(h)",
                              "mean(z)", "std(z)", "%", "saturated"]  # fmt: skip
    assert "Backward signal ‖dL/dh‖ per layer" in out
    assert "Weight gradient ‖dL/dW‖ per layer" in out
    assert "log scale" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("Diagnosis: Exploding gradients from layer ")
    assert "fix: use He initialization (the weights are too large)." in last


def test_json_layers_are_the_engine_numbers_input_side_first() -> None:
    data = as_json(*BASE, "--init", "he-normal", "--seed", "3")
    report = simulate_network(8, 32, "relu", "he-normal", seed=3)
    assert [layer["layer"] for layer in data["layers"]] == list(range(1, 9))
    for key in ("grad_norm", "act_grad_norm", "weight_norm", "activation_std"):
        assert [layer[key] for layer in data["layers"]] == getattr(report, key).tolist()
    assert data["diagnosis"]["kind"] == diagnose(report).kind == "healthy"
    assert data["settings"]["seed"] == 3
    assert "loss" not in data


def test_default_seed_is_fixed() -> None:
    first = invoke(*BASE, "--init", "he-normal").output
    assert first == invoke(*BASE, "--init", "he-normal").output
    assert first == invoke(*BASE, "--init", "he-normal", "--seed", "0").output


def test_the_trap_flat_weight_gradients_are_still_diagnosed() -> None:
    data = as_json("simulate", "--depth", "30", "--width", "64", "--activation", "relu",
                   "--init", "normal", "--std", "1")  # fmt: skip
    grads = np.array([layer["grad_norm"] for layer in data["layers"]])
    assert grads.max() / grads.min() < 10
    assert data["diagnosis"]["kind"] == "exploding"
    small = as_json("simulate", "--depth", "30", "--width", "64", "--activation", "relu",
                    "--init", "normal", "--std", "0.01")  # fmt: skip
    assert small["diagnosis"]["kind"] == "vanishing"


def test_steps_give_a_loss_list_and_divergence() -> None:
    args = ["simulate", "--depth", "5", "--width", "32", "--activation", "linear",
            "--init", "xavier-normal", "--steps", "100"]  # fmt: skip
    calm = as_json(*args, "--lr", "0.1")
    assert len(calm["loss"]) == 101
    assert calm["diverged_at"] is None
    assert calm["loss"][-1] < calm["loss"][0]
    wild = as_json(*args, "--lr", "3")
    assert wild["diverged_at"] is not None
    assert wild["loss"][-1] is None  # inf/NaN is null in JSON
    assert wild["training_diagnosis"]["kind"] == "exploding"
    clipped = as_json(*args, "--lr", "3", "--clip-norm", "0.5")
    assert clipped["diverged_at"] is None
    text = invoke(*args, "--lr", "3").output
    assert "Loss during training" in text
    assert "diverged" in text


def test_float16_overflow_is_null_in_json() -> None:
    data = as_json("simulate", "--depth", "50", "--width", "64", "--activation", "relu",
                   "--init", "normal", "--std", "1", "--dtype", "float16")  # fmt: skip
    assert data["initial_loss"] is None
    assert data["diagnosis"]["kind"] == "exploding"


def test_compare_side_by_side() -> None:
    args = [*BASE, "--init", "normal", "--std", "1", "--compare", "init=normal,he-normal"]
    text = invoke(*args).output
    assert "‖dL/dh‖ init=normal" in text and "‖dL/dh‖ init=he-normal" in text
    assert "init=normal: Exploding" in text
    assert "init=he-normal: Healthy" in text
    data = as_json(*args)
    assert data["compare"] == {"key": "init", "values": ["normal", "he-normal"]}
    assert [run["settings"]["std"] for run in data["runs"]] == [1.0, None]
    scales = [line for line in text.splitlines() if "log scale" in line]
    assert len(scales) == 2 and scales[0] == scales[1]  # one scale, so bars compare


def test_compare_with_constant_gives_value_to_the_constant_run_only() -> None:
    args = [*BASE, "--init", "constant", "--value", "0.5", "--compare", "init=constant,he-normal"]
    data = as_json(*args)
    assert [run["settings"]["value"] for run in data["runs"]] == [0.5, None]
    assert "init=constant: " in invoke(*args).output


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize(
    "init", [["zeros"], ["constant", "--value", "0"], ["normal", "--std", "0"]]
)
def test_all_zero_weights_show_no_nan_ratio(activation: str, init: list[str]) -> None:
    # ‖dL/dW‖/‖W‖ is 0/0 (or, with sigmoid's 0.5 outputs, x/0) when every weight is 0.
    args = ["simulate", "--depth", "3", "--width", "4", "--activation", activation, "--init"]
    result = invoke(*args, *init)
    assert result.exit_code == 0, result.output
    table = result.output.split("\n\n")[1].splitlines()
    assert [row.split()[3] for row in table[3:6]] == ["—", "—", "—"]
    note = "‖dL/dW‖/‖W‖ is — where ‖W‖ = 0: every weight is 0, so there is no size to compare"
    assert table[6].startswith(note)  # the line right under the table
    assert "NaN" not in result.output and "∞" not in result.output
    assert "Diagnosis: Vanishing gradients" in result.output


def test_nonzero_weights_have_no_zero_weight_note() -> None:
    result = invoke(*BASE, "--init", "constant", "--value", "0.5")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Network: 8 layers x 32 units, relu, constant (value 0.5),")
    assert "‖W‖ = 0" not in result.output


@pytest.mark.parametrize(
    "spec",
    [
        "depth=4,8",
        "residual=off,on",
        "batchnorm=no,yes",
        "activation=tanh,relu,sigmoid",
        "dtype=float16,float64",
    ],
)
def test_compare_keys(spec: str) -> None:
    data = as_json(*BASE, "--init", "he-normal", "--compare", spec)
    assert len(data["runs"]) == len(spec.split(","))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--init", "normal"], "Error: --init normal needs --std"),
        (["--init", "he-normal", "--std", "1"], "Error: --std applies to --init normal or uniform"),
        (["--init", "he-normal", "--lr", "0.1"], "Error: --lr sets up training: add --steps K"),
        (["--init", "he-normal", "--value", "2"], "Error: --value applies to --init constant"),
        (["--init", "he-normal", "--value", "0"], "Error: --value applies to --init constant"),
        (["--init", "constant"], "Error: --init constant needs --value (every weight equal to it)"),
        (
            ["--init", "he-normal", "--compare", "init=he-normal,constant"],
            "Error: --compare init=constant: --init constant needs --value",
        ),
        (
            ["--init", "he-normal", "--steps", "3", "--clip-norm", "1", "--clip-value", "1"],
            "not both",
        ),
        (["--init", "he-normal", "--compare", "colour=red,blue"], "KEY one of activation"),
        (["--init", "he-normal", "--compare", "depth=4"], "2 to 6 values"),
        (
            ["--init", "he-normal", "--compare", "depth=4,x"],
            "depth=x: expected an integer from 1 to 1000",
        ),
        (["--init", "he-normal", "--compare", "init=he-normal,glorot"], "choose one of zeros"),
        (
            ["--init", "he-normal", "--compare", "lr=0.1,1"],
            "Error: --compare lr=0.1: --lr sets up training: add --steps K",
        ),
        (
            ["--init", "he-normal", "--compare", "init=he-normal,normal"],
            "Error: --compare init=normal: --init normal needs --std",
        ),
    ],
)
def test_errors_are_one_line(args: list[str], message: str) -> None:
    result = invoke(*BASE, *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--init", "he-normal", "--depth", "0"], "0 is not in the range 1<=x<=1000"),
        (["--init", "glorot"], "'glorot' is not one of"),
        (["--init", "he-normal", "--dtype", "float8"], "'float8' is not one of"),
        (["--init", "he-normal", "--clip-norm", "0", "--steps", "1"], "--clip-norm"),
        (["--init", "constant", "--value", "nan"], "'nan' is not a number"),
        (["--init", "normal", "--std", "NaN"], "'NaN' is not a number"),
        (["--init", "he-normal", "--steps", "1", "--lr", "nan"], "'nan' is not a number"),
    ],
)
def test_bad_option_values_are_usage_errors(args: list[str], message: str) -> None:
    result = invoke(*BASE, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_too_large_a_network_is_refused() -> None:
    result = invoke(
        "simulate",
        "--depth",
        "1000",
        "--width",
        "4096",
        "--activation",
        "relu",
        "--init",
        "he-normal",
    )
    assert result.exit_code == 1
    assert "too large to simulate: depth x width x max(width, batch) is 16,777,216,000" in (
        result.output
    )
    assert "at most 8,000,000 fit in memory; use a smaller width or depth" in result.output


def test_a_float16_cast_that_overflows_is_not_a_warning() -> None:
    # Warnings are errors under pytest: the cast to float16 overflows to inf by design.
    data = as_json(*BASE, "--init", "normal", "--std", "1e6", "--dtype", "float16")
    assert data["diagnosis"]["kind"] == "exploding"


def test_training_starts_from_the_constant_value() -> None:
    args = [*BASE, "--init", "constant", "--steps", "2", "--lr", "0.01", "--value"]
    first_losses = [as_json(*args, value)["loss"][0] for value in ("0.5", "0.25")]
    assert first_losses[0] != pytest.approx(first_losses[1])  # both were all zeros before


def test_a_long_training_run_is_announced_before_it_starts() -> None:
    def options(steps: int | None, depth: int = 100) -> SimulateOptions:
        return SimulateOptions(depth=depth, width=64, activation="relu", init="he-normal",
                               steps=steps)  # fmt: skip

    assert slow_run_note([options(None)]) is None
    assert slow_run_note([options(10)]) is None
    assert slow_run_note([options(1000)]) == "Training will take roughly 11 s..."
    assert slow_run_note([options(1000)] * 10) == "Training will take roughly 2 min..."
