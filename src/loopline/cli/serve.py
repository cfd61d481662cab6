"""``loopline serve [MODEL_URI]``: the inference server (V2 protocol, MLflow, loopline).

With a model URI it serves that one model ad hoc, under the registered model's name (in the V2
paths and as the deployment name of ``/deployments/{name}/predict``). Without one it serves every
deployment of the (local) store under its own name, following each deployment's model URI and
kill switch, and logging predictions to the event log as the deployment says.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
from typing import Annotated

import typer

from loopline.cli import UriOption, open_client, render

__all__ = ["serve"]


def serve(
    model_uri: Annotated[
        str | None,
        typer.Argument(
            metavar="MODEL_URI",
            help="models:/name@alias (followed: hot swap), models:/name/3 or models:/name/latest.",
            show_default=False,
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8081,
    uri: UriOption = None,
) -> None:
    """Serve models for inference: MODEL_URI ad hoc, else every deployment of the store.

    Protocols: Open Inference Protocol v2 (/v2/...), MLflow (/invocations) and
    /deployments/NAME/predict. See docs/serving.md.
    """
    # Start-up imports ~2,500 modules (the store, scikit-learn, skops, pyarrow): the cyclic GC
    # would scan them again and again for no garbage (~0.45 s). Collect once at the end and
    # freeze what start-up made, so later collections skip it too. scikit-learn and skops (the
    # sklearn flavor's loader) are imported first: measured ~0.25 s faster than after the store
    # (decision 44).
    gc.disable()
    try:
        if importlib.util.find_spec("skops") is not None:
            _warm_up_sklearn()
        from loopline.serving.server import adhoc_app, bind, deployments_app, uvicorn_server

        client = open_client(uri)
        if model_uri is None:
            app = deployments_app(client, client.settings)
        else:
            app = adhoc_app(client, model_uri, client.settings)
    finally:
        gc.enable()
    gc.collect()
    gc.freeze()
    sock = bind(host, port)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{sock.getsockname()[1]}"
    out = render.console()
    names = ", ".join(repr(name) for name in app.endpoints)
    out.print(f"serving {names} on {url}", soft_wrap=True)
    for endpoint in app.endpoints.values():
        what = endpoint.runtime.uri if endpoint.runtime is not None else "not ready"
        state = f" (disabled: {endpoint.disabled})" if endpoint.disabled else ""
        out.print(
            f"  {endpoint.name}: {what}{state}  V2: {url}/v2/models/{endpoint.name}/infer  "
            f"loopline: {url}/deployments/{endpoint.name}/predict",
            soft_wrap=True,
        )
    if model_uri is not None or len(app.endpoints) == 1:
        out.print(f"  MLflow: {url}/invocations", soft_wrap=True)
    out.print(f"  outcomes: {url}/outcomes", soft_wrap=True)
    if app.poll_interval > 0:
        out.print(f"  following changes every {app.poll_interval:g} s", soft_wrap=True)
    server = uvicorn_server(app)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled, after shutting down
        pass
    finally:
        sock.close()
    typer.echo("stopped")


# skops walks every sklearn package once (``all_estimators``), which imports scikit-learn's
# vendored ``sklearn.externals.array_api_compat.dask`` and with it dask.array (~0.25 s). Nothing
# served needs it and the walk skips a package whose import fails, so dask is hidden while it
# runs (the trusted-types list is the same: 208 names). Only dask: array_api_compat's checks
# look up "dask.array" (never set here); hiding torch this way breaks scipy's
# ``is_torch_array``, which reads ``sys.modules["torch"]``.
_ARRAY_LIBRARIES = ("dask",)


def _warm_up_sklearn() -> None:
    """Import scikit-learn and skops first, without the optional array libraries.

    Examples:
        >>> import sys
        >>> _warm_up_sklearn()
        >>> "skops.io" in sys.modules and sys.modules.get("dask", "unset") is not None
        True
    """
    import sys

    hidden = [name for name in _ARRAY_LIBRARIES if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import fails: ImportError
    try:
        for module in ("sklearn.base", "skops.io"):  # a warm-up, not a use: by name
            importlib.import_module(module)
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
