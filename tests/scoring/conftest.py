"""Fixtures: the scoring store (``store``, session-wide) and the SDK pointed at it (``sdk``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scoring_support import Store, build_store

import loopline

collect_ignore = ["scoring_support.py"]


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return build_store(tmp_path_factory.mktemp("scoring-store"))


@pytest.fixture
def sdk(store: Store) -> Iterator[Store]:
    loopline.set_uri(str(store.path))
    try:
        yield store
    finally:
        loopline.set_uri(None)
