"""``loopline serve [MODEL_URI]``: the inference server (V2 protocol, MLflow, loopline).

With a model URI it serves that one model ad hoc, under the registered model's name (in the V2
paths and as the deployment name of ``/deployments/{name}/predict``). Without one it serves every
deployment of the (local) store under its own name, following each deployment's model URI and
kill switch, and logging predictions to the event log as the deployment says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from loopline.cli import UriOption, open_client, render

if TYPE_CHECKING:
    from loopline.serving.app import ServingApp

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
    from loopline.serving.startup import prepared

    def build() -> ServingApp:
        from loopline.serving.server import adhoc_app, deployments_app

        client = open_client(uri)
        if model_uri is None:
            return deployments_app(client, client.settings)
        return adhoc_app(client, model_uri, client.settings)

    app = prepared(build)
    from loopline.serving.server import bind, uvicorn_server

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
