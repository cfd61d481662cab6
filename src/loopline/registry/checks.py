"""Argument checks of the registry, shared by the service and its remote twin.

Each check names the argument, the constraint and the value it got, and returns the value as
stored; the ones that take ``where`` name the :class:`~loopline.registry.RegistryService`
method in their message, so the remote client fails with the local message before anything is
sent.

Examples:
    >>> check_model_name("team/churn"), check_version(3), check_alias("stable")
    ('team/churn', 3, 'stable')
    >>> check_text("actor", " ", "set_alias", 256)
    Traceback (most recent call last):
    ...
    loopline.errors.InvalidArgumentError: The 'actor' parameter of RegistryService.set_alias must be a non-empty string of at most 256. Got ' ' instead.
"""  # noqa: E501

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from loopline.entities.models import RELEASE_ALIASES
from loopline.errors import InvalidArgumentError, InvalidStateError
from loopline.tracking.validation import check_name

__all__ = [
    "DIGEST_RE",
    "MAX_MODEL_NAME_LENGTH",
    "MAX_VERSION",
    "check_alias",
    "check_digest",
    "check_free_alias",
    "check_model_name",
    "check_optional_text",
    "check_signature",
    "check_text",
    "check_version",
    "invalid",
]

MAX_MODEL_NAME_LENGTH = 180
MAX_VERSION = 2**31 - 1
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
"""A logged model's digest: ``sha256:`` and 64 lower-case hex digits."""
_ALIAS_RE = re.compile(r"[a-z0-9_-]{1,64}")
_RESERVED_PARTS = ("versions", "aliases", "policy")


def invalid(argument: str, where: str, constraint: str, value: object) -> InvalidArgumentError:
    """The one message shape: argument, ``RegistryService`` method, constraint, value.

    Examples:
        >>> invalid("flavor", "create_model_version", "a known flavor", "x").message
        "The 'flavor' parameter of RegistryService.create_model_version must be a known flavor. Got 'x' instead."
    """  # noqa: E501
    return InvalidArgumentError(
        f"The {argument!r} parameter of RegistryService.{where} must be {constraint}. "
        f"Got {str(value)[:80]!r} instead.",
        field=argument,
    )


def check_text(argument: str, value: object, where: str, max_length: int) -> str:
    """A non-blank string of at most ``max_length`` characters (an actor, a run id, ...)."""
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise invalid(argument, where, f"a non-empty string of at most {max_length}", value)
    return value


def check_optional_text(argument: str, value: object, where: str) -> str | None:
    """A string or ``None`` (a description, a filter on names).

    Examples:
        >>> check_optional_text("description", None, "update_registered_model") is None
        True
    """
    if value is not None and not isinstance(value, str):
        raise invalid(argument, where, "a string or None", value)
    return value


def check_model_name(name: object) -> str:
    """A non-blank printable name of at most 180 characters; ``/`` allowed (``team/churn``).

    So that REST paths stay unambiguous, no ``/``-separated part after the first may be
    ``versions``, ``aliases`` or ``policy``, and ``resolve`` is not a name.
    """
    checked = check_name(name, "registered model", max_length=MAX_MODEL_NAME_LENGTH)
    if checked == "resolve" or any(p in _RESERVED_PARTS for p in checked.split("/")[1:]):
        raise InvalidArgumentError(
            "A registered model name may not be 'resolve' nor have a '/'-separated part "
            f"'versions', 'aliases' or 'policy' after its first. Got {checked[:80]!r} instead.",
            field="name",
        )
    return checked


def check_alias(alias: object) -> str:
    """Lower-case letters, digits, ``-`` and ``_``; not a number and not ``latest``."""
    if (
        not isinstance(alias, str)
        or _ALIAS_RE.fullmatch(alias) is None
        or alias.isdigit()
        or alias == "latest"
    ):
        raise InvalidArgumentError(
            "An alias must be 1 to 64 lower-case letters, digits, '-' or '_', not a number and "
            f"not 'latest'. Got {str(alias)[:80]!r} instead.",
            field="alias",
        )
    return alias


def check_free_alias(alias: object, where: str) -> str:
    """An alias :func:`check_alias` accepts that is not a release alias (InvalidStateError)."""
    alias = check_alias(alias)
    if alias in RELEASE_ALIASES:
        raise InvalidStateError(
            f"The alias {alias!r} is moved by the release process only (RegistryService.{where} "
            f"refuses {', '.join(RELEASE_ALIASES)}); move it with `loopline models promote` or "
            "`rollback` (Client.release.promote / rollback), which check the release first.",
            alias=alias,
        )
    return alias


def check_digest(digest: object, where: str) -> str:
    """``sha256:`` and 64 lower-case hex digits: the digest of a logged model's files."""
    if not isinstance(digest, str) or DIGEST_RE.fullmatch(digest) is None:
        raise invalid("digest", where, "'sha256:' and 64 lower-case hex digits", digest)
    return digest


def check_version(version: object) -> int:
    """A version number: an integer from 1 to 2**31 - 1 (not a bool)."""
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise InvalidArgumentError(
            f"A model version must be an integer from 1 to {MAX_VERSION}. "
            f"Got {str(version)[:80]!r} instead.",
            field="version",
        )
    return version


def check_signature(value: object) -> dict[str, Any] | None:
    """A version's signature: ``None`` or a JSON object (copied through JSON, no NaN).

    Examples:
        >>> check_signature({"inputs": [{"name": "age", "type": "double"}]})
        {'inputs': [{'name': 'age', 'type': 'double'}]}
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        try:
            return dict(json.loads(json.dumps(dict(value), allow_nan=False)))
        except (TypeError, ValueError):
            pass
    raise invalid("signature", "create_model_version", "a JSON object or None", value)
