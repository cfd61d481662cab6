"""``loopline.models``: reachable from ``loopline``, with a sorted, complete ``__all__``."""

from __future__ import annotations

import inspect

import loopline
from loopline.client import models


def test_models_is_the_sdk_module() -> None:
    assert loopline.models is models
    assert "models" in loopline.__all__


def test_all_is_sorted_and_complete() -> None:
    assert list(models.__all__) == sorted(set(models.__all__))
    public = {
        name for name, value in vars(models).items()
        if inspect.isfunction(value) and value.__module__ == models.__name__
        and not name.startswith("_")
    }  # fmt: skip
    assert public == set(models.__all__)
