"""The public surface: a sorted, complete ``__all__`` and a cheap ``import loopline``."""

from __future__ import annotations

import subprocess
import sys

import pytest

import loopline


def test_all_is_sorted_and_unique() -> None:
    assert list(loopline.__all__) == sorted(set(loopline.__all__))


def test_every_name_in_all_resolves() -> None:
    for name in loopline.__all__:
        assert getattr(loopline, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = loopline.nope  # type: ignore[attr-defined]


def test_import_loads_no_heavy_library() -> None:
    code = (
        "import sys, loopline; "
        "heavy = [m for m in ('sqlalchemy', 'pandas', 'numpy', 'fastapi', 'pydantic', 'httpx') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
