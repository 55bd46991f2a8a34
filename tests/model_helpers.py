"""Running a simulation model in a test the way a bank's variant runs it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tutor.models import MODELS, REQUIRED, check_arg, run_model


def run(name: str, **given_args: Any) -> Mapping[str, Any]:
    """Run a model as a bank does: defaults filled in, every argument checked, none unknown."""
    model = MODELS[name]
    unknown = set(given_args) - set(model.args)
    assert not unknown, f"{name} has no arguments {sorted(unknown)}"
    args: dict[str, Any] = {}
    for key, arg in model.args.items():
        value = given_args.get(key, arg.default)
        assert value is not REQUIRED, f"{name} needs {key}"
        args[key] = None if value is None else check_arg(name, key, arg, value)
    return run_model(name, args)
