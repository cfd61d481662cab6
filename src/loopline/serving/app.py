"""The serving app: a raw ASGI application with hand-written routing.

No framework sits between uvicorn and the handlers: a FastAPI route costs more per request
(dependency resolution, validation, response classes) than the whole budget of a 1-row
prediction here (decision 'Serving: a raw ASGI app'). Routes:

- Open Inference Protocol v2: ``/v2/health/live``, ``/v2/health/ready``, ``/v2``,
  ``/v2/models/{name}[/versions/{v}]``, ``.../ready``, ``.../infer``.
- MLflow: ``POST /invocations``, ``GET /ping``, ``/health``, ``/version``.
- loopline: ``POST /deployments/{name}/predict``, ``POST /outcomes``.

Every scoring route goes through :func:`loopline.serving.pipeline.run`: canary or champion,
micro-batched scoring, the deployment's policy, prediction logging (durable: fsynced before the
answer), the shadow after the answer.
- ``GET /openapi.json``: a hand-written OpenAPI document of the above.

Errors are ``{"error": "<message>"}`` with a 4xx status (MLflow's ``/invocations`` answers
MLflow's ``{"error_code", "message"}``); a failure of loopline itself is a 500 with a generic
message, logged with its traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from loopline import __version__
from loopline.errors import LooplineError
from loopline.serving import mlflow, pipeline, predict, v2, v2_binary
from loopline.serving.endpoint import Endpoint
from loopline.serving.http import Answer, HttpError, dumps, error, loads, ok
from loopline.serving.outcomes import decode_outcomes
from loopline.serving.runtime import ModelRuntime
from loopline.serving.sink import EventLogs
from loopline.wire import STATUS_BY_CODE

__all__ = ["ServingApp", "create_serving_app"]

log = logging.getLogger("loopline.serving")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_MODELS = "/v2/models/"
_MAX_BODY = 64 * 1024 * 1024
_ID_HEADER = b"x-loopline-prediction-ids"
_ID_HEADER_ROWS = 100


class ServingApp:
    """Serves a set of :class:`Endpoint` objects by name.

    Args:
        endpoints: the served names.
        poll_interval: seconds between re-resolutions of each endpoint's source (hot swap);
            0 turns following off.
        eventlogs: the event log's writers (endpoint sinks, ``POST /outcomes``); None: no
            ``/outcomes`` route.
    """

    def __init__(
        self,
        endpoints: Iterable[Endpoint],
        *,
        poll_interval: float = 1.0,
        eventlogs: EventLogs | None = None,
    ) -> None:
        self.endpoints: dict[str, Endpoint] = {e.name: e for e in endpoints}
        self.poll_interval = poll_interval
        self.eventlogs = eventlogs
        self._tasks: list[asyncio.Task[None]] = []
        self._shadows: set[asyncio.Task[None]] = set()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start following every endpoint's source (called at ASGI lifespan start-up)."""
        if self.poll_interval <= 0 or self._tasks:
            return
        for endpoint in self.endpoints.values():
            if endpoint.source is not None:
                task = asyncio.get_running_loop().create_task(
                    endpoint.follow(self.poll_interval), name=f"loopline-follow-{endpoint.name}"
                )
                self._tasks.append(task)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._shadows:
            await asyncio.gather(*self._shadows, return_exceptions=True)
        for endpoint in self.endpoints.values():
            endpoint.close()
        if self.eventlogs is not None:
            self.eventlogs.close()

    @property
    def ready(self) -> bool:
        return all(e.runtime is not None for e in self.endpoints.values())

    # -- ASGI -----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        try:
            if method == "POST":
                body = await _read_body(receive)
                answer = await self._post(scope, path, body)
            elif method in ("GET", "HEAD"):
                answer = self._get(path)
            else:
                answer = error(405, f"Method {method} is not allowed on {path}.")
        except HttpError as exc:
            body_doc = exc.body if exc.body is not None else {"error": exc.message}
            content = body_doc if isinstance(body_doc, bytes) else dumps(body_doc)
            answer = Answer(exc.status, content, exc.content_type)
        except LooplineError as exc:  # as the REST API answers it (storage failing: 503)
            answer = error(STATUS_BY_CODE.get(exc.code, 400), exc.message)
        except Exception:
            log.exception("serving: %s %s failed", method, path)
            answer = error(500, "The server failed to answer this request; see its log.")
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [
                    (b"content-type", answer.content_type),
                    (b"content-length", str(len(answer.body)).encode()),
                    *answer.headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else answer.body})

    # -- GET ------------------------------------------------------------------------------------

    def _get(self, path: str) -> Answer:
        if path.startswith(_MODELS):
            name, version, action = _model_path(path)
            endpoint = self._endpoint(name, version, action == "ready")
            runtime = endpoint.runtime
            assert runtime is not None
            if action == "ready":
                return ok({"name": endpoint.name, "ready": True})
            if action is None:
                return ok(v2.model_metadata(endpoint, runtime))
            raise HttpError(405, f"Use POST for {path}.")
        if path in ("/v2/health/live",):
            return ok({"live": True})
        if path == "/v2/health/ready":
            return ok({"ready": True}) if self.ready else error_ready()
        if path in ("/v2", "/v2/"):
            return ok(
                {"name": "loopline", "version": __version__, "extensions": ["binary_tensor_data"]}
            )
        if path in ("/ping", "/health"):
            return Answer(200, b"\n") if self.ready else Answer(404, b"\n")
        if path == "/version":
            return Answer(200, __version__.encode(), b"text/plain; charset=utf-8")
        if path == "/openapi.json":
            from loopline.serving.openapi import document

            return ok(document())
        if path in ("/invocations", "/outcomes") or path.startswith("/deployments/"):
            raise HttpError(405, f"Use POST for {path}.")
        raise HttpError(404, f"There is no route {path}.")

    def _endpoint(self, name: str, version: str | None, for_ready: bool = False) -> Endpoint:
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise HttpError(
                404, f"Model {name!r} is not served here (serving {sorted(self.endpoints)[:10]})."
            )
        runtime = endpoint.runtime
        if runtime is None:
            raise HttpError(503 if not for_ready else 400, f"Model {name!r} is still loading.")
        if version is not None and version != str(runtime.version):
            raise HttpError(
                404,
                f"Version {version!r} of model {name!r} is not served; it serves "
                f"version {runtime.version}.",
            )
        if endpoint.disabled is not None:
            raise HttpError(503 if not for_ready else 400, endpoint.disabled)
        return endpoint

    def _single(self, *, mlflow_style: bool = True) -> Endpoint:
        if len(self.endpoints) != 1:
            message = (
                f"This server serves {len(self.endpoints)} models; /invocations needs exactly "
                "one. Use /v2/models/{name}/infer or /deployments/{name}/predict."
            )
            raise mlflow.bad_request(message) if mlflow_style else HttpError(400, message)
        return next(iter(self.endpoints.values()))

    # -- POST -----------------------------------------------------------------------------------

    async def _post(self, scope: Scope, path: str, body: bytes) -> Answer:
        if path.startswith(_MODELS):
            name, version, action = _model_path(path)
            if action != "infer":
                raise HttpError(405, f"Use GET for {path}.")
            return await self._infer(name, version, body, scope)
        if path == "/invocations":
            return await self._invocations(scope, body)
        if path.startswith("/deployments/") and path.endswith("/predict"):
            name = path[len("/deployments/") : -len("/predict")]
            return await self._predict(name, body, scope)
        if path == "/outcomes":
            return await self._outcomes(body)
        if path in ("/v2/health/live", "/v2/health/ready", "/v2", "/ping", "/health", "/version"):
            raise HttpError(405, f"Use GET for {path}.")
        raise HttpError(404, f"There is no route {path}.")

    async def _infer(self, name: str, version: str | None, body: bytes, scope: Scope) -> Answer:
        endpoint = self._endpoint(name, version)
        document = v2_binary.read_request(body, _header(scope, v2_binary.HEADER))
        wanted: list[list[str] | None] = []

        def decode(runtime: ModelRuntime) -> pipeline.Decoded:
            decoded, outputs = v2.decode_infer(runtime, document)
            if not wanted:
                wanted.append(outputs)
            return decoded

        asked = document.get("outputs") if isinstance(document, dict) else None
        ids = isinstance(asked, list) and any(
            isinstance(o, dict) and o.get("name") == "prediction_id" for o in asked
        )
        scored = await pipeline.run(
            endpoint, decode, document, scope["headers"], shadows=self._shadows, want_rows=ids
        )
        return v2_binary.answer(v2.encode_infer(endpoint, scored, wanted[0], document), document)

    async def _invocations(self, scope: Scope, body: bytes) -> Answer:
        endpoint = self._single()
        if endpoint.runtime is None:
            raise HttpError(
                503,
                "The model is still loading.",
                body={
                    "error_code": "TEMPORARILY_UNAVAILABLE",
                    "message": "The model is still loading.",
                },
            )
        if endpoint.disabled is not None:
            raise HttpError(
                503,
                endpoint.disabled,
                body={"error_code": "TEMPORARILY_UNAVAILABLE", "message": endpoint.disabled},
            )
        content_type = _header_text(scope, b"content-type")
        query = scope.get("query_string", b"").decode("latin-1")
        asked: list[bool] = []
        parsed: Any = None  # a JSON body is parsed once, for every runtime that scores it
        if content_type is not None and "json" in content_type.lower():
            with contextlib.suppress(HttpError):  # decode_invocations reports it
                parsed = loads(body)
        sticky = getattr(endpoint.challenger, "sticky_key", None)
        document = parsed if sticky else None  # for the canary's sticky key only

        def decode(runtime: ModelRuntime) -> pipeline.Decoded:
            try:
                decoded, proba = mlflow.decode_invocations(
                    runtime, content_type, body, query, document=parsed
                )
            except LooplineError as exc:
                raise mlflow.bad_request(exc.message) from None
            if not asked:
                asked.append(proba)
            return decoded

        try:
            scored = await pipeline.run(
                endpoint, decode, document, scope["headers"], shadows=self._shadows
            )
        except LooplineError as exc:
            if exc.code == "STORAGE_ERROR":
                raise
            raise mlflow.bad_request(exc.message) from None
        answer = ok(mlflow.encode_invocations(scored.scores, asked[0]))
        if scored.ids is not None and len(scored.ids) <= _ID_HEADER_ROWS:
            answer.headers = ((_ID_HEADER, ",".join(scored.ids).encode()),)
        return answer

    async def _predict(self, name: str, body: bytes, scope: Scope) -> Answer:
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise HttpError(
                404,
                f"Deployment {name!r} is not served here (serving {sorted(self.endpoints)[:10]}).",
            )
        endpoint = self._endpoint(name, None)
        document = loads(body)
        explainer = document.get("explainer", "builtin") if isinstance(document, dict) else None
        if explainer not in (None, "builtin", "shap"):
            raise HttpError(400, f"'explainer' must be 'builtin' or 'shap'; got {explainer!r}.")
        explain: list[bool] = []

        def decode(runtime: ModelRuntime) -> pipeline.Decoded:
            decoded, wants = predict.decode_predict(runtime, document)
            if not explain:
                explain.append(wants)
            return decoded

        scored = await pipeline.run(
            endpoint, decode, document, scope["headers"], want_rows=True,
            shadows=self._shadows,
        )  # fmt: skip
        explanations = None
        if explain[0]:
            explanations = _explain(scored.runtime, scored.decoded.batch, explainer or "builtin")
        return ok(predict.encode_predict(endpoint, scored, explanations))

    async def _outcomes(self, body: bytes) -> Answer:
        if self.eventlogs is None:
            raise HttpError(404, "This server keeps no event log; POST /outcomes is not served.")
        rows = decode_outcomes(loads(body))
        loop = asyncio.get_running_loop()
        logged = await loop.run_in_executor(None, self.eventlogs.log_outcomes, rows)
        return ok({"logged": logged})


def _explain(runtime: Any, batch: Any, explainer: str = "builtin") -> list[dict[str, Any]]:
    from loopline.serving.explain import explain

    if not runtime.numeric:
        raise HttpError(400, "Explanations need a model whose inputs are all numeric.")
    # a missing optional extra (shap) answers 501, as every LooplineError: wire.STATUS_BY_CODE
    return explain(runtime.estimator, batch, runtime.columns, runtime.means,
                   explainer=explainer)  # fmt: skip


def error_ready() -> Answer:
    return Answer(503, dumps({"ready": False}))


def _model_path(path: str) -> tuple[str, str | None, str | None]:
    """``(name, version, action)`` of ``/v2/models/{name}[/versions/{v}][/ready|/infer]``.

    Examples:
        >>> _model_path("/v2/models/team/churn/versions/3/infer")
        ('team/churn', '3', 'infer')
        >>> _model_path("/v2/models/churn")
        ('churn', None, None)
    """
    rest = path[len(_MODELS) :]
    action = None
    for suffix in ("/ready", "/infer"):
        if rest.endswith(suffix):
            rest, action = rest[: -len(suffix)], suffix[1:]
            break
    version = None
    head, marker, tail = rest.rpartition("/versions/")
    if marker and tail and "/" not in tail:
        rest, version = head, tail
    if not rest:
        raise HttpError(404, f"There is no route {path}.")
    return rest, version, action


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _header_text(scope: Scope, name: bytes) -> str | None:
    value = _header(scope, name)
    return value.decode("latin-1") if value is not None else None


async def _read_body(receive: Receive) -> bytes:
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body", False):
        return bytes(body)
    parts = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            raise HttpError(413, f"The request body is larger than {_MAX_BODY} bytes.")
        parts.append(chunk)
    return b"".join(parts)


def create_serving_app(
    endpoints: Iterable[Endpoint], *, poll_interval: float = 1.0, eventlogs: EventLogs | None = None
) -> ServingApp:
    """The ASGI app serving ``endpoints`` (see :class:`ServingApp`)."""
    return ServingApp(endpoints, poll_interval=poll_interval, eventlogs=eventlogs)
