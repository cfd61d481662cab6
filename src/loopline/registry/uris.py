"""Resolving model URIs: ``models:/name/3``, ``models:/name@alias`` and ``models:/name/latest``.

The version form is tried first (the text after the last ``/`` is a number or ``latest``), so
model names may themselves contain ``/`` or ``@``. A URI that is not of these forms is an
:class:`~loopline.errors.InvalidArgumentError` saying why (field ``uri``); one naming a model,
version or alias that does not exist is the store's :class:`~loopline.errors.NotFoundError`.

Examples:
    >>> import tempfile
    >>> from loopline.store import SqlTrackingStore
    >>> store = SqlTrackingStore(f"sqlite:///{tempfile.mkdtemp()}/u.db")
    >>> resolve_model_uri(store, "models:/churn")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    loopline.errors.InvalidArgumentError: The model URI 'models:/churn' is malformed: it names ...
"""

from __future__ import annotations

from loopline.entities import ModelVersion
from loopline.errors import InvalidArgumentError
from loopline.registry.checks import MAX_VERSION, check_alias, check_model_name, check_version
from loopline.store import SqlTrackingStore

__all__ = ["resolve_model_uri"]

_SCHEME = "models:/"


def resolve_model_uri(store: SqlTrackingStore, uri: str) -> ModelVersion:
    """The version ``uri`` names, read from ``store``."""
    if not isinstance(uri, str) or not uri.startswith(_SCHEME):
        raise InvalidArgumentError(
            "A model URI must be 'models:/<name>/<version>', 'models:/<name>/latest' or "
            f"'models:/<name>@<alias>'. Got {str(uri)[:120]!r} instead.",
            field="uri",
        )
    rest = uri[len(_SCHEME) :]
    head, slash, tail = rest.rpartition("/")
    if slash and head and (tail == "latest" or tail.isdecimal()):
        name = _uri_name(head, uri)
        if tail == "latest":
            return store.get_latest_model_version(name)
        try:
            return store.get_model_version(name, check_version(int(tail)))
        except InvalidArgumentError:
            why = f"the version {tail!r} is not from 1 to {MAX_VERSION}"
            raise _malformed(uri, why) from None
    head, at, tail = rest.rpartition("@")
    if at and head:
        try:
            alias = check_alias(tail)
        except InvalidArgumentError as exc:
            raise _malformed(uri, exc.message) from None
        return store.get_model_version_by_alias(_uri_name(head, uri), alias)
    raise _malformed(uri, "it names no version: end it with '/<version>', '/latest' "
                          "or '@<alias>'")  # fmt: skip


def _uri_name(name: str, uri: str) -> str:
    try:
        return check_model_name(name)
    except InvalidArgumentError as exc:
        raise _malformed(uri, exc.message) from None


def _malformed(uri: str, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"The model URI {uri[:200]!r} is malformed: {why}", field="uri")
