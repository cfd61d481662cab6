"""The error tree: stable unique codes, builtin bases, documented, and a lossless envelope."""

from __future__ import annotations

import inspect

import pytest

from loopline import errors
from loopline.errors import (
    InvalidFilterError,
    LooplineError,
    NotFoundError,
    error_class_for_code,
    restore_error,
)

CLASSES = [
    obj for _, obj in inspect.getmembers(errors, inspect.isclass) if issubclass(obj, LooplineError)
]


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in CLASSES]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_class_is_drawn_in_the_module_docstring(cls: type[LooplineError]) -> None:
    assert cls.__name__ in (errors.__doc__ or "")
    assert cls.code in (errors.__doc__ or "")


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_envelope_round_trip_restores_class_message_details(cls: type[LooplineError]) -> None:
    original = cls("something is wrong", field="x")
    restored = restore_error(original.to_dict())
    assert type(restored) is cls
    assert restored.message == "something is wrong"
    assert restored.details["field"] == "x"


def test_filter_error_keeps_position_and_token() -> None:
    restored = restore_error(InvalidFilterError("bad", position=7, token="==").to_dict())
    assert isinstance(restored, InvalidFilterError)
    assert (restored.position, restored.token) == (7, "==")


def test_errors_are_also_builtin_exceptions() -> None:
    assert issubclass(NotFoundError, LookupError)
    assert issubclass(errors.InvalidArgumentError, ValueError)


def test_unknown_code_maps_to_base() -> None:
    assert error_class_for_code("NO_SUCH_CODE") is LooplineError
