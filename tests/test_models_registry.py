"""The model registry: every model by name, its module imported only when it is asked for."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import tutor.models
from tutor.models import _MODULES, MODELS


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
