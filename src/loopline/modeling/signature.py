"""Model signatures: the columns a model takes (and returns), inferred once, enforced on predict.

A signature lists each input column with its logical type (the dataset types of
``docs/datasets.md``), whether it may be missing, and the categories of categorical text. It is
inferred from the training data or an input example and stored with the model version;
:func:`enforce` checks a batch against it before the model sees it, with errors that name the
column and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loopline.errors import InvalidArgumentError

__all__ = ["ColumnSpec", "Signature", "enforce", "infer_signature", "missing_columns"]

_NUMERIC = ("integer", "float", "boolean")
# Which logical types a column of each declared type accepts at predict time.
_ACCEPTS = {
    "integer": {"integer", "boolean"},
    "float": {"float", "integer", "boolean"},
    "boolean": {"boolean"},
    "string": {"string"},
    "datetime": {"datetime"},
    "date": {"date", "datetime"},
    "duration": {"duration"},
    "decimal": {"decimal", "integer", "float"},
    "binary": {"binary"},
}


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    type: str
    nullable: bool = True
    categories: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "nullable": self.nullable,
            "categories": list(self.categories) if self.categories is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSpec:
        categories = data.get("categories")
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            nullable=bool(data.get("nullable", True)),
            categories=tuple(categories) if categories is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Signature:
    """Inputs (and optionally outputs) of a model, as column specs."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [c.to_dict() for c in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        return cls(
            inputs=tuple(ColumnSpec.from_dict(c) for c in data.get("inputs", [])),
            outputs=tuple(ColumnSpec.from_dict(c) for c in data.get("outputs", [])),
        )

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.inputs]


def _specs(data: Any) -> tuple[ColumnSpec, ...]:
    from loopline.data.canonical import canonicalize
    from loopline.data.profile import profile_table
    from loopline.data.sources import read_source

    schema, _ = profile_table(canonicalize(read_source(_as_frame(data))))
    return tuple(
        ColumnSpec(
            name=column["name"],
            type=column["type"],
            nullable=bool(column["nullable"]),
            categories=tuple(column["categories"]) if column["categories"] else None,
        )
        for column in schema
    )


def _as_frame(data: Any) -> Any:
    """Dicts of columns and 2-D arrays become DataFrames; tables pass through."""
    import pandas as pd

    if isinstance(data, dict):
        return pd.DataFrame(data)
    if type(data).__module__.split(".")[0] == "numpy":
        array = data if data.ndim == 2 else data.reshape(-1, 1)
        return pd.DataFrame(array, columns=[str(i) for i in range(array.shape[1])])
    if type(data).__name__ == "Series":
        return data.to_frame(name=str(data.name) if data.name is not None else "0")
    return data


def infer_signature(model_input: Any, model_output: Any = None) -> Signature:
    """The signature of a DataFrame (pandas or polars), Arrow table, dict of columns or array.

    Examples:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"age": [31, 45, 28, 52], "plan": ["a", "a", "a", "b"]})
        >>> [(c.name, c.type, c.categories) for c in infer_signature(frame).inputs]
        [('age', 'integer', None), ('plan', 'string', ('a', 'b'))]
    """
    outputs = _specs(model_output) if model_output is not None else ()
    return Signature(inputs=_specs(model_input), outputs=outputs)


def missing_columns(missing: list[str], *, field: str | None = None) -> InvalidArgumentError:
    """The error for input lacking signature columns (``field``: the first missing one).

    Examples:
        >>> missing_columns(["age", "city"]).message
        "The input lacks the column(s) ['age', 'city'] that the model's signature requires."
    """
    return InvalidArgumentError(
        f"The input lacks the column(s) {missing} that the model's signature requires.",
        field=missing[0] if field is None else field,
        columns=missing,
    )


def enforce(signature: Signature, data: Any, *, strict_categories: bool = True) -> Any:
    """``data`` as a pandas DataFrame holding the signature's columns in its order.

    Refuses, naming the column: a missing column, a type the column does not accept, a missing
    value in a column that may not have any, and (with ``strict_categories``) a category the
    model never saw. Extra columns are dropped.
    """
    from loopline.data.canonical import canonicalize, logical_type
    from loopline.data.sources import read_source

    frame = _as_frame(data)
    table = canonicalize(read_source(frame))
    missing = [c.name for c in signature.inputs if c.name not in table.column_names]
    if missing:
        raise missing_columns(missing, field="data")
    for spec in signature.inputs:
        column = table.column(spec.name)
        actual = logical_type(column.type) if column.null_count < len(column) else spec.type
        if actual not in _ACCEPTS.get(spec.type, {spec.type}):
            raise InvalidArgumentError(
                f"Column {spec.name!r} must hold {spec.type} values; got {actual}.",
                field=spec.name,
            )
        if not spec.nullable and column.null_count:
            raise InvalidArgumentError(
                f"Column {spec.name!r} has {column.null_count} missing value(s); the model's "
                "signature does not allow any.",
                field=spec.name,
            )
        if strict_categories and spec.categories is not None:
            seen = set(column.drop_null().unique().to_pylist())
            unknown = sorted(seen - set(spec.categories))
            if unknown:
                raise InvalidArgumentError(
                    f"Column {spec.name!r} holds value(s) {unknown[:5]} the model never saw; "
                    f"expected one of {list(spec.categories)[:10]}.",
                    field=spec.name,
                )
    ordered = table.select(signature.columns)
    return ordered.to_pandas()
