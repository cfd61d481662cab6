"""One served name: its model runtime, optional policy, logger and challenger, and a kill switch.

An :class:`Endpoint` is what every route scores through. Its ``runtime`` reference is replaced
in one assignment when the alias it follows moves (:meth:`Endpoint.follow`), so a request that
already holds the old runtime finishes on it and the next one uses the new one; loading happens
on a worker thread, off the request path.

Seams for the other issue-5 pieces (see ``docs/serving.md``):

- ``source``: anything with ``resolve() -> int`` (the version to serve now) and
  ``load(version) -> ModelRuntime``; :class:`RegistrySource` follows ``models:/name@alias``.
  A deployment service can provide its own.
- ``policy``: anything with ``decide(prediction: dict) -> dict`` (the decision); ``None`` until a
  policy is attached, and then every prediction carries ``decision: null``.
- ``logger``: anything with ``log(records: list[dict]) -> None`` that must not block (it is
  called on the event loop after each request).
- ``challenger``: another :class:`Endpoint` scored with the same input (``variant``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from loopline.errors import InvalidArgumentError
from loopline.serving.batching import MicroBatcher
from loopline.serving.runtime import ModelRuntime, Scores

if TYPE_CHECKING:
    from loopline.registry.service import RegistryService
    from loopline.release.service import ReleaseService

__all__ = ["DecisionHook", "Endpoint", "ModelSource", "PredictionSink", "RegistrySource"]

log = logging.getLogger("loopline.serving")


class ModelSource(Protocol):
    def resolve(self) -> int: ...

    def load(self, version: int) -> ModelRuntime: ...


class DecisionHook(Protocol):
    def decide(self, prediction: Mapping[str, Any]) -> Mapping[str, Any]: ...


class PredictionSink(Protocol):
    def log(self, records: list[dict[str, Any]]) -> None: ...


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

    def resolve(self) -> int:
        return int(self.registry.resolve(self.uri).version)

    def load(self, version: int) -> ModelRuntime:
        from loopline.errors import LooplineError

        uri = f"models:/{self.name}/{version}"
        logged = self.release.load_model(uri, trusted=self.trusted)
        means: dict[str, float] = {}
        try:
            profile = self.registry.training_profile(self.name, version).profile
            means = {c: s["mean"] for c, s in profile.items() if isinstance(s.get("mean"), float)}
        except (LooplineError, AttributeError):
            pass
        return ModelRuntime(logged, name=self.name, version=version, means=means)


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
        challenger: Endpoint | None = None,
        variant: str = "champion",
        max_batch_size: int = 64,
        max_wait: float = 0.001,
    ) -> None:
        self.name = name
        self.runtime = runtime
        self.source = source
        self.policy = policy
        self.logger = logger
        self.challenger = challenger
        self.variant = variant
        self.disabled: str | None = None
        self.batcher = MicroBatcher(max_batch_size=max_batch_size, max_wait=max_wait, name=name)
        self.swaps = 0
        self.last_error: str | None = None

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
        runtime = self.source.load(self.source.resolve())
        self.runtime = runtime
        return runtime

    async def refresh(self) -> bool:
        """Re-resolve the source; load and swap in a new version. True when it swapped."""
        if self.source is None:
            return False
        loop = asyncio.get_running_loop()
        version = await loop.run_in_executor(None, self.source.resolve)
        current = self.runtime
        if current is not None and current.version == version:
            return False
        runtime = await loop.run_in_executor(None, self.source.load, version)
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
