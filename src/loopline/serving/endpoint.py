"""One served name: its model runtime, optional policy, logger and challenger, and a kill switch.

An :class:`Endpoint` is what every route scores through. Its ``runtime`` reference is replaced
in one assignment when the alias it follows moves (:meth:`Endpoint.follow`), so a request that
already holds the old runtime finishes on it and the next one uses the new one; loading happens
on a worker thread, off the request path.

Seams for the other issue-5 pieces (see ``docs/serving.md``):

- ``source``: anything with ``resolve() -> (model name, version)`` (what to serve now) and
  ``load((name, version)) -> ModelRuntime``; :class:`RegistrySource` follows
  ``models:/name@alias``, :class:`DeploymentSource` a deployment (its model URI and its kill
  switch: a source with a ``kill_reason`` attribute sets the endpoint's after each resolve).
- ``policy``: a :class:`loopline.policies.DecisionPolicy` (anything with its ``decide(scores,
  inputs, request_keys=, classes=, labels=)`` returning rows through ``to_rows()``); without one
  every prediction carries ``decision: null``. A deployment's policy is attached and replaced
  when the deployment changes.
- ``logger``: anything with ``log(endpoint, runtime, batch, predictions) -> None``, called for
  every scored request of every route (:mod:`loopline.serving.pipeline`): on the event loop, or
  on a worker thread before the answer when it has ``blocking = True`` (durable);
  :class:`loopline.serving.sink.EventLogSink` appends to the event log. With ``sinks`` (an
  :class:`~loopline.serving.sink.EventLogs`) the logger follows the source's ``logging`` mode
  at every refresh.
- ``challenger`` (a :class:`~loopline.entities.Challenger`-like config: ``mode`` ``shadow`` or
  ``canary``, ``share``, ``sticky_key``) and ``challenger_runtime``: a shadow is scored and logged
  after every answer (any route), never returned; a canary answers a ``share`` of the requests
  (sticky by the ``sticky_key`` input field or header). A deployment sets both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from loopline.errors import InvalidArgumentError
from loopline.serving.batching import MicroBatcher
from loopline.serving.runtime import ModelRuntime, Scores

if TYPE_CHECKING:
    from loopline.deploy.service import DeploymentService
    from loopline.registry.service import RegistryService
    from loopline.release.service import ReleaseService

__all__ = [
    "DecisionHook",
    "DeploymentSource",
    "Endpoint",
    "Key",
    "ModelSource",
    "PredictionSink",
    "RegistrySource",
    "load_version",
]

log = logging.getLogger("loopline.serving")
_UNSET: Any = object()


Key = tuple[str, int]
"""What a source serves: ``(registered model name, version)``."""


class ModelSource(Protocol):
    def resolve(self) -> Key: ...

    def load(self, key: Key) -> ModelRuntime: ...


class DecisionHook(Protocol):
    def decide(
        self,
        scores: Any,
        inputs: Any = None,
        *,
        request_keys: Sequence[Any] | None = None,
        rng: Any = None,
        classes: Sequence[Any] | None = None,
        labels: Sequence[Any] | None = None,
    ) -> Any: ...


class PredictionSink(Protocol):
    def log(
        self, endpoint: str, runtime: ModelRuntime, batch: Any, predictions: list[dict[str, Any]]
    ) -> None: ...

    def close(self) -> None: ...


class RegistrySource:
    """Versions of a registered model named by a URI (``models:/name@alias``, ``/3``, ``/latest``).

    Loading goes through :meth:`ReleaseService.load_model`: tampered files are refused, and a
    pickle loads only when its digest belongs to an approved version (or ``trusted`` is given).
    """

    def __init__(
        self, registry: RegistryService, release: ReleaseService, uri: str, *, trusted: Any = False
    ) -> None:
        self.registry = registry
        self.release = release
        self.uri = uri
        self.trusted = trusted
        self.name = registry.resolve(uri).name

    def resolve(self) -> Key:
        return self.name, int(self.registry.resolve(self.uri).version)

    def load(self, key: Key) -> ModelRuntime:
        return load_version(self.registry, self.release, key, trusted=self.trusted)


def load_version(
    registry: RegistryService, release: ReleaseService, key: Key, *, trusted: Any = False
) -> ModelRuntime:
    """The runtime of a registered version (training means read from its profile, if any)."""
    from loopline.errors import LooplineError

    name, version = key
    logged = release.load_model(f"models:/{name}/{version}", trusted=trusted)
    means: dict[str, float] = {}
    try:
        profile = registry.training_profile(name, version).profile
        means = {c: s["mean"] for c, s in profile.items() if isinstance(s.get("mean"), float)}
    except (LooplineError, AttributeError):
        pass
    return ModelRuntime(logged, name=name, version=version, means=means)


class DeploymentSource:
    """The champion a deployment names now, and its kill switch (``kill_reason``)."""

    def __init__(
        self,
        deployments: DeploymentService,
        registry: RegistryService,
        release: ReleaseService,
        name: str,
        *,
        trusted: Any = False,
    ) -> None:
        self.deployments = deployments
        self.registry = registry
        self.release = release
        self.name = name
        self.trusted = trusted
        self.kill_reason: str | None = None
        self.logging = "off"
        self.policy_spec: dict[str, Any] | None = None
        self.challenger: Any = None
        self.challenger_key: Key | None = None

    def resolve(self) -> Key:
        from loopline.errors import InvalidStateError

        found = self.deployments.resolve(self.name)
        deployment = found.deployment
        self.logging = deployment.logging
        self.policy_spec = deployment.policy
        self.challenger = deployment.challenger
        version = found.challenger
        self.challenger_key = None if version is None else (version.name, int(version.version))
        self.kill_reason = (
            None
            if deployment.enabled
            else (deployment.kill_reason or f"Deployment {self.name!r} is disabled.")
        )
        if found.champion is None:
            why = found.errors.get("champion", "its model URI names no version")
            raise InvalidStateError(
                f"Deployment {self.name!r} ({deployment.model_uri}) has no model to serve: {why}",
                deployment=self.name,
            )
        return found.champion.name, int(found.champion.version)

    def load(self, key: Key) -> ModelRuntime:
        return load_version(self.registry, self.release, key, trusted=self.trusted)


class Endpoint:
    """A served name and what scores its requests.

    Args:
        name: the name in the URLs (``/v2/models/{name}``, ``/deployments/{name}``).
        runtime: the model to serve now (None while loading: not ready).
        source: where new versions come from (for :meth:`follow`); None: never swapped.
        max_batch_size, max_wait: micro-batching (see :class:`MicroBatcher`).
    """

    def __init__(
        self,
        name: str,
        runtime: ModelRuntime | None = None,
        *,
        source: ModelSource | None = None,
        policy: DecisionHook | None = None,
        logger: PredictionSink | None = None,
        challenger: Any = None,
        challenger_runtime: ModelRuntime | None = None,
        variant: str = "champion",
        max_batch_size: int = 64,
        max_wait: float = 0.001,
        sinks: Any = None,
    ) -> None:
        self.name = name
        self.runtime = runtime
        self.source = source
        self.policy = policy
        self.logger = logger
        self.challenger = challenger
        self.challenger_runtime = challenger_runtime
        self.variant = variant
        self.disabled: str | None = None
        self.batcher = MicroBatcher(max_batch_size=max_batch_size, max_wait=max_wait, name=name)
        self.swaps = 0
        self.shadowed = 0
        self.last_error: str | None = None
        self._policy_spec: Any = None
        #: Where a logging mode's sink comes from (an EventLogs): set, the endpoint follows its
        #: source's ``logging`` attribute (a deployment's mode) and owns no sink itself.
        self.sinks = sinks
        self.logging: str | None = None

    def __repr__(self) -> str:
        return f"Endpoint({self.name!r}, runtime={self.runtime!r})"

    @property
    def ready(self) -> bool:
        return self.runtime is not None and self.disabled is None

    def disable(self, reason: str) -> None:
        """Kill switch: every predict route answers 503 with ``reason``; model ready is false."""
        self.disabled = reason or "This endpoint is disabled."

    def enable(self) -> None:
        self.disabled = None

    async def score(self, runtime: ModelRuntime, batch: Any) -> Scores:
        """Scores of ``batch``; a model that refuses the input is an InvalidArgumentError."""
        try:
            return await self.batcher.score(runtime, batch)
        except (ValueError, TypeError) as exc:
            raise InvalidArgumentError(
                f"The model could not score the input: {exc}", field="data"
            ) from None

    def load_now(self) -> ModelRuntime:
        """Load the source's current version synchronously (start-up)."""
        assert self.source is not None
        key = self.source.resolve()
        self._sync_kill_switch()
        runtime = self.source.load(key)
        self.runtime = runtime
        wanted = self._challenger_wanted()
        if wanted is not None:
            self.challenger_runtime = self.source.load(wanted)
        return runtime

    def _challenger_wanted(self) -> Key | None:
        """The challenger version to load, when the source names one not loaded yet."""
        if getattr(self.source, "challenger_key", None) is None:
            self.challenger = None
            self.challenger_runtime = None
            return None
        self.challenger = getattr(self.source, "challenger", None)
        key: Key = self.source.challenger_key  # type: ignore[union-attr]
        current = self.challenger_runtime
        if current is not None and (current.name, current.version) == key:
            return None
        return key

    def _sync_kill_switch(self) -> None:
        """Take the source's kill switch, logging mode and policy (a deployment has them)."""
        reason = getattr(self.source, "kill_reason", _UNSET)
        if reason is not _UNSET:
            self.disabled = reason
        mode = getattr(self.source, "logging", None)
        if self.sinks is not None and isinstance(mode, str) and mode != self.logging:
            self.logger = self.sinks.sink(mode)
            self.logging = mode
        spec = getattr(self.source, "policy_spec", _UNSET)
        if spec is not _UNSET and spec != self._policy_spec:
            from loopline.policies import DecisionPolicy

            self.policy = DecisionPolicy.from_dict(spec) if spec else None
            self._policy_spec = spec

    async def refresh(self) -> bool:
        """Re-resolve the source; load and swap in a new version. True when it swapped."""
        if self.source is None:
            return False
        loop = asyncio.get_running_loop()
        key = await loop.run_in_executor(None, self.source.resolve)
        mode = getattr(self.source, "logging", None)
        if self.sinks is not None and isinstance(mode, str) and mode != self.logging:
            await loop.run_in_executor(None, self.sinks.sink, mode)  # opening one does I/O
        self._sync_kill_switch()
        wanted = self._challenger_wanted()
        if wanted is not None:
            self.challenger_runtime = await loop.run_in_executor(None, self.source.load, wanted)
        current = self.runtime
        if current is not None and (current.name, current.version) == key:
            return False
        runtime = await loop.run_in_executor(None, self.source.load, key)
        self.runtime = runtime  # one reference swap; in-flight requests keep the old runtime
        self.swaps += 1
        log.info("endpoint %s now serves %s", self.name, runtime.uri)
        return True

    async def follow(self, interval: float) -> None:
        """Refresh every ``interval`` seconds until cancelled; failures are logged, not fatal."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = str(exc)
                log.warning("endpoint %s: could not refresh its model: %s", self.name, exc)

    def close(self) -> None:
        self.batcher.close()
        if self.logger is not None and self.sinks is None:
            self.logger.close()
