"""One error tree for all of loopline.

Every error loopline raises on purpose derives from :class:`LooplineError` and carries a stable
``code``. The server maps codes to HTTP statuses (and only the server does); the remote client maps
the code in an error envelope back to the same class, so callers see the same exception whether
they talk to the local store or to a server.

::

    LooplineError                                code INTERNAL
    ├── InvalidArgumentError (ValueError)        code INVALID_ARGUMENT
    │   ├── InvalidFilterError                   code INVALID_FILTER
    │   └── UnsafePathError                      code UNSAFE_PATH
    ├── NotFoundError (LookupError)              code NOT_FOUND
    ├── AlreadyExistsError                       code ALREADY_EXISTS
    ├── ConflictError                            code CONFLICT
    ├── InvalidStateError                        code INVALID_STATE
    │   └── ValidationFailedError                code VALIDATION_FAILED
    ├── UnauthenticatedError                     code UNAUTHENTICATED
    ├── PermissionDeniedError (PermissionError)  code PERMISSION_DENIED
    ├── StorageError (OSError)                   code STORAGE_ERROR
    ├── ConnectionFailedError (ConnectionError)  code CONNECTION_FAILED
    ├── MissingDependencyError (ImportError)     code MISSING_DEPENDENCY
    └── LineageDeliveryError                     code LINEAGE_DELIVERY_FAILED
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AlreadyExistsError",
    "ConflictError",
    "ConnectionFailedError",
    "InvalidArgumentError",
    "InvalidFilterError",
    "InvalidStateError",
    "LineageDeliveryError",
    "LooplineError",
    "MissingDependencyError",
    "NotFoundError",
    "PermissionDeniedError",
    "StorageError",
    "UnauthenticatedError",
    "UnsafePathError",
    "ValidationFailedError",
    "error_class_for_code",
    "restore_error",
]


class LooplineError(Exception):
    """Base of every error loopline raises on purpose."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def to_dict(self) -> dict[str, Any]:
        """The JSON error envelope body: ``{"code", "message", "details"}``."""
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidArgumentError(LooplineError, ValueError):
    """An argument has the wrong type, shape or value."""

    code = "INVALID_ARGUMENT"


class InvalidFilterError(InvalidArgumentError):
    """A search filter or order-by expression does not parse; points at the offending token."""

    code = "INVALID_FILTER"

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        token: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, position=position, token=token, **details)
        self.position = position
        self.token = token


class UnsafePathError(InvalidArgumentError):
    """A user-given path is absolute, climbs out with ``..`` or escapes through a symlink."""

    code = "UNSAFE_PATH"


class NotFoundError(LooplineError, LookupError):
    """The named object does not exist."""

    code = "NOT_FOUND"


class AlreadyExistsError(LooplineError):
    """An object with that name already exists."""

    code = "ALREADY_EXISTS"


class ConflictError(LooplineError):
    """The request contradicts what is stored (for example a param re-logged with a new value)."""

    code = "CONFLICT"


class InvalidStateError(LooplineError):
    """The object is in a state that does not allow the operation (for example a deleted run)."""

    code = "INVALID_STATE"


class ValidationFailedError(InvalidStateError):
    """A dataset version failed a blocking check; whatever was about to consume it stops."""

    code = "VALIDATION_FAILED"


class UnauthenticatedError(LooplineError):
    """The request carries no valid API token (missing, unknown, revoked or expired)."""

    code = "UNAUTHENTICATED"


class PermissionDeniedError(LooplineError, PermissionError):
    """The caller is known but may not do this: a too-low role, or separation of duties."""

    code = "PERMISSION_DENIED"


class StorageError(LooplineError, OSError):
    """The metadata or artifact store failed."""

    code = "STORAGE_ERROR"


class ConnectionFailedError(LooplineError, ConnectionError):
    """The loopline server could not be reached or answered with something that is not loopline."""

    code = "CONNECTION_FAILED"


class MissingDependencyError(LooplineError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""

    code = "MISSING_DEPENDENCY"


class LineageDeliveryError(LooplineError):
    """An OpenLineage event was not delivered to its endpoint; says what to do with it.

    ``retryable``: sending it again soon may succeed (a refused connection, a timeout, 429,
    503...). ``keep``: the event should wait in the outbox rather than be dropped; true when it
    is retryable, and also for answers that are not this event's fault, such as a credential
    refused (401, 403). ``retry_after``: the wait in seconds the endpoint asked for, if any.
    Not a :class:`ConnectionFailedError`: that one means the loopline server is unreachable,
    and callers keep data for later on it, whereas some delivery failures refuse the event.
    """

    code = "LINEAGE_DELIVERY_FAILED"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        keep: bool | None = None,
        retry_after: float | None = None,
        **details: Any,
    ) -> None:
        keep = retryable if keep is None else keep
        super().__init__(
            message, retryable=retryable, keep=keep, retry_after=retry_after, **details
        )

    @property
    def retryable(self) -> bool:
        """Whether sending the event again soon may succeed."""
        return bool(self.details.get("retryable", True))

    @property
    def keep(self) -> bool:
        """Whether the event should wait in the outbox (retryable, or not the event's fault)."""
        return bool(self.details.get("keep", self.retryable))

    @property
    def retry_after(self) -> float | None:
        """The wait in seconds the endpoint asked for (``Retry-After``), if any."""
        wait = self.details.get("retry_after")
        return None if wait is None else float(wait)


_BY_CODE: dict[str, type[LooplineError]] = {
    cls.code: cls
    for cls in (
        LooplineError,
        InvalidArgumentError,
        InvalidFilterError,
        UnsafePathError,
        NotFoundError,
        AlreadyExistsError,
        ConflictError,
        InvalidStateError,
        ValidationFailedError,
        UnauthenticatedError,
        PermissionDeniedError,
        StorageError,
        ConnectionFailedError,
        MissingDependencyError,
        LineageDeliveryError,
    )
}


def error_class_for_code(code: str) -> type[LooplineError]:
    """The error class for a stable code; unknown codes map to :class:`LooplineError`."""
    return _BY_CODE.get(code, LooplineError)


def restore_error(payload: dict[str, Any]) -> LooplineError:
    """Rebuild the exception a server reported in its error envelope."""
    cls = error_class_for_code(str(payload.get("code", "INTERNAL")))
    message = str(payload.get("message", "unknown error"))
    details = payload.get("details") or {}
    if cls is InvalidFilterError:
        rest = {k: val for k, val in details.items() if k not in ("position", "token")}
        return InvalidFilterError(
            message, position=details.get("position"), token=details.get("token"), **rest
        )
    err = cls.__new__(cls)
    LooplineError.__init__(err, message, **details)
    return err
