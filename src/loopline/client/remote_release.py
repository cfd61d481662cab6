"""The remote release: :class:`~loopline.release.service.ReleaseService`, over HTTP.

Same methods, arguments, return types and exceptions as the local service. The ``actor`` of a
change travels as the ``X-Loopline-Actor`` header: the server records it while auth is off, and
the token's user instead once auth is on (so separation of duties holds only with auth on).

An evaluation runs in the server process. A DataFrame is sent as a JSON table (its columns,
rows and dtypes); a dataset version is sent by reference. What cannot travel as JSON is refused
before anything is sent: a baseline that is not a strategy name, sensitive features that are
not column names, and ``trusted`` (the server never unpickles on a caller's word).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loopline.client.remote import RemoteTracking, _q
from loopline.client.remote_registry import RemoteRegistry
from loopline.entities import (
    Approval,
    DatasetVersion,
    Gate,
    GateReport,
    ModelVersion,
    ReleasePolicy,
    StoredEvaluation,
    Transition,
)
from loopline.errors import InvalidArgumentError
from loopline.modeling.logged import LoggedModel, load_logged_model
from loopline.registry.checks import DIGEST_RE, check_model_name, check_version
from loopline.release.checks import (
    check_actor,
    check_evaluated_uri,
    check_policy,
    check_release_alias,
)

__all__ = ["RemoteRelease"]

_ACTOR_HEADER = "X-Loopline-Actor"


def _model(name: str) -> str:
    return f"/api/models/{_q(check_model_name(name))}"


def _version(name: str, version: int) -> str:
    return f"{_model(name)}/versions/{check_version(version)}"


def _actor(actor: object, where: str) -> dict[str, str]:
    checked = check_actor(actor, where)
    return {_ACTOR_HEADER: checked} if checked.isascii() and checked.isprintable() else {}


def _not_remote(argument: str, constraint: str, value: object) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"Over REST, the {argument!r} parameter of ReleaseService.evaluate must be "
        f"{constraint}. Got {str(value)[:80]!r} instead.",
        field=argument,
    )


def _table(data: Any, argument: str) -> Any:
    """A DataFrame as a JSON table; a dataset version as its ``datasets:/`` reference."""
    if data is None or isinstance(data, str):
        return data
    if isinstance(data, DatasetVersion):
        return f"datasets:/{data.name}/{data.version}"
    if type(data).__name__ == "DataFrame" and hasattr(data, "to_json"):
        from loopline.release.tables import table_to_json

        return table_to_json(data)
    raise _not_remote(
        argument, "a pandas DataFrame, a DatasetVersion or a datasets:/<name>/<version> reference",
        type(data).__name__,
    )  # fmt: skip


def _features(value: Any) -> str | list[str] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return list(value)
    raise _not_remote("sensitive_features", "a column name or a list of column names", value)


def _label(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") and hasattr(value, "dtype") else value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise _not_remote("positive_label", "a string, a number or a boolean", value)


def _approval(data: Mapping[str, Any]) -> Approval:
    return Approval(**data)


def _evaluation(data: Mapping[str, Any]) -> StoredEvaluation:
    return StoredEvaluation(**data)


def _transition(data: Mapping[str, Any]) -> Transition:
    return Transition(**data)


class RemoteRelease:
    """Same methods as :class:`~loopline.release.service.ReleaseService`, served remotely.

    It shares the HTTP connection pool, the token and the error decoding of ``tracking``.
    """

    def __init__(self, tracking: RemoteTracking, registry: RemoteRegistry | None = None) -> None:
        self.tracking = tracking
        self.registry = registry if registry is not None else RemoteRegistry(tracking)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.tracking._call(method, path, **kwargs)

    def _post(self, path: str, body: Any, actor: str, where: str) -> Any:
        return self._call("POST", path, json=body, headers=_actor(actor, where))

    # -- policies ----------------------------------------------------------------------------

    def get_policy(self, name: str) -> ReleasePolicy:
        """The model's release policy (the defaults of :class:`ReleasePolicy` until one is set)."""
        return ReleasePolicy.from_dict(self._call("GET", f"{_model(name)}/policy"))

    def set_policy(
        self, name: str, policy: ReleasePolicy | Mapping[str, Any], *, actor: str
    ) -> ReleasePolicy:
        """Store the model's release policy (a :class:`ReleasePolicy` or its fields as a dict)."""
        policy = check_policy(policy)
        headers = _actor(actor, "set_policy")
        data = self._call("PUT", f"{_model(name)}/policy", json=policy.to_dict(), headers=headers)
        return ReleasePolicy.from_dict(data)

    # -- evaluations -------------------------------------------------------------------------

    def evaluate(
        self,
        model_uri: str,
        data: Any,
        *,
        target: str,
        baseline: Any = "auto",
        sensitive_features: Any = None,
        train_data: Any = None,
        threshold: float = 0.5,
        positive_label: Any = None,
        importance: bool = True,
        trusted: Any = False,
        actor: str,
    ) -> StoredEvaluation:
        """Evaluate a registered version in the server process; the stored result comes back."""
        headers = _actor(actor, "evaluate")
        if trusted is not False:
            raise _not_remote("trusted", "False (the server loads only what it can trust)", trusted)
        if not isinstance(baseline, str):
            raise _not_remote("baseline", "'auto' or a baseline strategy name", baseline)
        model_uri = check_evaluated_uri(model_uri)
        body = {
            "data": _table(data, "data"), "target": target, "baseline": baseline,
            "sensitive_features": _features(sensitive_features),
            "train_data": _table(train_data, "train_data"), "threshold": threshold,
            "positive_label": _label(positive_label), "importance": importance,
        }  # fmt: skip
        found = self.registry.resolve(model_uri)
        path = f"{_version(found.name, found.version)}/evaluations"
        return _evaluation(self._call("POST", path, json=body, headers=headers))

    def list_evaluations(self, name: str, version: int) -> list[StoredEvaluation]:
        """The version's stored evaluations, oldest first."""
        data = self._call("GET", f"{_version(name, version)}/evaluations")
        return [_evaluation(item) for item in data["evaluations"]]

    def get_evaluation(self, name: str, version: int) -> StoredEvaluation:
        """The version's latest evaluation (the one the gates read); NotFoundError if none."""
        return _evaluation(self._call("GET", f"{_version(name, version)}/evaluations/latest"))

    # -- gates and transitions ---------------------------------------------------------------

    def gates(self, name: str, version: int) -> GateReport:
        """The automatic gates of a version now, from its latest evaluation and the policy."""
        data = self._call("GET", f"{_version(name, version)}/gates")
        return GateReport(tuple(Gate(**gate) for gate in data["gates"]), data["evaluation_id"])

    def validate(
        self, name: str, version: int, *, actor: str, reason: str | None = None
    ) -> ModelVersion:
        """registered -> validated when every gate passes (else InvalidStateError naming them)."""
        path = f"{_version(name, version)}/validate"
        return ModelVersion.from_dict(self._post(path, {"reason": reason}, actor, "validate"))

    def request_approval(self, name: str, version: int, *, actor: str, reason: str) -> ModelVersion:
        """validated (or approved with void approvals) -> pending_approval."""
        path = f"{_version(name, version)}/request-approval"
        body = {"reason": reason}
        return ModelVersion.from_dict(self._post(path, body, actor, "request_approval"))

    def approve(self, name: str, version: int, *, actor: str, reason: str) -> Approval:
        """Approve a pending version (approver role; neither its registrant nor its author)."""
        body = {"decision": "approve", "reason": reason}
        return _approval(self._post(f"{_version(name, version)}/approvals", body, actor, "approve"))

    def reject(self, name: str, version: int, *, actor: str, reason: str) -> Approval:
        """Reject a pending version: it becomes rejected at once. Same duties as approve."""
        body = {"decision": "reject", "reason": reason}
        return _approval(self._post(f"{_version(name, version)}/approvals", body, actor, "reject"))

    def list_approvals(self, name: str, version: int) -> list[Approval]:
        """The version's decisions, oldest first, each marked valid or void (and why)."""
        data = self._call("GET", f"{_version(name, version)}/approvals")
        return [_approval(item) for item in data["approvals"]]

    # -- aliases -----------------------------------------------------------------------------

    def promote(
        self, name: str, version: int, *, alias: str = "champion", actor: str, reason: str
    ) -> ModelVersion:
        """Point a release alias at an approved version whose approvals are still valid."""
        path = f"{_version(name, version)}/promote"
        body = {"alias": alias, "reason": reason}
        return ModelVersion.from_dict(self._post(path, body, actor, "promote"))

    def rollback(
        self, name: str, *, alias: str = "champion", actor: str, reason: str
    ) -> ModelVersion:
        """Move ``alias`` back to the previous approved version that held it, in one call."""
        alias = check_release_alias(alias)
        path = f"{_model(name)}/aliases/{_q(alias)}/rollback"
        return ModelVersion.from_dict(self._post(path, {"reason": reason}, actor, "rollback"))

    def retire(self, name: str, version: int, *, actor: str, reason: str) -> ModelVersion:
        """Retire a version from any status; its release aliases are removed with it."""
        path = f"{_version(name, version)}/retire"
        return ModelVersion.from_dict(self._post(path, {"reason": reason}, actor, "retire"))

    def history(self, name: str, version: int) -> list[Transition]:
        """Every transition of the version, oldest first."""
        data = self._call("GET", f"{_version(name, version)}/history")
        return [_transition(item) for item in data["transitions"]]

    # -- trust -------------------------------------------------------------------------------

    def is_approved_digest(self, digest: str) -> bool:
        """Whether an approved version has this artifact digest (its pickles may be loaded)."""
        if not isinstance(digest, str) or DIGEST_RE.fullmatch(digest) is None:
            return False
        found = self.registry.search_model_versions(
            f"digest = '{digest}' AND status = 'approved'", max_results=1
        )
        return len(found) > 0

    def load_model(self, uri: str, *, trusted: Any = False) -> LoggedModel:
        """Load a model; pickles are trusted when its registered digest is an approved one.

        The files are downloaded and re-hashed here: bytes that do not match the registered
        digest are refused, whatever the server says.
        """
        if trusted is False and isinstance(uri, str) and uri.startswith("models:/"):
            trusted = self.is_approved_digest(self.registry.resolve(uri).digest)
        return load_logged_model(self.tracking, self.registry, uri, trusted=trusted)
