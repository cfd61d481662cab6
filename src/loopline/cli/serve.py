"""``loopline serve [MODEL_URI]``: the inference server (V2 protocol, MLflow, loopline).

With a model URI it serves that one model ad hoc, under the registered model's name (in the V2
paths and as the deployment name of ``/deployments/{name}/predict``). Without one it serves every
deployment of the store once deployments exist (issue 5); until then it says so and exits 1.
"""

from __future__ import annotations

from typing import Annotated

import typer

from loopline.cli import UriOption, open_client, render
from loopline.errors import InvalidArgumentError

__all__ = ["serve"]


def serve(
    model_uri: Annotated[
        str | None,
        typer.Argument(
            metavar="[MODEL_URI]",
            help="models:/name@alias (followed: hot swap), models:/name/3 or models:/name/latest.",
            show_default=False,
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8081,
    uri: UriOption = None,
) -> None:
    """Serve a registered model for inference (V2 /v2/models/..., MLflow /invocations)."""
    from loopline.serving.server import adhoc_app, bind, uvicorn_server

    if model_uri is None:
        raise InvalidArgumentError(
            "loopline serve needs a MODEL_URI (e.g. models:/churn@prod) until deployments land; "
            "serving every deployment of the store is not available yet.",
            field="model_uri",
        )
    client = open_client(uri)
    app = adhoc_app(client, model_uri, client.settings)
    endpoint = next(iter(app.endpoints.values()))
    sock = bind(host, port)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{sock.getsockname()[1]}"
    out = render.console()
    assert endpoint.runtime is not None
    out.print(f"serving {endpoint.runtime.uri} as {endpoint.name!r} on {url}", soft_wrap=True)
    out.print(
        f"  V2: {url}/v2/models/{endpoint.name}/infer   MLflow: {url}/invocations   "
        f"loopline: {url}/deployments/{endpoint.name}/predict",
        soft_wrap=True,
    )
    if app.poll_interval > 0:
        out.print(f"  following {model_uri} every {app.poll_interval:g} s", soft_wrap=True)
    server = uvicorn_server(app)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled, after shutting down
        pass
    finally:
        sock.close()
    typer.echo("stopped")
