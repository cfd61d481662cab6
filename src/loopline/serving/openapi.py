"""The OpenAPI document of the serving app (hand-written: the app is raw ASGI)."""

from __future__ import annotations

from typing import Any

from loopline import __version__

__all__ = ["document"]

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}
_VALUE = {"oneOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}]}
_TENSOR = {
    "type": "object",
    "required": ["name", "shape", "datatype", "data"],
    "properties": {
        "name": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer"}},
        "datatype": {"type": "string", "enum": ["FP64", "FP32", "INT64", "INT32", "BOOL", "BYTES"]},
        "parameters": {"type": "object"},
        "data": {"type": "array", "items": {}},
    },
}
_INFER = {
    "type": "object",
    "required": ["inputs"],
    "properties": {
        "id": {"type": "string"},
        "parameters": {"type": "object"},
        "inputs": {"type": "array", "items": _TENSOR},
        "outputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}},
            },
        },
    },
}
_PREDICT = {
    "type": "object",
    "properties": {
        "rows": {"type": "array", "items": {"type": "object", "additionalProperties": _VALUE}},
        "columns": {"type": "array", "items": {"type": "string"}},
        "data": {"type": "array", "items": {"type": "array", "items": _VALUE}},
        "request_keys": {"type": "array", "items": {"type": "string"}},
        "explain": {"type": "boolean"},
        "explainer": {"type": "string", "enum": ["builtin", "shap"], "default": "builtin"},
    },
}
_OUTCOMES = {
    "type": "array",
    "maxItems": 10_000,
    "items": {
        "type": "object",
        "required": ["prediction_id"],
        "additionalProperties": False,
        "properties": {
            "prediction_id": {"type": "string", "minLength": 1, "maxLength": 200},
            "timestamp": {"type": "integer", "minimum": 0, "nullable": True},
            "label": {**_VALUE, "nullable": True},
            "value": {"type": "number", "nullable": True},
            "accepted": {"type": "boolean", "nullable": True},
            "source": {"type": "string", "maxLength": 200, "nullable": True},
        },
    },
}
_INVOCATIONS = {
    "type": "object",
    "properties": {
        "dataframe_split": {"type": "object"},
        "dataframe_records": {"type": "array", "items": {"type": "object"}},
        "instances": {"type": "array"},
        "inputs": {},
        "params": {"type": "object"},
    },
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json(_ERROR, "Error") for code in codes}


def _name(kind: str = "name") -> dict[str, Any]:
    return {"name": kind, "in": "path", "required": True, "schema": {"type": "string"}}


def document() -> dict[str, Any]:
    """The OpenAPI 3.0 document of every serving route."""
    any_object = {"type": "object"}
    model = "/v2/models/{name}"
    version = "/v2/models/{name}/versions/{version}"
    paths: dict[str, Any] = {
        "/v2/health/live": {"get": {"responses": {"200": _json(any_object)}}},
        "/v2/health/ready": {
            "get": {"responses": {"200": _json(any_object), "503": _json(any_object)}}
        },
        "/v2": {"get": {"responses": {"200": _json(any_object)}}},
        "/ping": {
            "get": {
                "responses": {
                    "200": {"description": "Loaded"},
                    "404": {"description": "Not loaded"},
                }
            }
        },
        "/version": {"get": {"responses": {"200": {"description": "loopline's version"}}}},
        "/invocations": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {"schema": _INVOCATIONS},
                        "text/csv": {"schema": {"type": "string"}},
                    }
                },
                "responses": {
                    "200": _json(any_object),
                    "400": _json(any_object),
                    "415": {"description": "Unsupported content type"},
                },
            }
        },
        "/outcomes": {
            "post": {
                "requestBody": {"content": {"application/json": {"schema": _OUTCOMES}}},
                "responses": {"200": _json(any_object), **_errors(400, 404, 422, 503)},
            }
        },
        "/deployments/{name}/predict": {
            "post": {
                "parameters": [_name()],
                "requestBody": {"content": {"application/json": {"schema": _PREDICT}}},
                "responses": {"200": _json(any_object), **_errors(400, 404, 503)},
            }
        },
    }
    for base, parameters in ((model, [_name()]), (version, [_name(), _name("version")])):
        paths[base] = {
            "get": {
                "parameters": parameters,
                "responses": {"200": _json(any_object), **_errors(404, 503)},
            }
        }
        paths[f"{base}/ready"] = {
            "get": {
                "parameters": parameters,
                "responses": {"200": _json(any_object), **_errors(400, 404)},
            }
        }
        paths[f"{base}/infer"] = {
            "post": {
                "parameters": parameters,
                "requestBody": {"content": {"application/json": {"schema": _INFER}}},
                "responses": {"200": _json(any_object), **_errors(400, 404, 503)},
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": "loopline serving", "version": __version__},
        "paths": paths,
    }
