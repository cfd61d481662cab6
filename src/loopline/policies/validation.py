"""Validation of a declaration into its canonical dict: one pass, errors name the field path.

The canonical form is what ``to_dict()`` returns and what ``version`` hashes: shorthand expanded
(``segment: vip`` becomes ``segment: {"==": "vip"}``), numbers that are thresholds made floats,
defaults filled in (the control group's salt), absent parts left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from loopline.policies.conditions import invalid, normalize_condition
from loopline.policies.outliers import normalize_outliers

__all__ = ["SCORE_SPEC", "normalize_policy"]

PARTS = ("thresholds", "routing", "next_best_action", "outliers", "control")
TOP_KEYS = ("name", "description", "score", "inputs", *PARTS)
SCORE_SPEC = re.compile(r"^(?P<output>[A-Za-z_][\w.-]*)(?:\[(?P<key>[^\[\]]+)\])?$")
DEFAULT_SALT = "loopline"


def _keys(spec: Any, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(spec, Mapping):
        raise invalid(path, f"expected a mapping, got {spec!r}")
    for key in spec:
        if key not in allowed:
            raise invalid(f"{path}.{key}", f"unknown key (use {', '.join(allowed)})")
    return spec


def _name(value: Any, path: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid(path, f"expected a non-empty name, got {value!r}")
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(path, f"expected a finite number, got {value!r}")
    return float(value)


def normalize_policy(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical declaration; raises InvalidArgumentError naming the first bad path."""
    for key in spec:
        if key not in TOP_KEYS:
            raise invalid(str(key), f"unknown key (use {', '.join(TOP_KEYS)})")
    out: dict[str, Any] = {}
    for key in ("name", "description"):
        if spec.get(key) is not None:
            out[key] = _name(spec[key], key)
    out["score"] = _score(spec.get("score", "auto"))
    fields: frozenset[str] | None = None
    if spec.get("inputs") is not None:
        columns = spec["inputs"]
        if not isinstance(columns, list | tuple) or not all(isinstance(c, str) for c in columns):
            raise invalid("inputs", f"expected a list of column names, got {columns!r}")
        fields = frozenset(columns)
        out["inputs"] = sorted(fields)
    if spec.get("thresholds") is not None:
        out["thresholds"] = _thresholds(spec["thresholds"], "thresholds")
    if spec.get("routing") is not None:
        out["routing"] = _routing(spec["routing"], "routing", fields)
    if spec.get("next_best_action") is not None:
        out["next_best_action"] = _nba(spec["next_best_action"], "next_best_action", fields)
    if spec.get("outliers") is not None:
        out["outliers"] = normalize_outliers(spec["outliers"], "outliers", fields)
    if spec.get("control") is not None:
        out["control"] = _control(spec["control"], "control", out.get("name"))
    return out


def _score(value: Any) -> str:
    if not isinstance(value, str) or not SCORE_SPEC.match(value):
        raise invalid(
            "score", f"expected 'auto', an output name or 'proba[<index or class>]', got {value!r}"
        )
    return value


def _thresholds(spec: Any, path: str) -> dict[str, Any]:
    spec = _keys(spec, path, ("bands", "default"))
    bands = spec.get("bands") or []
    if not isinstance(bands, list | tuple):
        raise invalid(f"{path}.bands", f"expected a list of {{min, action}}, got {bands!r}")
    out: list[dict[str, Any]] = []
    for i, band in enumerate(bands):
        where = f"{path}.bands[{i}]"
        band = _keys(band, where, ("min", "action"))
        if "min" not in band:
            raise invalid(f"{where}.min", "required: the lowest score of the band")
        low = _number(band["min"], f"{where}.min")
        if out and low >= out[-1]["min"]:
            raise invalid(
                f"{where}.min",
                f"{low} is not below the band before it ({out[-1]['min']}); "
                "list bands from the highest min down",
            )
        out.append({"min": low, "action": _name(band.get("action"), f"{where}.action")})
    default = _name(spec.get("default"), f"{path}.default", optional=True)
    if not out and default is None:
        raise invalid(path, "give at least one band or a default")
    return {"bands": out, "default": default}


def _routing(spec: Any, path: str, fields: frozenset[str] | None) -> dict[str, Any]:
    spec = _keys(spec, path, ("rules", "default"))
    rules = spec.get("rules") or []
    if not isinstance(rules, list | tuple):
        raise invalid(f"{path}.rules", f"expected a list of {{when, queue}}, got {rules!r}")
    out: list[dict[str, Any]] = []
    for i, rule in enumerate(rules):
        where = f"{path}.rules[{i}]"
        rule = _keys(rule, where, ("name", "when", "queue"))
        if "when" not in rule:
            raise invalid(f"{where}.when", "required: the condition of the rule")
        out.append(
            {
                "name": _name(rule.get("name"), f"{where}.name", optional=True),
                "when": normalize_condition(rule["when"], f"{where}.when", fields),
                "queue": _name(rule.get("queue"), f"{where}.queue"),
            }
        )
    default = _name(spec.get("default"), f"{path}.default", optional=True)
    if not out and default is None:
        raise invalid(path, "give at least one rule or a default queue")
    return {"rules": out, "default": default}


def _nba(spec: Any, path: str, fields: frozenset[str] | None) -> dict[str, Any]:
    spec = _keys(spec, path, ("actions", "top_k", "default"))
    actions = spec.get("actions")
    if not isinstance(actions, list | tuple) or not actions:
        raise invalid(f"{path}.actions", f"expected a non-empty list of actions, got {actions!r}")
    out: list[dict[str, Any]] = []
    for i, action in enumerate(actions):
        where = f"{path}.actions[{i}]"
        action = _keys(action, where, ("name", "value", "when", "class"))
        name = _name(action.get("name"), f"{where}.name")
        if any(a["name"] == name for a in out):
            raise invalid(f"{where}.name", f"{name!r} is listed twice")
        value = action.get("value")
        if value is None:
            raise invalid(f"{where}.value", "required: a number or an input field name")
        if isinstance(value, str):
            if fields is not None and value not in fields:
                raise invalid(
                    f"{where}.value",
                    f"unknown field {value!r} (inputs: {', '.join(sorted(fields))})",
                )
        else:
            value = _number(value, f"{where}.value")
        model_class = action.get("class")
        if model_class is not None and (
            isinstance(model_class, bool) or not isinstance(model_class, int | str)
        ):
            raise invalid(f"{where}.class", f"expected a class index or name, got {model_class!r}")
        when = action.get("when")
        out.append(
            {
                "name": name,
                "value": value,
                "when": normalize_condition(when, f"{where}.when", fields) if when else None,
                "class": model_class,
            }
        )
    top_k = spec.get("top_k", 1)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise invalid(f"{path}.top_k", f"expected an integer >= 1, got {top_k!r}")
    default = _name(spec.get("default"), f"{path}.default", optional=True)
    return {"actions": out, "top_k": min(top_k, len(out)), "default": default}


def _control(spec: Any, path: str, policy_name: str | None) -> dict[str, Any]:
    spec = _keys(spec, path, ("share", "action", "salt"))
    share = _number(spec.get("share"), f"{path}.share")
    if not 0.0 <= share <= 1.0:
        raise invalid(f"{path}.share", f"expected a share in [0, 1], got {share!r}")
    salt = _name(spec.get("salt"), f"{path}.salt", optional=True)
    return {
        "share": share,
        "action": _name(spec.get("action"), f"{path}.action"),
        "salt": salt or policy_name or DEFAULT_SALT,
    }
