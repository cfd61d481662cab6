"""Argument checks of deployments, shared by the service and its remote twin.

Each check names the argument, the constraint and the value it got, and returns the value in the
form stored. A decision policy is checked by ``loopline.policies.DecisionPolicy`` when that is
installed; a policy it refuses is an InvalidArgumentError whose ``field`` is the policy's path.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from loopline.entities.deployments import CHALLENGER_MODES, LOGGING_MODES, Challenger
from loopline.errors import InvalidArgumentError, LooplineError
from loopline.tracking.validation import check_string_map

__all__ = [
    "MAX_NAME_LENGTH",
    "check_actor",
    "check_challenger",
    "check_deployment_name",
    "check_logging",
    "check_optional_text",
    "check_policy",
    "check_reason",
    "check_revision",
    "check_tags",
    "invalid",
]

MAX_NAME_LENGTH = 128
_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_STICKY_RE = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def invalid(argument: str, where: str, constraint: str, value: object) -> InvalidArgumentError:
    """The one message shape: argument, method, constraint, value."""
    return InvalidArgumentError(
        f"The {argument!r} parameter of DeploymentService.{where} must be {constraint}. "
        f"Got {str(value)[:80]!r} instead.",
        field=argument,
    )


def check_deployment_name(name: object, where: str = "create_deployment") -> str:
    """1 to 128 letters, digits, ``-``, ``_`` or ``.``, not only dots: one URL path segment.

    Examples:
        >>> check_deployment_name("churn-api.v2")
        'churn-api.v2'
        >>> check_deployment_name("churn/api")
        Traceback (most recent call last):
        ...
        loopline.errors.InvalidArgumentError: The 'name' parameter of DeploymentService.create_deployment must be 1 to 128 letters, digits, '-', '_' or '.', not only dots. Got 'churn/api' instead.
    """  # noqa: E501
    if not isinstance(name, str) or _NAME_RE.fullmatch(name) is None or not name.strip("."):
        raise invalid(
            "name", where, "1 to 128 letters, digits, '-', '_' or '.', not only dots", name
        )
    return name


def check_actor(actor: object, where: str) -> str:
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 256:
        raise invalid("actor", where, "a non-empty string of at most 256 characters", actor)
    return actor


def check_optional_text(argument: str, value: object, where: str) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > 10_000):
        raise invalid(argument, where, "a string of at most 10000 characters or None", value)
    return value


def check_reason(reason: object, where: str, *, required: bool = False) -> str | None:
    if reason is None and not required:
        return None
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 10_000:
        raise invalid("reason", where, "a non-blank string of at most 10000 characters", reason)
    return reason


def check_revision(argument: str, value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
        raise invalid(argument, where, "None or an integer from 1 to 2147483647", value)
    return value


def check_logging(logging: object, where: str) -> str:
    if not isinstance(logging, str) or logging not in LOGGING_MODES:
        raise invalid("logging", where, f"one of {', '.join(LOGGING_MODES)}", logging)
    return logging


def check_tags(tags: object) -> dict[str, str]:
    if tags is not None and (
        not isinstance(tags, Mapping) or not all(isinstance(v, str) for v in tags.values())
    ):
        raise invalid("tags", "create_deployment", "a mapping of strings to strings or None", tags)
    return check_string_map(tags, "tag")


def check_model_uri_text(argument: str, uri: object, where: str) -> str:
    if not isinstance(uri, str) or not uri.startswith("models:/") or len(uri) > 512:
        raise invalid(
            argument, where,
            "a model URI: 'models:/<name>@<alias>', 'models:/<name>/<version>' or "
            "'models:/<name>/latest'", uri,
        )  # fmt: skip
    return uri


def check_challenger(challenger: object, where: str) -> Challenger | None:
    """A :class:`Challenger`, or a mapping with its fields; canary needs a share in (0, 1).

    Examples:
        >>> check_challenger({"model_uri": "models:/churn@challenger", "mode": "shadow"}, "x")
        Challenger(model_uri='models:/churn@challenger', mode='shadow', share=None, sticky_key=None)
    """
    if challenger is None:
        return None
    if isinstance(challenger, Challenger):
        challenger = challenger.to_dict()
    fields = {"model_uri", "mode", "share", "sticky_key"}
    if not isinstance(challenger, Mapping) or not set(challenger) <= fields:
        raise invalid(
            "challenger", where,
            "None, a Challenger or a mapping of model_uri, mode, share and sticky_key", challenger,
        )  # fmt: skip
    uri = check_model_uri_text("challenger.model_uri", challenger.get("model_uri"), where)
    mode = challenger.get("mode")
    if mode not in CHALLENGER_MODES:
        raise invalid("challenger.mode", where, f"one of {', '.join(CHALLENGER_MODES)}", mode)
    share = challenger.get("share")
    if mode == "canary":
        if (
            isinstance(share, bool)
            or not isinstance(share, int | float)
            or not math.isfinite(share)
            or not 0 < share < 1
        ):
            raise invalid("challenger.share", where, "a number between 0 and 1 (exclusive)", share)
        share = float(share)
    elif share is not None:
        raise invalid("challenger.share", where, "None for a shadow challenger", share)
    sticky = challenger.get("sticky_key")
    if sticky is not None and (not isinstance(sticky, str) or _STICKY_RE.fullmatch(sticky) is None):
        raise invalid(
            "challenger.sticky_key", where,
            "None or an input field or header name (1 to 128 letters, digits, '-', '_', '.')",
            sticky,
        )  # fmt: skip
    return Challenger(uri, str(mode), share, sticky)


def _decision_policy_class() -> Any:
    """``loopline.policies.DecisionPolicy`` when that is installed, else ``None``."""
    try:
        return getattr(importlib.import_module("loopline.policies"), "DecisionPolicy", None)
    except ImportError:
        return None


def check_policy(policy: object, where: str) -> dict[str, Any] | None:
    """A decision policy as the JSON mapping stored: ``DecisionPolicy.to_dict()`` of it.

    Accepts ``None``, a mapping, or a ``DecisionPolicy`` (anything with ``to_dict``).
    """
    if policy is None:
        return None
    if not isinstance(policy, Mapping) and callable(getattr(policy, "to_dict", None)):
        policy = policy.to_dict()  # type: ignore[attr-defined]
    if not isinstance(policy, Mapping):
        raise invalid("policy", where, "None, a DecisionPolicy or a JSON object", policy)
    try:
        data: dict[str, Any] = json.loads(json.dumps(dict(policy), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise invalid("policy", where, f"a JSON object ({exc})", policy) from None
    cls = _decision_policy_class()
    if cls is None:
        return data
    try:
        parsed = cls.from_dict(data)
        checked: dict[str, Any] = json.loads(json.dumps(parsed.to_dict(), allow_nan=False))
    except LooplineError as exc:
        path = exc.details.get("field") or exc.details.get("path")
        field = f"policy.{path}" if path else "policy"
        raise InvalidArgumentError(
            f"The 'policy' parameter of DeploymentService.{where} is not a valid decision "
            f"policy: {exc.message}",
            field=field,
        ) from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise InvalidArgumentError(
            f"The 'policy' parameter of DeploymentService.{where} is not a valid decision "
            f"policy: {exc}",
            field="policy",
        ) from None
    return checked
