"""Argument checks of the release, shared by the service and its remote twin.

Each check names the argument, the constraint and the value it got, and returns the value as
used; the ones that take ``where`` name the :class:`~loopline.release.ReleaseService` method in
their message, so the remote client fails with the local message before anything is sent.

Examples:
    >>> check_release_alias("champion"), check_actor("risk", "approve")
    ('champion', 'risk')
    >>> check_required_text("reason", "", "promote")
    Traceback (most recent call last):
    ...
    loopline.errors.InvalidArgumentError: The 'reason' parameter of ReleaseService.promote must be a non-empty string of at most 4096 characters. Got '' instead.
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Mapping

from loopline.entities import ReleasePolicy
from loopline.entities.models import RELEASE_ALIASES
from loopline.errors import InvalidArgumentError

__all__ = [
    "check_actor",
    "check_evaluated_uri",
    "check_optional_reason",
    "check_policy",
    "check_release_alias",
    "check_required_text",
]


def check_required_text(argument: str, value: object, where: str) -> str:
    """A non-blank string of at most 4096 characters (a reason, a target column)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 4096:
        raise InvalidArgumentError(
            f"The {argument!r} parameter of ReleaseService.{where} must be a non-empty string "
            f"of at most 4096 characters. Got {str(value)[:80]!r} instead.",
            field=argument,
        )
    return value


def check_optional_reason(argument: str, value: object, where: str) -> str | None:
    """``None``, or a reason as :func:`check_required_text` accepts it (``validate``'s reason).

    Examples:
        >>> check_optional_reason("reason", None, "validate") is None
        True
    """
    return None if value is None else check_required_text(argument, value, where)


def check_actor(actor: object, where: str) -> str:
    """Who makes a change: a non-blank string of at most 256 characters."""
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 256:
        raise InvalidArgumentError(
            f"The 'actor' parameter of ReleaseService.{where} must be a non-empty string of at "
            f"most 256 characters. Got {str(actor)[:80]!r} instead.",
            field="actor",
        )
    return actor


def check_release_alias(alias: object) -> str:
    """One of the release aliases (``champion``, ``challenger``, ``shadow``)."""
    if alias not in RELEASE_ALIASES:
        raise InvalidArgumentError(
            f"The 'alias' parameter must be one of {list(RELEASE_ALIASES)}. "
            f"Got {str(alias)[:80]!r} instead.",
            field="alias",
        )
    return str(alias)


def check_evaluated_uri(model_uri: object) -> str:
    """A ``models:/`` URI: only registered versions have stored evaluations.

    Examples:
        >>> check_evaluated_uri("runs:/abc/model")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        loopline.errors.InvalidArgumentError: Only registered versions have stored evaluations: ...
    """
    if not isinstance(model_uri, str) or not model_uri.startswith("models:/"):
        raise InvalidArgumentError(
            "Only registered versions have stored evaluations: 'model_uri' must be "
            "models:/<name>/<version> or models:/<name>@<alias>. "
            f"Got {str(model_uri)[:120]!r} instead.",
            field="model_uri",
        )
    return model_uri


def check_policy(policy: object) -> ReleasePolicy:
    """A :class:`ReleasePolicy`, or the mapping of its fields read into one.

    Examples:
        >>> check_policy({"required_approvals": 2}).required_approvals
        2
    """
    if isinstance(policy, ReleasePolicy):
        return policy
    if not isinstance(policy, Mapping):
        raise InvalidArgumentError(
            "The 'policy' parameter of ReleaseService.set_policy must be a ReleasePolicy "
            f"or a mapping of its fields. Got {type(policy).__name__} instead.",
            field="policy",
        )
    return ReleasePolicy.from_dict(policy)
