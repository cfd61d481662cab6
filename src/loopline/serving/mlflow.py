"""MLflow's scoring protocol: ``POST /invocations`` (JSON or CSV), as ``mlflow models serve``.

JSON bodies hold exactly one of ``dataframe_split``, ``dataframe_records``, ``instances`` or
``inputs`` (plus optional ``params``). ``text/csv`` bodies have a header row. Other content types,
or a charset other than utf-8, get 415 with a text/plain message, as MLflow answers.

Answers are ``{"predictions": [...]}``: the labels by default (MLflow's default for scikit-learn
models is ``predict``), the class probabilities with ``?output=proba`` or
``"params": {"output": "proba"}``. Errors are MLflow's ``{"error_code", "message"}``. The
answer stays MLflow's; each row is still decided by the deployment's policy and logged, and the
ids it was logged under come back in the ``x-loopline-prediction-ids`` header (comma-separated,
for requests of at most 100 rows).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from loopline.serving.http import HttpError, loads
from loopline.serving.pipeline import Decoded, split_inputs
from loopline.serving.runtime import ModelRuntime, Scores

__all__ = ["decode_invocations", "encode_invocations"]

KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_TEXT = b"text/plain; charset=utf-8"


def _unsupported(message: str) -> HttpError:
    return HttpError(415, message, body=message.encode(), content_type=_TEXT)


def bad_request(message: str) -> HttpError:
    return HttpError(400, message, body={"error_code": "BAD_REQUEST", "message": message})


def _content_type(header: str | None) -> str:
    if not header:
        raise _unsupported(
            "This predictor only supports the following content types: Types: "
            "['application/json', 'text/csv']. Got ''."
        )
    mime, *parameters = (part.strip() for part in header.split(";"))
    mime = mime.lower()
    if mime not in ("application/json", "text/csv"):
        raise _unsupported(
            "This predictor only supports the following content types: Types: "
            f"['application/json', 'text/csv']. Got {header!r}."
        )
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() != "charset" or value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise _unsupported(
                f"The content type parameter {parameter!r} is not supported; only "
                "'charset=utf-8' is."
            )
    return mime


def decode_invocations(
    runtime: ModelRuntime,
    content_type: str | None,
    body: bytes,
    query: str,
    *,
    document: Any = None,
) -> tuple[Decoded, bool]:
    """The decoded ``/invocations`` request and whether probabilities were asked for.

    ``document``: the JSON body when the caller has parsed it already (not parsed again).
    """
    mime = _content_type(content_type)
    proba = "output=proba" in query.split("&")
    if mime == "text/csv":
        records = _csv(runtime, body)
        return Decoded(runtime.from_rows(records, "csv"), records), proba
    if document is None:
        try:
            document = loads(body)
        except HttpError as exc:
            raise bad_request(exc.message) from None
    if not isinstance(document, dict):
        raise bad_request(
            "The JSON body must be an object with exactly one of the keys "
            f"{list(KEYS)} (and optionally 'params')."
        )
    found = [k for k in KEYS if k in document]
    if len(found) != 1:
        raise bad_request(
            f"The JSON body must have exactly one of the keys {list(KEYS)}; got "
            f"{sorted(document)[:10]}. (MLflow 2.0 changed the scoring protocol: wrap a "
            'DataFrame as {"dataframe_split": {"columns": [...], "data": [...]}}.)'
        )
    params = document.get("params")
    if params is not None and not isinstance(params, dict):
        raise bad_request("'params' must be an object.")
    if isinstance(params, dict) and params.get("output") is not None:
        if params["output"] not in ("label", "proba"):
            raise bad_request(
                f"params.output must be 'label' or 'proba'; got {params['output']!r}."
            )
        proba = params["output"] == "proba"
    key = found[0]
    value = document[key]
    if key == "dataframe_split":
        if not isinstance(value, dict):
            raise bad_request("'dataframe_split' must be an object with 'columns' and 'data'.")
        columns, data = value.get("columns"), value.get("data")
        return Decoded(runtime.from_split(columns, data, key), split_inputs(columns, data)), proba
    if key == "dataframe_records":
        return Decoded(runtime.from_rows(value, key), value), proba
    if isinstance(value, dict):
        listed = {k: _listed(v) for k, v in value.items()}
        return Decoded(runtime.from_columns(listed, key), listed), proba
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return Decoded(runtime.from_rows(value, key), value), proba
    if isinstance(value, list) and value and isinstance(value[0], list):
        return Decoded(runtime.from_tensor(value, None, key)), proba
    raise bad_request(
        f"{key!r} must be a list of row objects, an object of column lists or a 2-D list of rows "
        f"in the order {list(runtime.columns)[:5]}...."
    )


def _listed(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


def _csv(runtime: ModelRuntime, body: bytes) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("The CSV body is not valid UTF-8.") from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
        rows = [row for row in reader if row]
    except (StopIteration, csv.Error):
        raise bad_request("The CSV body needs a header row and at least one data row.") from None
    if not rows:
        raise bad_request("The CSV body needs a header row and at least one data row.")
    types = dict(zip(runtime.columns, runtime.types, strict=True))
    records = []
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise bad_request(
                f"CSV line {number} has {len(row)} fields; the header has {len(header)}."
            )
        records.append({c: _cell(v, types.get(c)) for c, v in zip(header, row, strict=True)})
    return records


def _cell(value: str, kind: str | None) -> Any:
    if value == "":
        return None
    if kind in ("integer", "float", "boolean"):
        if kind == "boolean" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        try:
            number = float(value)
        except ValueError:
            return value  # the runtime names the column and the wrong type
        return int(number) if kind == "integer" and number.is_integer() else number
    return value


def encode_invocations(scores: Scores, proba: bool) -> dict[str, Any]:
    if proba:
        if scores.proba is None:
            raise bad_request("This model has no probabilities (it is not a classifier).")
        return {"predictions": scores.proba.tolist()}
    return {"predictions": scores.labels.tolist()}
